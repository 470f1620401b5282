"""Sentinelle — the GP's activity report with sentinel-type indicators: weekly cases of the
syndromes the Réseau Sentinelles follows, seen by the GP, beside the whole network."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from p4dp.analytics.compile import Warehouse
from p4dp.analytics.library import frames as F
from p4dp.analytics.model import Dim, Frame, Indicator, Measure, Period

THEME = "sentinelle"
#: Syndromes followed by the Réseau Sentinelles (sentiweb.fr) and the ICPC-2 result code that
#: records each in general practice: R80 influenza (influenza-like illness), D73 presumed
#: infectious gastroenteritis, A72 chickenpox, S70 herpes zoster. Mapping: P4DP choice from the
#: ICPC-2e titles.
SENTINEL_SYNDROMES: dict[str, tuple[str, ...]] = {
    "Syndrome grippal": ("R80",),
    "Diarrhée aiguë": ("D73",),
    "Varicelle": ("A72",),
    "Zona": ("S70",),
}
SOURCE = "Réseau Sentinelles (Inserm / Sorbonne Université), indicateurs surveillés; ICPC-2"


def _cases(wh: Warehouse, period: Period) -> ir.Table:
    p = wh.table("problem")
    branches = [(p.result_code.isin(codes), name) for name, codes in SENTINEL_SYNDROMES.items()]
    p = p.mutate(syndrome=ibis.cases(*branches, else_=ibis.null("string")))
    p = p.filter(p.syndrome.notnull())
    return p.select(*F.partition(wh), "patient_id", "practitioner_id", "date", "syndrome")


CASES = Frame("sentinel_cases", "Problems whose result code is a sentinel syndrome, one row each "
              "(a case).", _cases, mart="mart_frame_sentinel_cases")


def _weekly(name: str, base: bool) -> Indicator:
    who = "ensemble du réseau" if base else "personnel"
    return Indicator(
        name=name, theme=THEME, title_fr=f"Rapport d'activité « sentinelle » : {who}",
        description="Weekly cases of each sentinel syndrome "
                    + ("in the whole network." if base else "seen by the GP."),
        rule="Problems whose result code maps to a syndrome (R80, D73, A72, S70), grouped by "
             "ISO week of the encounter and syndrome.",
        source=SOURCE, frame=CASES, by=(Dim.WEEK, "syndrome"),
        scope_policy="base" if base else "practitioner",
        measures=(Measure("cases", "Cas", "count"), Measure("patients", "Patients", "patients")),
        column_labels_fr=(("syndrome", "Syndrome"),))


INDICATORS = (
    _weekly("sentinelle_weekly_personal", base=False),
    _weekly("sentinelle_weekly_network", base=True),
)
