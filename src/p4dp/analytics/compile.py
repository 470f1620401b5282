"""Compile indicator definitions to Ibis expressions and run them on the warehouse.

One indicator + scope + filters = one Ibis expression = one query: stratifications by week, month
or year are group keys of that query, never a loop over intervals. Engine differences live in
`p4dp.analytics.portable` only.

Scope semantics (documented in docs/indicators.md):

* practitioner — the GP's patients: those who name them as treating GP (`patient.gp_id`) or had at
  least one encounter with them; rows of a frame that carry a `practitioner_id` (encounters,
  problems, prescriptions) are further restricted to the GP's own rows;
* practice / region — patients of the practice / of practices in the region;
* base — everyone.

Patients who objected (`patient.opposition`) are excluded here as well as purged at load time, so
that no indicator can ever count them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import ibis
import ibis.expr.types as ir

from p4dp.analytics import portable as P
from p4dp.analytics.model import (
    DIM_LABELS_FR,
    Dim,
    Filters,
    Indicator,
    Measure,
    Period,
    Scope,
)

#: Columns of the patient context joined to every patient frame.
CONTEXT_COLUMNS = ("sex", "birth_year", "birth_month", "practice_id", "region_code", "gp_id")


class IndicatorError(ValueError):
    """A request that cannot be answered as asked (wrong scope, unknown column …)."""


class Warehouse:
    """Read access to the warehouse through Ibis (DuckDB now, Spark later)."""

    def __init__(self, backend: ibis.BaseBackend):
        self.backend = backend

    @classmethod
    def open(cls, path: Path | str) -> Warehouse:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no warehouse at {path}: run `p4dp demo` or `p4dp ingest` "
                                    "first, or set P4DP_HOME / P4DP_WAREHOUSE_PATH")
        return cls(ibis.duckdb.connect(str(path), read_only=True))

    def table(self, name: str) -> ir.Table:
        return self.backend.table(name)

    @cached_property
    def patients(self) -> ir.Table:
        """Patient context: one row per patient who did not object, with practice and region."""
        p = self.table("patient")
        pr = self.table("practice").select("practice_id", "region_code")
        p = p.filter(p.opposition.fill_null(False) == False)  # noqa: E712 - Ibis expression
        return p.left_join(pr, "practice_id").select("patient_id", *CONTEXT_COLUMNS)

    @cached_property
    def practitioners(self) -> ir.Table:
        p = self.table("practitioner")
        pr = self.table("practice").select("practice_id", "region_code")
        return p.left_join(pr, "practice_id").select(
            "practitioner_id", "practice_id", "region_code", "sex", "role", "participation")

    def patients_of(self, practitioner_id: str) -> ir.Table:
        """Pseudonyms of a GP's patients: declared treating GP, or any encounter with them."""
        p = self.table("patient")
        e = self.table("encounter")
        declared = p.filter(p.gp_id == practitioner_id).select("patient_id")
        seen = e.filter(e.practitioner_id == practitioner_id).select("patient_id")
        return declared.union(seen, distinct=True)


@dataclass(frozen=True)
class Compiled:
    indicator: Indicator
    expr: ir.Table
    columns: tuple[dict, ...]
    ignored_filters: tuple[str, ...]


def _effective_scope(ind: Indicator, scope: Scope) -> Scope:
    if ind.scope_policy == "base":
        return Scope()
    if ind.scope_policy == "practitioner" and scope.kind != "practitioner":
        raise IndicatorError(
            f"l'indicateur {ind.name} porte sur les patients d'un médecin : précisez "
            "--practitioner PSEUDONYME")
    return scope


def _apply_patient_scope(wh: Warehouse, t: ir.Table, scope: Scope) -> ir.Table:
    if scope.kind == "practice":
        return t.filter(t.practice_id == scope.value)
    if scope.kind == "region":
        return t.filter(t.region_code == scope.value)
    if scope.kind == "practitioner":
        mine = wh.patients_of(scope.value)
        t = t.semi_join(mine, "patient_id")
        if "practitioner_id" in t.columns:
            t = t.filter(t.practitioner_id == scope.value)
        return t
    return t


def _age_expr(t: ir.Table, filters: Filters, dated: bool) -> ir.IntegerValue:
    on = t.date if (filters.age_at == "event" and dated) else ibis.literal(filters.as_of)
    return P.age_at(t.birth_year, t.birth_month, on)


