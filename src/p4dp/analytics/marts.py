"""Analytics marts: per-row precomputations that several indicators read, defined once in Ibis.

Each definition is a function of a table getter (`name -> Ibis table`), so the same expression
serves twice:

* `p4dp.warehouse.marts.refresh_marts` compiles it to SQL over the CDM tables and stores the
  result, partitioned by `source_id`, after each load (inside the load's transaction);
* `Warehouse.mart(name)` reads the stored table when the warehouse has it (with the expected
  columns), else evaluates the definition on the fly: a warehouse loaded before a mart existed
  gives the same figures, only slower.

Only what does not depend on a request goes in a mart (filters, scope, reference date and date
range are applied by the indicators on top), so reading a mart never changes a result: the spec
tests run every indicator with and without marts and compare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from p4dp.analytics import portable as P

TableGetter = Callable[[str], ir.Table]

#: Columns of the patient context joined to every patient frame.
CONTEXT_COLUMNS = ("sex", "birth_year", "birth_month", "practice_id", "region_code", "gp_id",
                   "patient_key")
#: The table of dense integer patient keys (`p4dp.warehouse.marts.refresh_patient_keys`).
PATIENT_KEY_TABLE = "patient_key"
PATIENT_KEY_SCHEMA = {"patient_id": "string", "patient_key": "int32"}


@dataclass(frozen=True)
class AnalyticsMart:
    name: str
    description: str
    build: Callable[[TableGetter], ir.Table]
    #: Stored in this order: DuckDB skips the row groups a date range excludes.
    order_by: tuple[str, ...] = ()


def patient_context(table: TableGetter) -> ir.Table:
    """One row per patient who did not object, with practice and region (the columns every
    patient frame is filtered and stratified by) and the patient's integer key."""
    p = table("patient")
    pr = table("practice").select("practice_id", "region_code")
    keys = table(PATIENT_KEY_TABLE)
    p = p.filter(p.opposition.fill_null(False) == False)  # noqa: E712 - Ibis expression
    p = p.left_join(pr, "practice_id").left_join(keys, "patient_id")
    return p.select("patient_id", *CONTEXT_COLUMNS)


class _Tables:
    """What a frame's `build` reads from a warehouse, over a table getter; `partitioned`: the
    frame keeps its rows' `source_id` (`frames.partition`). Other marts a build reads are
    evaluated from their definitions."""

    partitioned = True

    def __init__(self, table: TableGetter):
        self.table = table

    def mart(self, name: str) -> ir.Table:
        return MARTS[name].build(self.table)


#: The patient's age in completed years at the event (`portable.age_at`), stored in the frame
#: marts: the age slicer then compares one integer instead of computing an age per row.
EVENT_AGE = "event_age"
#: The first day of the event's ISO week and of its month (`portable.week_start`,
#: `portable.month_start`), stored likewise: a grouping by week or month reads a date (constant
#: over long runs of the date-ordered mart) instead of computing one per row.
EVENT_PERIODS = {"week": "event_week", "month": "event_month"}


def frame_with_context(frame_name: str) -> Callable[[TableGetter], ir.Table]:
    """The mart of a request-independent event frame: its rows joined with the patient context,
    the age at the event and its week and month, exactly what `prepare` computes at query time —
    stored, the per-request join and age over millions of rows disappear. The partition is the
    event's own `source_id` (not the patient's, one join less): a per-source refresh scans that
    source's row groups only."""

    def build(table: TableGetter) -> ir.Table:
        from p4dp.analytics.library import frames as F
        from p4dp.analytics.library.activite import PRESCRIPTIONS
        from p4dp.analytics.library.sentinelle import CASES
        from p4dp.analytics.model import Period

        frame = {f.name: f for f in (F.ENCOUNTERS, F.PROBLEMS, F.BIOMETRICS, F.LABS,
                                     F.VACCINATIONS, PRESCRIPTIONS, CASES)}[frame_name]
        t = frame.build(_Tables(table), Period())
        t = t.inner_join(patient_context(table), "patient_id")
        return t.mutate(**{EVENT_AGE: P.age_at(t.birth_year, t.birth_month, t.date),
                           EVENT_PERIODS["week"]: P.week_start(t.date),
                           EVENT_PERIODS["month"]: P.month_start(t.date)})

    return build


