"""Motifs — "Top 20 des diagnostics : personnel" beside "ensemble de la base" (DOMAIN.md §1),
and the same for reasons for encounter, with CISP-2 French titles."""

from __future__ import annotations

from functools import lru_cache

from p4dp.analytics.library import frames as F
from p4dp.analytics.model import Indicator, Measure

THEME = "motifs"
#: The seed's dashboards rank the 20 most frequent codes.
TOP_N = 20
SOURCE = ("Séminaire P4DP, onglet Motifs (DOMAIN.md §1); titres CISP-2 : "
          "p4dp.terminology.icpc2 (ICPC-2 © WONCA)")


@lru_cache(maxsize=4096)
def cisp2_label(code: object) -> object:
    """"R74 - Infection aiguë des voies respiratoires supérieures"; "_ - Pas de code attribué".

    Falls back to the bare code when the terminology is unavailable or the code unknown, so that a
    new code never breaks a dashboard.
    """
    if code is None:
        return None
    try:
        from p4dp.terminology.icpc2 import title_fr

        return f"{code} - {title_fr(str(code))}"
    except (ImportError, KeyError, FileNotFoundError):
        return str(code)


def _top(name: str, field: str, what: str, base: bool) -> Indicator:
    who = "ensemble de la base" if base else "personnel"
    return Indicator(
        name=name, theme=THEME, title_fr=f"Top {TOP_N} des {what} : {who}",
        description=(f"The {TOP_N} most frequent ICPC-2 {field} codes of problems "
                     + ("in the whole base (the scope is ignored; other filters apply)."
                        if base else "recorded by the GP of the scope (their own problems).")),
        rule=(f"Problems counted once each, grouped by `{field}_code`; a missing code is the "
              "row `_ - Pas de code attribué`. Ranked by count, ties by code."),
        source=SOURCE, frame=F.PROBLEMS,
        measures=(Measure("n", "Nombre", "count"),),
        by=(f"{field}_code",), top=TOP_N, rank_by="n",
        scope_policy="base" if base else "practitioner",
        labels=((f"{field}_code", cisp2_label),),
        column_labels_fr=((f"{field}_code", "CISP-2"),),
    )


INDICATORS = (
    _top("motifs_top_diagnoses_personal", "result", "diagnostics", base=False),
    _top("motifs_top_diagnoses_base", "result", "diagnostics", base=True),
    _top("motifs_top_reasons_personal", "reason", "motifs de recours", base=False),
    _top("motifs_top_reasons_base", "reason", "motifs de recours", base=True),
)