def _period_filter(t: ir.Table, period: Period) -> ir.Table:
    if period.start:
        t = t.filter(t.date >= period.start)
    if period.end:
        t = t.filter(t.date <= period.end)
    return t


def prepare(wh: Warehouse, ind: Indicator, scope: Scope, filters: Filters
            ) -> tuple[ir.Table, list[str]]:
    """The filtered frame with the standard dimensions added; also the filters that do not apply."""
    frame = ind.frame
    ignored: list[str] = []
    t = frame.build(wh, filters.period)
    if frame.dated:
        t = _period_filter(t, filters.period)
    elif filters.period.start or filters.period.end:
        ignored.append("date")
    if frame.subject == "practitioner":
        for name, given in (("sex", filters.sex), ("age", filters.age_min is not None
                                                   or filters.age_max is not None),
                            ("patient", filters.patient_id)):
            if given:
                ignored.append(name)
        pr = wh.practitioners.select("practitioner_id", "practice_id", "region_code")
        clash = [c for c in ("practice_id", "region_code") if c in t.columns]
        t = t.drop(*clash).inner_join(pr, "practitioner_id")
        if scope.kind == "practice":
            t = t.filter(t.practice_id == scope.value)
        elif scope.kind == "region":
            t = t.filter(t.region_code == scope.value)
        elif scope.kind == "practitioner":
            t = t.filter(t.practitioner_id == scope.value)
        return t, ignored
    clash = [c for c in CONTEXT_COLUMNS if c in t.columns]
    if clash:
        raise IndicatorError(f"frame {frame.name} must not output patient context columns {clash}")
    t = t.inner_join(wh.patients, "patient_id")
    t = _apply_patient_scope(wh, t, scope)
    if filters.sex:
        t = t.filter(t.sex == filters.sex)
    if filters.patient_id:
        t = t.filter(t.patient_id == filters.patient_id)
    age = _age_expr(t, filters, frame.dated)
    t = t.mutate(_age=age)
    if filters.age_min is not None:
        t = t.filter(t._age >= filters.age_min)
    if filters.age_max is not None:
        t = t.filter(t._age <= filters.age_max)
    return t, ignored


def _dimension(t: ir.Table, ind: Indicator, name: str) -> ir.Value:
    if name == Dim.AGE_BAND:
        return P.age_band(t._age, ind.age_breaks, ind.age_labels)
    if name == Dim.SEX:
        return t.sex
    if name == Dim.REGION:
        return t.region_code
    if name == Dim.PRACTICE:
        return t.practice_id
    if name == Dim.PRACTITIONER:
        if "practitioner_id" not in t.columns:
            raise IndicatorError(f"{ind.name}: frame {ind.frame.name} has no practitioner column")
        return t.practitioner_id
    if name in (Dim.WEEK, Dim.MONTH, Dim.YEAR):
        if not ind.frame.dated:
            raise IndicatorError(f"{ind.name}: frame {ind.frame.name} is not dated")
        return {Dim.WEEK: P.iso_week_label, Dim.MONTH: P.month_label,
                Dim.YEAR: lambda d: d.year().cast("int32")}[Dim(name)](t.date)
    if name in t.columns:
        return t[name]
    raise IndicatorError(f"{ind.name}: unknown stratification {name!r} (frame columns: "
                         f"{', '.join(t.columns)})")


def _aggregate(t: ir.Table, m: Measure, subject_col: str) -> ir.Scalar:
    where = t[m.where] if m.where else None
    if m.agg == "count":
        return t.count(where=where)
    if m.agg == "patients":
        return t[subject_col].nunique(where=where)
    col = t[m.column]
    if m.agg == "sum":
        return col.sum(where=where)
    if m.agg == "mean":
        return col.mean(where=where).round(m.digits)
    if m.agg == "median":
        x = col if where is None else ibis.ifelse(where, col, ibis.null(col.type()))
        return P.percentile(x, 0.5).round(m.digits)
    if m.agg == "min":
        return col.min(where=where)
    if m.agg == "max":
        return col.max(where=where)
    raise IndicatorError(f"unknown aggregation {m.agg}")  # pragma: no cover