def _one_per_day(b: ir.Table, kind: str) -> ir.Table:
    t = b.filter((b.kind == kind) & b.value.notnull() & (b.value > 0))
    t = P.first_per_patient(t, ["biometric_id"], ["biometric_id"], by=("patient_id", "date"))
    return t.select("source_id", "patient_id", "date",
                    **{f"{kind}_id": t.biometric_id, kind: t.value})


def child_bmi_readings(table: TableGetter) -> ir.Table:
    """Every same-day weight + height pair of a child aged 6–15 at the reading (first reading of
    each kind that day, by id), with the recomputed BMI and the IOTF cut-offs at exact age."""
    from p4dp.analytics.library.surpoids import CHILD_AGE_MAX, CHILD_AGE_MIN, iotf_table

    b = table("biometric")
    pat = table("patient").select("patient_id", "sex", "birth_year", "birth_month")
    # a cheap bound on the year of birth before the per-day windows drops the adults' readings
    # (most of the table); the exact age is checked below
    young = pat.select("patient_id", "birth_year")
    b = b.inner_join(young, "patient_id")
    years = b.date.year().cast("int32") - b.birth_year.cast("int32")
    b = b.filter((years >= CHILD_AGE_MIN) & (years <= CHILD_AGE_MAX + 1)).drop("birth_year")
    wt = _one_per_day(b, "weight")
    ht = _one_per_day(b, "height").drop("source_id")
    r = wt.inner_join(ht, ["patient_id", "date"])
    r = r.inner_join(pat, "patient_id")
    r = r.mutate(child_age=P.age_at(r.birth_year, r.birth_month, r.date),
                 exact=P.exact_age(r.birth_year, r.birth_month, r.date))
    r = r.filter((r.child_age >= CHILD_AGE_MIN) & (r.child_age <= CHILD_AGE_MAX)
                 & r.sex.notnull())
    r = r.mutate(k=(r.exact * 2).floor().cast("int32"))
    cut = iotf_table()
    lo = cut.rename(k="half_years", sex_lo="sex", lo25="iotf25", lo30="iotf30")
    hi = cut.rename(k1="half_years", sex_hi="sex", hi25="iotf25", hi30="iotf30")
    r = r.inner_join(lo, [r.k == lo.k, r.sex == lo.sex_lo])
    r = r.mutate(k1=r.k + 1)
    r = r.inner_join(hi, [r.k1 == hi.k1, r.sex == hi.sex_hi])
    frac = r.exact * 2 - r.k
    iotf25 = r.lo25 + (r.hi25 - r.lo25) * frac
    iotf30 = r.lo30 + (r.hi30 - r.lo30) * frac
    bmi = r.weight / ((r.height / 100.0) * (r.height / 100.0))
    return r.select("source_id", "patient_id", "date", "weight_id", "child_age", "weight",
                    "height", bmi=bmi.round(2), iotf25=iotf25.round(2),
                    iotf30=iotf30.round(2), overweight=bmi >= iotf25, obese=bmi >= iotf30,
                    child_sex=r.sex)


def inr_readings(table: TableGetter) -> ir.Table:
    """Every INR result with a value, its band, whether it lies outside 2–3, and the patient's
    previous INR (by date, then id) over their whole history — the start of the Rosendaal
    interval ending at this result."""
    from p4dp.analytics.library.examen import INR_BANDS, INR_EXAM_CODES, INR_HIGH, INR_LOW

    t = table("lab_result")
    t = t.filter(t.exam_code.isin(INR_EXAM_CODES) & t.value.notnull() & (t.value >= 0))
    v = t.value
    band = ibis.cases(
        (v < 1, INR_BANDS[0]), (v < 2, INR_BANDS[1]), (v <= 3, INR_BANDS[2]),
        (v < 4, INR_BANDS[3]), (v < 5, INR_BANDS[4]), else_=INR_BANDS[5])
    w = ibis.window(group_by=t.patient_id, order_by=[t.date, t.lab_result_id])
    return t.select("source_id", "lab_result_id", "patient_id", "date", "value",
                    inr_band=band, out_of_range=(v < INR_LOW) | (v > INR_HIGH),
                    prev_date=t.date.lag().over(w), prev_value=t.value.lag().over(w))


