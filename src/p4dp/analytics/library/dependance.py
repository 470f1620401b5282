"""Dépendance — tobacco, alcohol and drug dependence from ICPC-2 codes and history mentions
(DOMAIN.md §3), by age band and sex."""

from __future__ import annotations

import ibis.expr.types as ir

from p4dp.analytics.codes import icpc2_codes
from p4dp.analytics.compile import Warehouse, alive_patients, reference_date
from p4dp.analytics.library.historique import latest_history_status
from p4dp.analytics.model import Dim, Frame, Indicator, Measure, Period

THEME = "dependance"
#: ICPC-2: P15 chronic alcohol abuse, P16 acute alcohol abuse, P17 tobacco abuse, P18 medication
#: abuse, P19 drug abuse (ICPC-2e, WONCA; DOMAIN.md §3).
ALCOHOL_CODES = icpc2_codes("P15", "P16")
TOBACCO_CODES = icpc2_codes("P17")
DRUG_CODES = icpc2_codes("P18", "P19")
SOURCE = "ICPC-2 (WONCA) P15–P19; DOMAIN.md §3 (Dépendance)"


def _coded(wh: Warehouse, on: ir.DateValue) -> ir.Table:
    """Per patient, whether a problem (result or reason) or an antecedent carries each code."""
    codes = wh.mart("mart_patient_code")
    codes = codes.filter(codes.first_date.isnull() | (codes.first_date <= on))
    return codes.group_by("patient_id").aggregate(
        c_tobacco=codes.code.isin(TOBACCO_CODES).any(),
        c_alcohol=codes.code.isin(ALCOHOL_CODES).any(),
        c_drugs=codes.code.isin(DRUG_CODES).any())


def dependence(wh: Warehouse, period: Period) -> ir.Table:
    ref = reference_date(period)
    t = alive_patients(wh, ref).select("patient_id")
    t = t.left_join(_coded(wh, ref), "patient_id")
    t = t.left_join(latest_history_status(wh, ref), "patient_id")
    flags = {s: (t[f"c_{s}"].fill_null(False) | t[s].fill_null(False))
             for s in ("tobacco", "alcohol", "drugs")}
    t = t.select("patient_id", date=ref, **flags)
    return t.mutate(any_dependence=t.tobacco | t.alcohol | t.drugs)


DEPENDENCE = Frame(
    "dependence",
    "One row per living patient at the reference date: tobacco / alcohol / drug dependence from "
    "ICPC-2 codes (problems and antecedents) or a current-use history mention.",
    dependence,
)

INDICATORS = (
    Indicator(
        name="dependance_by_age_sex", theme=THEME, title_fr="Dépendances par âge et sexe",
        description="Patients with tobacco (P17), alcohol (P15/P16) or drug (P18/P19) "
                    "dependence, or a current-use history mention, by age band and sex.",
        rule="Any problem (reason or result) or antecedent with the code up to the reference "
             "date (end of the date range, else today), or the latest history item of the "
             "substance saying `yes`. Denominator: living patients of the scope.",
        source=SOURCE, frame=DEPENDENCE, by=(Dim.AGE_BAND, Dim.SEX),
        measures=(Measure("patients", "Nombre de Patients", "patients"),
                  Measure("tobacco", "Tabac", "patients", where="tobacco"),
                  Measure("alcohol", "Alcool", "patients", where="alcohol"),
                  Measure("drugs", "Drogues", "patients", where="drugs"),
                  Measure("any", "Au moins une", "patients", where="any_dependence"),
                  Measure("pct_any", "% au moins une dépendance", "share", numerator="any",
                          denominator="patients"))),
)
