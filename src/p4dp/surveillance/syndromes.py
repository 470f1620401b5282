"""Syndromes under surveillance, defined from ICPC-2 (CISP-2) codes of the problem table.

A problem is a case of a syndrome when its **result** (diagnosis) code, or its **reason for
encounter** (motif) code, is one of the syndrome's codes — whoever gave the code: the GP in the EHR
(`source`) or the platform's coder from the free text (`auto`). Where the ICPC-2 rubric is broader
than the syndrome (Lyme disease is one inclusion of A78 "other infectious disease"; COVID-19 has no
rubric and the coder files it under R83, see `p4dp/terminology/data/README.md`), the coded field's
text must also match `text_pattern` (scrubbed free text, lower-cased). Age limits are in completed
months at the encounter.

One case = one patient per syndrome and ISO week: several problems or encounters of the same
patient in the same week for the same syndrome count once (the Réseau Sentinelles counts patients
seen for the syndrome, not consultations).

Sources: ICPC-2e titles, inclusions and criteria (WONCA, `p4dp/terminology/data/
icpc2e_en_uk_icd10.json`); the case definitions of the Réseau Sentinelles (sentiweb.fr: syndrome
grippal — fièvre brutale > 39 °C avec myalgies et signes respiratoires; infection respiratoire
aiguë since 2020; diarrhée aiguë — au moins 3 selles liquides ou molles par jour depuis moins de 14
jours; varicelle; zona; oreillons; borréliose de Lyme) and Santé publique France's bronchiolitis
surveillance (children under 2). Each definition names its own rubric choice below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
import ibis
import ibis.expr.types as ir

from p4dp.analytics.codes import icpc2_codes


@dataclass(frozen=True)
class Syndrome:
    key: str
    label_fr: str
    result_codes: tuple[str, ...]
    reason_codes: tuple[str, ...]
    #: Where the definition comes from, in French (shown in the bulletin).
    source: str
    #: Regular expression the coded field's text must contain (lower-cased), for broad rubrics.
    text_pattern: str | None = None
    #: Cases (and the denominator) restricted to patients younger than this many months.
    age_max_months: int | None = None

    def __post_init__(self) -> None:
        icpc2_codes(*self.result_codes, *self.reason_codes)
        if not self.result_codes and not self.reason_codes:
            raise ValueError(f"syndrome {self.key}: no code")
        if self.text_pattern is not None:
            re.compile(self.text_pattern)

    @property
    def population(self) -> str:
        """Key of the denominator population: everyone, or the age group of the syndrome."""
        return "all" if self.age_max_months is None else f"under_{self.age_max_months}m"

    def matches(self, p: ir.Table) -> ir.BooleanValue:
        """Whether a problem row is a case (before the age limit, which needs the patient)."""
        def field(code: ir.StringValue, text: ir.StringValue, codes: tuple[str, ...]):
            if not codes:
                return ibis.literal(False)
            cond = code.isin(codes)
            if self.text_pattern is not None:
                cond = cond & text.lower().re_search(self.text_pattern).fill_null(False)
            return cond
        return (field(p.result_code, p.result_text, self.result_codes)
                | field(p.reason_code, p.reason_text, self.reason_codes))


#: Months in the bronchiolitis age limit: Santé publique France's bronchiolitis surveillance
#: counts children under 2 years (HAS 2019 recommendation on bronchiolitis: infants < 12 months
#: for the guideline, < 2 years for surveillance).
BRONCHIOLITIS_AGE_MAX_MONTHS = 24

SYNDROMES: dict[str, Syndrome] = {s.key: s for s in (
    Syndrome("grippe", "Syndrome grippal", ("R80",), ("R80",),
             "CISP-2 R80 Grippe (inclusion : syndrome grippal) ; Réseau Sentinelles, syndrome "
             "grippal (fièvre brutale > 39 °C, myalgies, signes respiratoires)."),
    Syndrome("ira", "Infection respiratoire aiguë", ("R74", "R75", "R76", "R77", "R78", "R80",
                                                      "R81"), ("R80",),
             "Rubriques CISP-2 des infections respiratoires aiguës (R74 voies respiratoires "
             "supérieures, R75 sinusite, R76 angine, R77 laryngite, R78 bronchite/bronchiolite, "
             "R80 grippe, R81 pneumonie), choix P4DP ; Réseau Sentinelles, infection "
             "respiratoire aiguë (depuis 2020 : fièvre ou sensation de fièvre brutale et signes "
             "respiratoires)."),
    Syndrome("diarrhee", "Diarrhée aiguë", ("D11", "D70", "D73"), ("D73",),
             "CISP-2 D73 Gastro-entérite présumée infectieuse, D70 Infection gastro-intestinale, "
             "D11 Diarrhée (en résultat : sans autre diagnostic) ; Réseau Sentinelles, diarrhée "
             "aiguë (au moins 3 selles liquides ou molles par jour depuis moins de 14 jours)."),
    Syndrome("varicelle", "Varicelle", ("A72",), ("A72",),
             "CISP-2 A72 Varicelle ; Réseau Sentinelles, varicelle."),
    Syndrome("bronchiolite", "Bronchiolite (moins de 2 ans)", ("R78",), ("R78",),
             "CISP-2 R78 Bronchite aiguë, bronchiolite (critère : bronchiolite chez le nourrisson) "
             "chez l'enfant de moins de 2 ans ; Santé publique France, surveillance de la "
             "bronchiolite.",
             age_max_months=BRONCHIOLITIS_AGE_MAX_MONTHS),
    Syndrome("covid", "COVID-19", ("R83",), ("R83",),
             "Pas de rubrique CISP-2 : le codage P4DP classe la COVID-19 en R83 (comme l'extension "
             "néerlandaise R83.03), d'où R83 avec covid, sars-cov ou coronavirus dans le texte "
             "codé.",
             text_pattern=r"covid|sars.?cov|coronavirus"),
    Syndrome("lyme", "Borréliose de Lyme", ("A78",), ("A78",),
             "CISP-2 A78 Autre maladie infectieuse NCA (inclusion : maladie de Lyme) avec Lyme, "
             "borréliose ou érythème migrant dans le texte codé ; Réseau Sentinelles, "
             "borréliose de Lyme.",
             text_pattern=r"lyme|borr[eé]li|[eé]ryth[eè]me (chronique )?migrant"),
    Syndrome("gale", "Gale", ("S72",), ("S72",),
             "CISP-2 S72 Gale, autre acariase."),
    Syndrome("zona", "Zona", ("S70",), ("S70",),
             "CISP-2 S70 Zona ; Réseau Sentinelles, zona."),
    Syndrome("oreillons", "Oreillons", ("D71",), ("D71",),
             "CISP-2 D71 Oreillons ; Réseau Sentinelles, oreillons."),
    Syndrome("coqueluche", "Coqueluche", ("R71",), ("R71",),
             "CISP-2 R71 Coqueluche."),
)}


def get(key: str) -> Syndrome:
    try:
        return SYNDROMES[key]
    except KeyError:
        raise ValueError(f"syndrome inconnu : {key!r}. Syndromes : "
                         f"{', '.join(SYNDROMES)}") from None


def any_code(p: ir.Table) -> ir.BooleanValue:
    """A cheap pre-filter: the problem carries one of the codes of some syndrome."""
    results = sorted({c for s in SYNDROMES.values() for c in s.result_codes})
    reasons = sorted({c for s in SYNDROMES.values() for c in s.reason_codes})
    return p.result_code.isin(results) | p.reason_code.isin(reasons)
