"""Polymédication — patients 75 and over with ≥ 5 (polymedication) or ≥ 10 (excessive) distinct
ATC level-5 substances, counted **cumulatively over the 3 months** before the reference date
(DOMAIN.md §3 asks to say which of simultaneous / cumulative / continuous is used)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from p4dp.analytics import portable as P
from p4dp.analytics.compile import Warehouse, alive_patients, reference_date
from p4dp.analytics.model import Dim, Frame, Indicator, Measure, Period

THEME = "polymedication"
#: Population: patients aged 75 and over (DOMAIN.md §3).
AGE_MIN = 75
#: Cumulative count over 3 months (≈ 91 days) before the reference date.
WINDOW_DAYS = 91
#: ≥ 5 distinct substances = polymedication, ≥ 10 = excessive polymedication (DOMAIN.md §3).
POLY_MIN, EXCESSIVE_MIN = 5, 10
#: An ATC level-5 code (chemical substance) has 7 characters, e.g. C10AA05.
ATC5_LENGTH = 7
SOURCE = "DOMAIN.md §3 (polymédication ≥ 5, excessive ≥ 10 substances ATC-5, ≥ 75 ans)"


def substances(wh: Warehouse, period: Period) -> ir.Table:
    ref = reference_date(period)
    rx = wh.table("prescription")
    start = ref - ibis.interval(days=WINDOW_DAYS)
    rx = rx.filter((rx.date > start) & (rx.date <= ref) & (rx.atc.length() == ATC5_LENGTH))
    per = rx.group_by("patient_id").aggregate(n_substances=rx.atc.upper().nunique())
    p = alive_patients(wh, ref)
    p = p.filter(P.age_at(p.birth_year, p.birth_month, ref) >= AGE_MIN).select("patient_id")
    t = p.inner_join(per, "patient_id")
    return t.select("patient_id", "n_substances", date=ref,
                    poly=t.n_substances >= POLY_MIN, excessive=t.n_substances >= EXCESSIVE_MIN)


SUBSTANCES = Frame(
    "polymedication",
    f"One row per living patient ≥ {AGE_MIN} with at least one ATC-5 prescription in the "
    f"{WINDOW_DAYS} days up to the reference date (end of the date range, else today): number "
    "of distinct ATC-5 substances prescribed in that window.",
    substances, materialize=True,
)

_MEASURES = (
    Measure("patients", "Patients ≥ 75 ans traités", "patients"),
    Measure("poly", "≥ 5 substances", "patients", where="poly"),
    Measure("excessive", "≥ 10 substances", "patients", where="excessive"),
    Measure("pct_poly", "% polymédication", "share", numerator="poly", denominator="patients"),
    Measure("pct_excessive", "% polymédication excessive", "share", numerator="excessive",
            denominator="patients"),
    Measure("median_substances", "Nombre médian de substances", "median",
            column="n_substances", digits=1),
)
_RULE = (f"Distinct ATC level-5 codes prescribed in the {WINDOW_DAYS} days up to the reference "
         "date (cumulative method); denominator: patients ≥ 75 with at least one such "
         "prescription.")

INDICATORS = (
    Indicator(name="polymedication_75", theme=THEME, title_fr="Polymédication des 75 ans et plus",
              description="Patients ≥ 75 with ≥ 5 and ≥ 10 distinct substances.", rule=_RULE,
              source=SOURCE, frame=SUBSTANCES, measures=_MEASURES),
    Indicator(name="polymedication_by_age_sex", theme=THEME,
              title_fr="Polymédication par âge et sexe", description="The same by age band "
              "(75-84, 85 et plus) and sex.", rule=_RULE, source=SOURCE, frame=SUBSTANCES,
              measures=_MEASURES, by=(Dim.AGE_BAND, Dim.SEX), age_breaks=(75, 85),
              age_labels=None),
)