#: Where a condition code was recorded: a problem's result or reason, or an antecedent.
ORIGINS = ("result", "reason", "antecedent")


def patient_codes(table: TableGetter) -> ir.Table:
    """Per patient, condition code (those the indicators look for: diabetes, dependence) and
    origin, the first date it was recorded; null when an undated antecedent carries it (an
    undated antecedent counts at any reference date)."""
    from p4dp.analytics.library.dependance import ALCOHOL_CODES, DRUG_CODES, TOBACCO_CODES
    from p4dp.analytics.library.diabete import DIABETES_CODES

    codes = DIABETES_CODES + ALCOHOL_CODES + TOBACCO_CODES + DRUG_CODES
    pb = table("problem")
    a = table("antecedent")

    def part(t: ir.Table, code: ir.StringValue, origin: str) -> ir.Table:
        # one nullable type per column: the tables differ in NOT NULL, which a union refuses
        return t.select(source_id=t.source_id.cast("string"),
                        patient_id=t.patient_id.cast("string"), date=t.date.cast("date"),
                        code=code.cast("string"), origin=ibis.literal(origin, type="string"))

    rows = (part(pb, pb.result_code, ORIGINS[0])
            .union(part(pb, pb.reason_code, ORIGINS[1]), distinct=False)
            .union(part(a, a.code, ORIGINS[2]), distinct=False))
    rows = rows.filter(rows.code.isin(codes))
    return rows.group_by("source_id", "patient_id", "code", "origin").aggregate(
        first_date=ibis.ifelse(rows.date.isnull().any(), ibis.null("date"), rows.date.min()))


def dated_procedures(table: TableGetter) -> ir.Table:
    """Problems whose procedure is one an indicator dates per patient (organised cancer
    screening tests, diabetic eye exams): a few rows out of millions of problems."""
    from p4dp.analytics.library.depistage import dated_procedure_codes

    pb = table("problem")
    pb = pb.filter(pb.procedure_code.isin(dated_procedure_codes()))
    return pb.select("source_id", "problem_id", "patient_id", "date", "procedure_code")


def dtp_doses(table: TableGetter) -> ir.Table:
    """Doses that protect against diphtheria, tetanus and polio (the dTP booster)."""
    from p4dp.analytics.library.vaccination import is_dtp

    v = table("vaccination")
    v = v.filter(v.valences.notnull() & is_dtp(v.valences))
    return v.select("source_id", "vaccination_id", "patient_id", "date", "raw_label")


def gp_comparison(table: TableGetter) -> ir.Table:
    """Per GP and quality indicator compared among GPs, over the patients who declared the GP as
    treating GP: patients concerned and those for whom it holds, as of the refresh (`as_of`)."""
    from p4dp.analytics.library.activite import gp_comparison_counts
    from p4dp.analytics.model import Period

    return gp_comparison_counts(_Tables(table), Period())


MARTS: dict[str, AnalyticsMart] = {m.name: m for m in (
    AnalyticsMart("mart_child_bmi", "Same-day weight + height pairs of children 6–15 with BMI and "
                  "IOTF flags at exact age (Surpoids).", child_bmi_readings),
    AnalyticsMart("mart_inr", "INR results with band, out-of-range flag and the previous INR of "
                  "the patient (Examen, Rosendaal TTR).", inr_readings),
    AnalyticsMart("mart_patient_code", "First date of each diabetes / dependence code per patient "
                  "and origin (Diabète, Dépendance).", patient_codes),
    AnalyticsMart("mart_dtp_dose", "dTP doses (Vaccination).", dtp_doses),
    AnalyticsMart("mart_dated_procedure", "Problems with a screening test or a diabetic eye "
                  "exam as procedure (Dépistage cancer, Diabète).", dated_procedures),
    AnalyticsMart("mart_gp_comparison", "Per GP (treating GP of the patients) and quality "
                  "indicator compared among GPs: patients concerned and those for whom it "
                  "holds, as of the practice's last load (Activité).", gp_comparison),
    *(AnalyticsMart(f"mart_frame_{name}", f"The `{name}` frame with the patient context "
                    "(every dashboard reading it).", frame_with_context(name), ("date",))
      for name in ("encounters", "problems", "biometrics", "lab_results", "vaccinations",
                   "prescriptions", "sentinel_cases")),
)}