def compile_indicator(wh: Warehouse, ind: Indicator, scope: Scope = Scope(),
                      filters: Filters | None = None) -> Compiled:
    """One Ibis expression for the indicator under the scope and filters."""
    filters = filters or Filters()
    scope = _effective_scope(ind, scope)
    t, ignored = prepare(wh, ind, scope, filters)
    if ind.is_line_list:
        missing = [c for c in ind.line_list if c not in t.columns and c != "age"]
        if missing:
            raise IndicatorError(f"{ind.name}: line-list columns {missing} not in the frame")
        cols = {c: (t._age if c == "age" else t[c]) for c in ind.line_list}
        order = [c for c in ("patient_id", "date") if c in ind.line_list]
        expr = t.select(**cols).order_by(order or list(ind.line_list))
        columns = tuple({"name": c, "label_fr": ind.label_of(c), "role": "line"}
                        for c in ind.line_list)
        return Compiled(ind, expr, columns, tuple(ignored))

    dims = {name: _dimension(t, ind, name) for name in ind.by}
    if dims:
        t = t.mutate(**dims)
    subject_col = "practitioner_id" if ind.frame.subject == "practitioner" else "patient_id"
    aggs = {m.name: _aggregate(t, m, subject_col) for m in ind.measures if m.agg != "share"}
    expr = t.group_by(list(ind.by)).aggregate(**aggs) if ind.by else t.aggregate(**aggs)
    shares = {m.name: P.percent(expr[m.numerator], expr[m.denominator])
              for m in ind.measures if m.agg == "share"}
    if shares:
        expr = expr.mutate(**shares)
    if ind.top is not None:
        key = [expr[ind.rank_by].desc(), *[expr[c] for c in ind.by]]
        expr = expr.mutate(rank=ibis.row_number().over(order_by=key) + 1)
        expr = expr.filter(expr["rank"] <= ind.top).order_by("rank")
        out_cols = ["rank", *ind.by, *[m.name for m in ind.measures]]
    else:
        out_cols = [*ind.by, *[m.name for m in ind.measures]]
        if ind.by:
            expr = expr.order_by(list(ind.by))
    expr = expr.select(*out_cols)
    columns = []
    if ind.top is not None:
        columns.append({"name": "rank", "label_fr": "Rang", "role": "rank"})
    columns += [{"name": c, "label_fr": ind.label_of(c), "role": "dimension"} for c in ind.by]
    for m in ind.measures:
        col = {"name": m.name, "label_fr": m.label_fr, "role": "measure", "kind": m.kind}
        if m.agg == "share":
            col.update(numerator=m.numerator, denominator=m.denominator)
        columns.append(col)
    return Compiled(ind, expr, tuple(columns), tuple(ignored))


def _jsonable(v: object) -> object:
    """Arrow gives Python values; dates become ISO strings and NaN becomes null."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def run_indicator(wh: Warehouse, ind: Indicator, scope: Scope = Scope(),
                  filters: Filters | None = None) -> dict:
    """Execute an indicator and return its JSON-able payload (the API's payload).

    No disclosure control here: `p4dp.privacy.disclosure.protect` is applied at the output
    boundary, for the role that asks.
    """
    filters = filters or Filters()
    compiled = compile_indicator(wh, ind, scope, filters)
    arrow = wh.backend.to_pyarrow(compiled.expr)
    names = [c["name"] for c in compiled.columns]
    cols = [arrow.column(n).to_pylist() for n in names]
    rows = [[_jsonable(v) for v in r] for r in zip(*cols)]
    labels = dict(ind.labels)
    if labels:
        idx = {n: i for i, n in enumerate(names)}
        for col, fn in labels.items():
            i = idx[col]
            for r in rows:
                r[i] = fn(r[i])
    return {
        "indicator": ind.name,
        "theme": ind.theme,
        "title_fr": ind.title_fr,
        "kind": "line_list" if ind.is_line_list else "aggregate",
        "scope": _effective_scope(ind, scope).as_dict(),
        "filters": filters.as_dict(),
        "ignored_filters": list(compiled.ignored_filters),
        "columns": [dict(c) for c in compiled.columns],
        "rows": rows,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


__all__ = [
    "Compiled",
    "DIM_LABELS_FR",
    "IndicatorError",
    "Warehouse",
    "compile_indicator",
    "prepare",
    "run_indicator",
]
