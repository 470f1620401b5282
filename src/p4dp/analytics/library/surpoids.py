"""Surpoids — children 6–15 years: overweight and obesity by the IOTF cut-offs at exact age.

Only quality-checked readings are used (the warehouse holds nothing else: implausible values were
quarantined by `p4dp.quality`), and the BMI is always recomputed from a weight and a height taken
the same day — never the recorded BMI (DOMAIN.md §3 and §5: the seed's 69 % came from such errors).
"""

from __future__ import annotations

from functools import lru_cache

import ibis
import ibis.expr.types as ir
import pyarrow.csv as pacsv

from p4dp.analytics import portable as P
from p4dp.analytics.compile import Warehouse, within_period
from p4dp.analytics.model import Dim, Frame, Indicator, Measure, Period
from p4dp.reference import path as reference_path

THEME = "surpoids"
#: Children 6 to 15 years in completed years at the reading (the seed's "6-15 ans").
CHILD_AGE_MIN, CHILD_AGE_MAX = 6, 15
#: IOTF cut-offs file: BMI curves through 25 and 30 kg/m² at 18 years (Cole et al., BMJ 2000).
IOTF_FILE = "iotf_bmi_cutoffs_cole2000.csv"
SOURCE = ("Cole TJ et al. BMJ 2000;320:1240 (IOTF cut-offs, interpolated at exact age); HAS 2011 / "
          "PNNS: IOTF-25 excess weight, IOTF-30 obesity")


@lru_cache(maxsize=1)
def _iotf_rows() -> dict[str, list]:
    t = pacsv.read_csv(reference_path(IOTF_FILE))
    ages = t.column("age_years").to_pylist()
    out: dict[str, list] = {"half_years": [], "sex": [], "iotf25": [], "iotf30": []}
    for sex, suffix in (("M", "boys"), ("F", "girls")):
        out["half_years"] += [round(a * 2) for a in ages]
        out["sex"] += [sex] * len(ages)
        out["iotf25"] += t.column(f"overweight_{suffix}").to_pylist()
        out["iotf30"] += t.column(f"obese_{suffix}").to_pylist()
    return out


@lru_cache(maxsize=1)
def iotf_table() -> ir.Table:
    """IOTF cut-offs in long form, keyed by sex and age in half-years (4 = 2 years … 36 = 18)."""
    return ibis.memtable(_iotf_rows())


def child_bmi(wh: Warehouse, period: Period) -> ir.Table:
    """Each child's latest same-day weight + height reading in the period, aged 6–15 then, with
    the recomputed BMI and the IOTF cut-offs at their exact age (per-reading values from the
    `mart_child_bmi` mart, see `p4dp.analytics.marts.child_bmi_readings`)."""
    r = within_period(wh.mart("mart_child_bmi"), period)
    r = P.latest_per_patient(r, ["date"], ["weight_id"])
    return r.select("patient_id", "date", "child_age", "weight", "height", "bmi", "iotf25",
                    "iotf30", "overweight", "obese", "child_sex")


CHILD_BMI = Frame(
    "child_bmi",
    "One row per child 6–15 years: their latest same-day weight and height in the date range, "
    "BMI recomputed, IOTF cut-offs interpolated at exact age (birth on the 15th of the month).",
    child_bmi, materialize=True,
)

_MEASURES = (
    Measure("children", "Nb d'enfants 6-15 ans", "patients"),
    Measure("overweight", "Nb d'enfants en surpoids (IOTF-25)", "patients", where="overweight"),
    Measure("obese", "Nb d'enfants obèses (IOTF-30)", "patients", where="obese"),
    Measure("pct_overweight", "% surpoids 6-15 ans", "share", numerator="overweight",
            denominator="children"),
    Measure("pct_obese", "% obésité 6-15 ans", "share", numerator="obese",
            denominator="children"),
)
_RULE = ("BMI = weight / height² from the same day; overweight (obesity included) when BMI ≥ the "
         "sex-specific IOTF-25 cut-off at exact age, obese when ≥ IOTF-30, cut-offs linearly "
         "interpolated between the half-year rows of Cole 2000, Table 4.")

INDICATORS = (
    Indicator(
        name="surpoids_children", theme=THEME,
        title_fr="Identification des enfants de 6 à 15 ans en surpoids",
        description="Children aged 6–15 with a valid same-day weight and height: number, number "
                    "overweight and obese, and their percentages.",
        rule=_RULE, source=SOURCE, frame=CHILD_BMI, measures=_MEASURES),
    Indicator(
        name="surpoids_by_age_sex", theme=THEME,
        title_fr="Prévalence du surpoids par âge et sexe (6-15 ans)",
        description="The same counts by age in completed years at the reading and by sex.",
        rule=_RULE, source=SOURCE, frame=CHILD_BMI, measures=_MEASURES,
        by=("child_age", Dim.SEX),
        column_labels_fr=(("child_age", "Âge à la biométrie"),)),
    Indicator(
        name="surpoids_line_list", theme=THEME,
        title_fr="Enfants de 6 à 15 ans : liste des patients",
        description="One row per child (the GP's own patients only): age at the reading, date, "
                    "weight, height, recomputed BMI, overweight and obesity.",
        rule=_RULE, source=SOURCE, frame=CHILD_BMI,
        line_list=("patient_id", "child_age", "date", "weight", "height", "bmi", "overweight",
                   "obese"),
        column_labels_fr=(("patient_id", "Patient"), ("child_age", "Âge à la biométrie"),
                          ("date", "Date"), ("weight", "Poids (kg)"), ("height", "Taille (cm)"),
                          ("bmi", "IMC"), ("overweight", "Surpoids"), ("obese", "Obésité"))),
)
