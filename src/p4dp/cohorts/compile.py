"""Compile cohort criteria to Ibis expressions through the portable helpers.

Every rule becomes one table of matching patients with the facts that made them match:

    patient_id · n (occurrences, distinct days) · last_date · value · detail

(`value` and `detail` are the latest matching measurement / code / label, for the GP's list).
Groups combine those tables (`all`: semi-joins, `any`: union, `not`: anti-join against the base
population). Window bounds are computed here, in Python, from the index date: the queries only
compare dates with date literals, which every engine means the same way (no interval arithmetic,
no engine-specific SQL). Ages use `portable.age_at` (integer date parts).

The base population is every patient who did not object, alive at the index date and born by it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import ibis
import ibis.expr.types as ir

from p4dp.analytics import portable as P
from p4dp.analytics.compile import Warehouse
from p4dp.analytics.marts import _one_per_day  # the Surpoids mart's same-day pairing
from p4dp.cohorts.criteria import (
    AllOf,
    AnyOf,
    Biometric,
    ChildWeight,
    Cohort,
    Comparison,
    Condition,
    Demographics,
    Drug,
    History,
    Lab,
    Not,
    Occurrences,
    Vaccination,
    Window,
    exam_units,
)

FACT_COLUMNS = ("patient_id", "n", "last_date", "value", "detail")
#: Undated antecedents count as one occurrence on this placeholder day (they hold at any index
#: date when the rule has no window; a window can never contain them).
_UNDATED = dt.date(1900, 1, 1)


class CohortError(ValueError):
    """A definition that cannot be evaluated at the requested index date (impossible window)."""


@dataclass(frozen=True)
class Context:
    wh: Warehouse
    index: dt.date
    #: False when only the patients matter (counts): no latest value / detail per patient, which
    #: costs a window function over every event.
    facts: bool = True
    _tables: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def base(self) -> ir.Table:
        return base_population(self.wh, self.index, self.table)

    def table(self, name: str) -> ir.Table:
        """A warehouse table, looked up once per compilation (each lookup asks the engine for
        the schema)."""
        if name not in self._tables:
            self._tables[name] = self.wh.table(name)
        return self._tables[name]


def base_population(wh: Warehouse, index: dt.date, table=None) -> ir.Table:
    """Patients who did not object, born by and alive on the index date, with their practice,
    region, sex and age at the index date."""
    table = table or wh.table
    p = table("patient")
    on = ibis.literal(index, type="date")
    p = p.filter((p.opposition.fill_null(False) == False)  # noqa: E712 - Ibis expression
                 & (p.death_date.isnull() | (p.death_date > on))
                 & p.birth_year.notnull() & (p.birth_year.cast("int32") <= index.year))
    pr = table("practice").select("practice_id", "region_code")
    p = p.left_join(pr, "practice_id")
    return p.select("patient_id", "sex", "practice_id", "region_code", "gp_id",
                    age=P.age_at(p.birth_year, p.birth_month, on))


# --- shared pieces -------------------------------------------------------------------------------


def _within(t: ir.Table, window: Window | None, index: dt.date, where: str,
            undated_ok: bool = False) -> ir.Table:
    """Rows dated in the window (ending at the index date); without a window, rows up to the
    index date (and undated rows when `undated_ok`)."""
    if window is None:
        ok = t.date <= ibis.literal(index, type="date")
        return t.filter(ok | t.date.isnull()) if undated_ok else t.filter(ok)
    start, end = window.bounds(index)
    if start is not None and start >= end:
        raise CohortError(f"{where}/window : fenêtre impossible à la date index "
                          f"{index:%d/%m/%Y} (elle commence après elle)")
    t = t.filter(t.date <= ibis.literal(end, type="date"))
    if start is not None:
        t = t.filter(t.date > ibis.literal(start, type="date"))
    return t


def compare(v: ir.NumericValue, c: Comparison) -> ir.BooleanValue:
    if c.op == ">":
        return v > c.value
    if c.op == ">=":
        return v >= c.value
    if c.op == "<":
        return v < c.value
    if c.op == "<=":
        return v <= c.value
    if c.op == "between":
        return (v >= c.low) & (v <= c.high)
    return (v < c.low) | (v > c.high)


def _events(t: ir.Table, id_col: str, value: ir.Value | None = None,
            detail: ir.Value | None = None) -> ir.Table:
    """The common event shape: patient, id (tie-breaker), date, value, detail."""
    return t.select(
        patient_id=t.patient_id.cast("string"), event_id=t[id_col].cast("string"),
        date=t.date.cast("date"),
        value=(value if value is not None else ibis.null()).cast("float64"),
        detail=(detail if detail is not None else ibis.null()).cast("string"))


def _per_patient(ctx: Context, ev: ir.Table, need_value: bool = False,
                 occ: Occurrences | None = None) -> ir.Table:
    """Occurrences (distinct days) and the latest event's value and detail, per patient (the
    value and detail only when the context wants facts or the rule judges the latest value; the
    count only when `occ` needs more than one)."""
    if not (ctx.facts or need_value) and (occ is None or (occ.min <= 1 and occ.max is None)):
        return _facts(ev.select("patient_id").distinct())
    day = ev.date.fill_null(ibis.literal(_UNDATED, type="date"))
    n = ev.group_by("patient_id").aggregate(n=day.nunique().cast("int64"),
                                           last_date=ev.date.max())
    if not (ctx.facts or need_value):
        return _facts(n, n=n.n, last_date=n.last_date)
    last = P.latest_per_patient(ev, ["date"], ["event_id"]).select("patient_id", "value",
                                                                   "detail")
    return n.inner_join(last, "patient_id").select(*FACT_COLUMNS)


def _occurrences(ctx: Context, per: ir.Table, occ: Occurrences) -> ir.Table:
    """Patients whose occurrence count lies in [min, max]; with a max, patients with none count
    too (`max: 0` = none in the window)."""
    if occ.max is None:
        return per if occ.min <= 1 else per.filter(per.n >= occ.min)
    base = ctx.base.select("patient_id")
    t = base.left_join(per, "patient_id")
    t = t.select("patient_id", n=t.n.fill_null(0), last_date=t.last_date, value=t.value,
                 detail=t.detail)
    return t.filter((t.n >= occ.min) & (t.n <= occ.max))


def _facts(t: ir.Table, n=None, last_date=None, value=None, detail=None) -> ir.Table:
    return t.select(patient_id=t.patient_id.cast("string"),
                    n=(n if n is not None else ibis.literal(1)).cast("int64"),
                    last_date=(last_date if last_date is not None else ibis.null()).cast("date"),
                    value=(value if value is not None else ibis.null()).cast("float64"),
                    detail=(detail if detail is not None else ibis.null()).cast("string"))


# --- leaves --------------------------------------------------------------------------------------


def _demographics(ctx: Context, r: Demographics, where: str) -> ir.Table:
    b = ctx.base
    conds = []
    if r.age_min is not None:
        conds.append(b.age >= r.age_min)
    if r.age_max is not None:
        conds.append(b.age <= r.age_max)
    if r.sex is not None:
        conds.append(b.sex == r.sex)
    if r.regions:
        conds.append(b.region_code.isin(r.regions))
    b = b.filter(ibis.and_(*conds))
    return _facts(b, value=b.age, detail=b.sex)


def _condition(ctx: Context, r: Condition, where: str) -> ir.Table:
    codes = r.code_set()
    parts = []
    problem_cols = [f"{o}_code" for o in ("result", "reason", "procedure") if o in r.origins]
    if problem_cols:
        pb = ctx.table("problem")
        hit = [pb[c].isin(codes) for c in problem_cols]
        pb = pb.filter(ibis.or_(*hit))
        code = ibis.cases(*[(h, pb[c]) for h, c in zip(hit, problem_cols)],
                          else_=ibis.null("string"))
        pb = _within(pb, r.window, ctx.index, where)
        parts.append(_events(pb, "problem_id", detail=code))
    if "antecedent" in r.origins:
        a = ctx.table("antecedent")
        a = a.filter(a.code.isin(codes))
        a = _within(a, r.window, ctx.index, where, undated_ok=True)
        parts.append(_events(a, "antecedent_id", detail=a.code))
    ev = parts[0]
    for p in parts[1:]:
        ev = ev.union(p, distinct=False)
    return _occurrences(ctx, _per_patient(ctx, ev, occ=r.occurrences), r.occurrences)


def _lab(ctx: Context, r: Lab, where: str) -> ir.Table:
    t = ctx.table("lab_result")
    # values are stored in the exam's canonical unit; one the coder could not convert is left in
    # its own unit and must not be compared with a threshold in another
    t = t.filter((t.exam_code == r.exam) & (t.unit == exam_units()[r.exam]) & t.value.notnull())
    t = _within(t, r.window, ctx.index, where)
    ev = _events(t, "lab_result_id", value=t.value)
    cmp = r.canonical_compare()
    if r.which == "any":
        if cmp is not None:
            ev = ev.filter(compare(ev.value, cmp))
        return _occurrences(ctx, _per_patient(ctx, ev, occ=r.occurrences), r.occurrences)
    if r.which == "latest":
        return _latest(_per_patient(ctx, ev, True), cmp, r.occurrences)
    # share of the results of the window that meet the comparison (results, not days: the
    # seed's INR rule counts results)
    s = ev.group_by("patient_id").aggregate(
        n=ev.count(), hits=compare(ev.value, cmp).cast("int64").sum(),
        last_date=ev.date.max())
    share = P.percent(s.hits, s.n)
    s = s.filter((s.n >= r.occurrences.min) & (share >= r.min_share_percent))
    if r.occurrences.max is not None:
        s = s.filter(s.n <= r.occurrences.max)
    return _facts(s, n=s.n, last_date=s.last_date, value=P.percent(s.hits, s.n))


def _drug(ctx: Context, r: Drug, where: str) -> ir.Table:
    t = ctx.table("prescription")
    atc = t.atc.upper()
    t = t.filter(ibis.or_(*[atc.startswith(a) for a in r.atc]))
    t = _within(t, r.window, ctx.index, where)
    ev = _events(t, "prescription_id", value=t.duration_days, detail=t.atc)
    per = _per_patient(ctx, ev, occ=r.occurrences)
    if r.min_days is not None:
        days = ev.group_by("patient_id").aggregate(days=ev.value.fill_null(0).sum())
        per = per.inner_join(days.filter(days.days >= r.min_days), "patient_id")
        per = per.select("patient_id", "n", "last_date", "detail", value=per.days)
        per = per.select(*FACT_COLUMNS)
    return _occurrences(ctx, per, r.occurrences)


def _biometric(ctx: Context, r: Biometric, where: str) -> ir.Table:
    b = _within(ctx.table("biometric"), r.window, ctx.index, where)
    if r.kind == "bmi":
        # never the recorded BMI (DOMAIN.md §3): weight / height² of the same day
        w = _one_per_day(b, "weight")
        h = _one_per_day(b, "height").rename(h_patient="patient_id", h_date="date")
        t = w.inner_join(h, [w.patient_id == h.h_patient, w.date == h.h_date])
        t = t.select("patient_id", "date", "weight_id",
                     bmi=(t.weight / ((t.height / 100.0) * (t.height / 100.0))).round(2))
        ev = _events(t, "weight_id", value=t.bmi)
    else:
        t = b.filter((b.kind == r.kind) & b.value.notnull())
        ev = _events(t, "biometric_id", value=t.value)
    if r.which == "any":
        ev = ev.filter(compare(ev.value, r.compare))
        return _occurrences(ctx, _per_patient(ctx, ev, occ=r.occurrences), r.occurrences)
    return _latest(_per_patient(ctx, ev, True), r.compare, r.occurrences)


def _latest(per: ir.Table, cmp: Comparison, occ: Occurrences) -> ir.Table:
    """Patients whose latest value meets the comparison, with min..max values in the window."""
    ok = compare(per.value, cmp) & (per.n >= occ.min)
    return per.filter(ok if occ.max is None else ok & (per.n <= occ.max))


def _child_weight(ctx: Context, r: ChildWeight, where: str) -> ir.Table:
    m = _within(ctx.wh.mart("mart_child_bmi"), r.window, ctx.index, where)
    flag = m.obese if r.status == "obese" else m.overweight
    ev = _events(m.mutate(flag=flag), "weight_id", value=m.bmi,
                 detail=ibis.ifelse(flag, "1", "0"))
    if r.which == "any":
        return _per_patient(ctx, ev.filter(ev.detail == "1"))
    per = _per_patient(ctx, ev, True)
    return per.filter(per.detail == "1")


def _vaccination(ctx: Context, r: Vaccination, where: str) -> ir.Table:
    v = ctx.table("vaccination")
    v = v.filter(v.valences.notnull())
    v = v.filter(ibis.and_(*[v.valences.contains(x) for x in r.valences]))
    v = _within(v, r.window, ctx.index, where)
    ev = _events(v, "vaccination_id", detail=v.raw_label)
    return _occurrences(ctx, _per_patient(ctx, ev, occ=r.occurrences), r.occurrences)


def _history(ctx: Context, r: History, where: str) -> ir.Table:
    h = ctx.table("history")
    h = h.filter((h.kind == r.kind) & h.status.isin(r.statuses))
    if r.label_contains:
        h = h.filter(h.label.lower().contains(r.label_contains.lower()))
    h = _within(h, r.window, ctx.index, where, undated_ok=r.window is None)
    return _per_patient(ctx, _events(h, "history_id", detail=h.label))


# --- groups --------------------------------------------------------------------------------------


def _all(ctx: Context, r: AllOf, where: str) -> ir.Table:
    parts = [compile_rule(ctx, x, f"{where}/rules/{i}") for i, x in enumerate(r.rules)]
    t = parts[0].select("patient_id")
    for p in parts[1:]:
        t = t.semi_join(p, "patient_id")
    return _facts(t)


def _any(ctx: Context, r: AnyOf, where: str) -> ir.Table:
    parts = [compile_rule(ctx, x, f"{where}/rules/{i}").select("patient_id")
             for i, x in enumerate(r.rules)]
    t = parts[0]
    for p in parts[1:]:
        t = t.union(p, distinct=True)
    return _facts(t.distinct())


def _not(ctx: Context, r: Not, where: str) -> ir.Table:
    inner = compile_rule(ctx, r.rule, f"{where}/rule")
    return _facts(ctx.base.select("patient_id").anti_join(inner, "patient_id"))


_COMPILERS = {
    Demographics: _demographics, Condition: _condition, Lab: _lab, Drug: _drug,
    Biometric: _biometric, ChildWeight: _child_weight, Vaccination: _vaccination,
    History: _history, AllOf: _all, AnyOf: _any, Not: _not,
}


def compile_rule(ctx: Context, rule, where: str) -> ir.Table:
    """Matching patients of one rule with their facts (FACT_COLUMNS); `where` is the rule's JSON
    pointer, named in errors."""
    return _COMPILERS[type(rule)](ctx, rule, where)


def index_date_of(cohort: Cohort, index_date: dt.date | None = None) -> dt.date:
    """The index date: the one asked for, else the definition's, else today."""
    return index_date or cohort.index_date or dt.date.today()


def attrition_frame(wh: Warehouse, cohort: Cohort, index: dt.date) -> ir.Table:
    """One row per patient of the base population with `step`: how many of the rules, in order,
    they pass (all of them = in the cohort). One query gives the attrition table, the total and
    every breakdown."""
    ctx = Context(wh, index, facts=False)
    base = ctx.base
    flags = {f"_r{i}": base.patient_id.isin(compile_rule(ctx, rule, f"/rules/{i}").patient_id)
             for i, rule in enumerate(cohort.rules)}
    # flags first, then the step from the flag columns: each rule's query appears once
    t = base.select("patient_id", "region_code", "practice_id", **flags)
    step = ibis.literal(0)
    passed = ibis.literal(True)
    for name in flags:
        passed = passed & t[name]
        step = step + passed.cast("int32")
    return t.select("patient_id", "region_code", "practice_id", step=step.cast("int32"))


def cohort_members(wh: Warehouse, cohort: Cohort, index: dt.date) -> ir.Table:
    """Patients (base population columns) who pass every rule."""
    ctx = Context(wh, index, facts=False)
    t = ctx.base
    for i, rule in enumerate(cohort.rules):
        t = t.semi_join(compile_rule(ctx, rule, f"/rules/{i}"), "patient_id")
    return t
