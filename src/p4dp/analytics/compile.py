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
import decimal
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from p4dp.analytics import portable as P
from p4dp.analytics.marts import (
    CONTEXT_COLUMNS,
    EVENT_AGE,
    EVENT_PERIODS,
    PATIENT_KEY_TABLE,
    patient_context,
)
from p4dp.analytics.model import (
    DIM_LABELS_FR,
    Dim,
    Filters,
    Indicator,
    Measure,
    Period,
    Scope,
)


class IndicatorError(ValueError):
    """A request that cannot be answered as asked (wrong scope, unknown column …)."""


class Warehouse:
    """Read access to the warehouse through Ibis (DuckDB now, Spark later)."""

    def __init__(self, backend: ibis.BaseBackend, *, use_sql_cache: bool = True,
                 cache_dir: Path | None = None):
        self.backend = backend
        self.use_sql_cache = use_sql_cache
        #: Compiled SQL per request shape (see `_execute`).
        self.sql_cache: dict[tuple, tuple] = {}
        #: Where compiled SQL survives the process (None: memory only).
        self.disk_cache = SqlDiskCache(cache_dir, self) if cache_dir and use_sql_cache else None

    @classmethod
    def open(cls, path: Path | str, cache_dir: Path | None = None) -> Warehouse:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"aucun entrepôt en {path} : lancez d'abord `p4dp demo` ou "
                                    "`p4dp ingest`, ou indiquez P4DP_HOME / "
                                    "P4DP_WAREHOUSE_PATH")
        return cls(ibis.duckdb.connect(str(path), read_only=True), cache_dir=cache_dir)

    def table(self, name: str) -> ir.Table:
        if name == PATIENT_KEY_TABLE and name not in self._base_tables:
            # a warehouse loaded before the keys existed: number the patients on the fly
            p = self.backend.table("patient")
            key = (ibis.row_number().over(order_by=p.patient_id) + 1).cast("int32")
            return p.select("patient_id", patient_key=key)
        return self.backend.table(name)

    @cached_property
    def _base_tables(self) -> frozenset[str]:
        return frozenset(self.backend.list_tables())

    @cached_property
    def key_range(self) -> tuple[int, int] | None:
        """(lowest, highest) patient key when distinct patients are counted as a bitmap of keys
        (DuckDB, `portable.count_distinct_keys`); None elsewhere (`count(DISTINCT)`)."""
        if getattr(self.backend, "name", "") != "duckdb":
            return None
        k = self.table(PATIENT_KEY_TABLE).patient_key
        lo, hi = (self.backend.to_pyarrow(x).as_py() for x in (k.min(), k.max()))
        if lo is None or hi - lo + 1 > P.MAX_BITMAP_KEYS:
            return None
        return lo, hi

    @cached_property
    def _stored(self) -> dict[str, frozenset[str]]:
        con = getattr(self.backend, "con", None)
        if con is None:  # another engine: ask Ibis
            return {n: frozenset(self.backend.table(n).columns)
                    for n in self.backend.list_tables() if n.startswith("mart_")}
        rows = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_name LIKE 'mart\\_%' ESCAPE '\\'").fetchall()
        out: dict[str, set[str]] = {}
        for t, c in rows:
            out.setdefault(t, set()).add(c)
        return {t: frozenset(c) for t, c in out.items()}

    def mart(self, name: str) -> ir.Table:
        """An analytics mart (`p4dp.analytics.marts`): the stored table when the warehouse has it
        with the expected columns, else the same definition evaluated on the CDM tables."""
        from p4dp.analytics.marts import MARTS

        expr = MARTS[name].build(self.table)
        if set(expr.columns) <= self._stored.get(name, frozenset()):
            return self.table(name).select(*expr.columns)
        return expr

    @cached_property
    def patients(self) -> ir.Table:
        """Patient context: one row per patient who did not object, with practice and region."""
        return patient_context(self.table)

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
    if filters.age_at == "event" and dated and EVENT_AGE in t.columns:
        return t[EVENT_AGE]  # stored by the frame marts, the same expression
    on = t.date if (filters.age_at == "event" and dated) else ibis.literal(filters.as_of)
    return P.age_at(t.birth_year, t.birth_month, on)


def _optional(value: object, test) -> ir.BooleanValue:
    """`value IS NULL OR test(value)`: a filter that a null parameter switches off, so that one
    compiled query serves every combination of filters (see `_execute`)."""
    lit = ibis.literal(value)
    return lit.isnull() | test(lit)


def within_period(t: ir.Table, period: Period, column: str = "date") -> ir.Table:
    """Rows of `t` whose `column` lies in the period (either end open)."""
    if period.start:
        t = t.filter(_optional(period.start, lambda v: t[column] >= v))
    if period.end:
        t = t.filter(_optional(period.end, lambda v: t[column] <= v))
    return t


def reference_date(period: Period) -> ir.DateValue:
    """The date a patient-level status is judged at: the end of the date range, else today."""
    return ibis.coalesce(ibis.literal(period.end, type="date"), ibis.today())


def alive_patients(wh: Warehouse, on: ir.DateValue) -> ir.Table:
    """Patients (who did not object) alive on the date, with their birth year and month."""
    p = wh.table("patient")
    p = p.filter(p.opposition.fill_null(False) == False)  # noqa: E712 - Ibis expression
    p = p.filter(p.death_date.isnull() | (p.death_date > on))
    return p.select("patient_id", "birth_year", "birth_month")


def ignored_filters(ind: Indicator, filters: Filters) -> list[str]:
    """Filters given that do not apply to the indicator's frame (reported in the payload)."""
    ignored = []
    if not ind.frame.dated and (filters.period.start or filters.period.end):
        ignored.append("date")
    if ind.frame.subject == "practitioner":
        for name, given in (("sex", filters.sex),
                            ("age", filters.age_min is not None or filters.age_max is not None),
                            ("patient", filters.patient_id)):
            if given:
                ignored.append(name)
    return ignored


def prepare(wh: Warehouse, ind: Indicator, scope: Scope, filters: Filters) -> ir.Table:
    """The filtered frame with the patient context and the age (`_age`) added."""
    frame = ind.frame
    if frame.mart:  # the frame with its patient context, stored or evaluated on the fly
        t = wh.mart(frame.mart).drop("source_id")
    elif frame.gp_scoped:
        gp = scope.value if scope.kind == "practitioner" else None
        t = frame.build(wh, filters.period, gp)
    else:
        t = frame.build(wh, filters.period)
    if frame.dated:
        t = within_period(t, filters.period)
    if frame.subject == "practitioner":
        pr = wh.practitioners.select("practitioner_id", "practice_id", "region_code")
        clash = [c for c in ("practice_id", "region_code") if c in t.columns]
        t = t.drop(*clash).inner_join(pr, "practitioner_id")
        if scope.kind == "practice":
            t = t.filter(t.practice_id == scope.value)
        elif scope.kind == "region":
            t = t.filter(t.region_code == scope.value)
        elif scope.kind == "practitioner":
            t = t.filter(t.practitioner_id == scope.value)
        return t
    if not frame.mart:
        clash = [c for c in CONTEXT_COLUMNS if c in t.columns]
        if clash:
            raise IndicatorError(f"frame {frame.name} must not output patient context columns "
                                 f"{clash}")
        t = t.inner_join(wh.patients, "patient_id")
    t = _apply_patient_scope(wh, t, scope)
    if filters.sex:
        t = t.filter(_optional(filters.sex, lambda v: t.sex == v))
    if filters.patient_id:
        t = t.filter(_optional(filters.patient_id, lambda v: t.patient_id == v))
    t = t.mutate(_age=_age_expr(t, filters, frame.dated))
    if filters.age_min is not None:
        t = t.filter(_optional(filters.age_min, lambda v: t._age >= v))
    if filters.age_max is not None:
        t = t.filter(_optional(filters.age_max, lambda v: t._age <= v))
    return t


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
        stored = EVENT_PERIODS.get(name)
        if stored in t.columns:  # stored by the frame marts, the same expression
            return t[stored]
        # group on a date (cheap), label after aggregation (see `_PERIOD_LABELS`)
        return {Dim.WEEK: P.week_start, Dim.MONTH: P.month_start,
                Dim.YEAR: lambda d: d.year().cast("int32")}[Dim(name)](t.date)
    if name in t.columns:
        return t[name]
    raise IndicatorError(f"{ind.name}: unknown stratification {name!r} (frame columns: "
                         f"{', '.join(t.columns)})")


#: Period strata are grouped on the first day of the period and labelled once per group: the
#: labels ("2024-W05", "2024-03") sort like the dates.
_PERIOD_LABELS = {Dim.WEEK: P.iso_week_label, Dim.MONTH: P.month_label}


#: Key bounds as compiled for the SQL cache: turned into the parameters `$key_lo` / `$key_hi`.
_KEY_SENTINELS = (987611, 987612)
KeyRange = tuple[int, int]


def _keyed(t: ir.Table, subject_col: str, keys: KeyRange | None) -> bool:
    """Distinct patients counted as a bitmap of their keys (see `portable.count_distinct_keys`)."""
    return keys is not None and subject_col == "patient_id" and "patient_key" in t.columns


#: Rough number of groups a stratification makes: weeks and months over 15 years, years; any
#: other stratification (a category, an age band) is taken as ten.
_DIM_GROUPS = {Dim.WEEK: 800, Dim.MONTH: 180, Dim.YEAR: 15}
_OTHER_DIM_GROUPS = 10
#: A bitmap is allocated per group, so bitmaps pay only for a few large groups: on `primege`
#: (180,000 keys), patients per week of 3.47M encounters take 67 ms as bitmaps against 204 ms
#: with count(DISTINCT), but per week and sentinel syndrome (5,600 groups of ≈ 45 cases)
#: 100 ms against 5 ms. Indicators expected to make more groups than this count with
#: count(DISTINCT).
MAX_BITMAP_GROUPS = 1_000


def _few_groups(ind: Indicator) -> bool:
    groups = 1
    for b in ind.by:
        groups *= _DIM_GROUPS.get(b, _OTHER_DIM_GROUPS)
    return groups <= MAX_BITMAP_GROUPS


def _aggregate(t: ir.Table, m: Measure, subject_col: str, keys: KeyRange | None) -> ir.Scalar:
    where = t[m.where] if m.where else None
    if m.agg == "count":
        return t.count(where=where)
    if m.agg == "patients":
        if _keyed(t, subject_col, keys):
            lo, hi = (ibis.literal(k, type="int32") for k in keys)
            return P.count_distinct_keys(t.patient_key, lo, hi, where=where)
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
                      filters: Filters | None = None, keys: KeyRange | None = None) -> Compiled:
    """One Ibis expression for the indicator under the scope and filters; `keys`: the bounds of
    the patient keys when distinct patients are counted as a bitmap (`Warehouse.key_range`)."""
    filters = filters or Filters()
    scope = _effective_scope(ind, scope)
    return compile_on_frame(ind, prepare(wh, ind, scope, filters), filters, keys)


def compile_on_frame(ind: Indicator, t: ir.Table, filters: Filters,
                     keys: KeyRange | None = None) -> Compiled:
    """The indicator over its frame already prepared (`prepare`: scope and filters applied)."""
    if not _few_groups(ind):
        keys = None
    if ind.where:
        t = t.filter(t[ind.where])
    ignored = ignored_filters(ind, filters)
    if ind.is_line_list:
        missing = [c for c in ind.line_list if c not in t.columns and c != "age"]
        if missing:
            raise IndicatorError(f"{ind.name}: line-list columns {missing} not in the frame")
        cols = {c: (t._age if c == "age" else t[c]) for c in ind.line_list}
        # patient and date first, then every other column: a total order, so two runs (or two
        # engines) list a patient seen by two GPs in the same order
        order = [c for c in ("patient_id", "date") if c in ind.line_list]
        order += [c for c in ind.line_list if c not in order]
        sel = t.select(**cols)
        # nulls last, spelled out: the engines' defaults differ (see portable)
        expr = sel.order_by([sel[c].asc(nulls_first=False) for c in order])
        columns = tuple({"name": c, "label_fr": ind.label_of(c), "role": "line"}
                        for c in ind.line_list)
        return Compiled(ind, expr, columns, tuple(ignored))

    dims = {name: _dimension(t, ind, name) for name in ind.by}
    if dims:
        t = t.mutate(**dims)
    subject_col = "practitioner_id" if ind.frame.subject == "practitioner" else "patient_id"
    aggs = {m.name: _aggregate(t, m, subject_col, keys)
            for m in ind.measures if m.agg != "share"}
    expr = t.group_by(list(ind.by)).aggregate(**aggs) if ind.by else t.aggregate(**aggs)
    labels = {b: _PERIOD_LABELS[b](expr[b]) for b in ind.by if b in _PERIOD_LABELS}
    if labels:
        expr = expr.mutate(**labels)
    shares = {m.name: P.percent(expr[m.numerator], expr[m.denominator])
              for m in ind.measures if m.agg == "share"}
    if shares:
        expr = expr.mutate(**shares)
    if ind.top is not None:
        key = [expr[ind.rank_by].desc(nulls_first=False),
               *[expr[c].asc(nulls_first=False) for c in ind.by]]
        expr = expr.mutate(rank=ibis.row_number().over(order_by=key) + 1)
        expr = expr.filter(expr["rank"] <= ind.top).order_by("rank")
        out_cols = ["rank", *ind.by, *[m.name for m in ind.measures]]
    else:
        out_cols = [*ind.by, *[m.name for m in ind.measures]]
        if ind.by:
            expr = expr.order_by([expr[c].asc(nulls_first=False) for c in ind.by])
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
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


# --- execution ------------------------------------------------------------------------------------
#
# Compiling an Ibis expression to SQL costs 50–500 ms for the larger indicators, more than DuckDB
# takes to run it. Dashboards re-run the same indicators with other filter *values*, so on DuckDB
# each (indicator, scope kind, filters given) shape is compiled once with sentinel values, which
# become named parameters of a prepared statement. Other engines run the Ibis expression.

_SENTINELS: dict[str, tuple[str, str]] = {
    # name: (as rendered by the DuckDB compiler, parameter with its type)
    "scope": ("'__p4dp_scope__'", "CAST($scope AS VARCHAR)"),
    "sex": ("'__p4dp_sex__'", "CAST($sex AS VARCHAR)"),
    "patient": ("'__p4dp_patient__'", "CAST($patient AS VARCHAR)"),
    "age_min": ("987601", "CAST($age_min AS INTEGER)"),
    "age_max": ("987602", "CAST($age_max AS INTEGER)"),
    "start": ("MAKE_DATE(1001, 1, 1)", "CAST($start AS DATE)"),
    "end": ("MAKE_DATE(1002, 2, 2)", "CAST($end AS DATE)"),
    "as_of": ("MAKE_DATE(1003, 3, 3)", "CAST($as_of AS DATE)"),
    "key_lo": (str(_KEY_SENTINELS[0]), "CAST($key_lo AS INTEGER)"),
    "key_hi": (str(_KEY_SENTINELS[1]), "CAST($key_hi AS INTEGER)"),
}


def _shape(wh: Warehouse, ind: Indicator, scope: Scope, f: Filters) -> tuple:
    """What changes the query's structure; filter values are parameters (null = not given)."""
    # the definition itself: two versions never collide
    return (ind, scope.kind, f.age_at, wh.key_range is not None)


def _disk_key(wh: Warehouse, *parts: object) -> str:
    """The name of a compiled query in the disk cache (`SqlDiskCache`)."""
    return "|".join(map(str, parts)) + ("|keys" if wh.key_range is not None else "")


def _sentinel_keys(wh: Warehouse) -> KeyRange | None:
    return _KEY_SENTINELS if wh.key_range is not None else None


def _sentinel_request(scope: Scope, f: Filters) -> tuple[Scope, Filters]:
    s = Scope() if scope.kind == "base" else Scope(scope.kind, "__p4dp_scope__")
    sf = Filters(sex="F", age_min=987601, age_max=987602, age_at=f.age_at,
                 period=Period(dt.date(1001, 1, 1), dt.date(1002, 2, 2)),
                 patient_id="__p4dp_patient__", as_of=dt.date(1003, 3, 3))
    object.__setattr__(sf, "sex", "__p4dp_sex__")  # not a valid sex: set past validation
    return s, sf


def _values(wh: Warehouse, scope: Scope, f: Filters) -> dict:
    lo, hi = wh.key_range or (None, None)
    return {"scope": scope.value, "sex": f.sex, "patient": f.patient_id, "age_min": f.age_min,
            "age_max": f.age_max, "start": f.period.start, "end": f.period.end,
            "as_of": f.as_of, "key_lo": lo, "key_hi": hi}


class SqlDiskCache:
    """Compiled SQL kept on disk, so that a new process (the API after a restart, a CLI run)
    does not pay Ibis compilation again: one JSON file per fingerprint of everything the SQL
    depends on — the analytics source code, the Ibis and DuckDB versions, the warehouse schema.
    Any change gives a new file; a stale entry can never be read."""

    def __init__(self, folder: Path, wh: Warehouse):
        import hashlib
        import importlib.metadata as md

        h = hashlib.sha256()
        root = Path(__file__).parent
        for f in sorted(root.rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
        h.update(f"ibis {ibis.__version__} duckdb {md.version('duckdb')}".encode())
        # base tables only: views registered on the connection (Ibis in-memory tables) vary
        schema = wh.backend.raw_sql(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
            "WHERE t.table_type = 'BASE TABLE' ORDER BY 1, 2").fetchall()
        h.update(repr(schema).encode())
        self.path = Path(folder) / f"analytics-sql-{h.hexdigest()[:20]}.json"
        self.entries: dict[str, dict] = {}
        if self.path.is_file():
            import json

            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}  # a damaged cache is rebuilt, never trusted

    def put(self, key: str, entry: dict) -> None:
        import json
        import os

        self.entries[key] = entry
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.entries, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.path)
        except (OSError, TypeError):
            pass  # a read-only home (or data JSON cannot hold) only costs compilation time


def _registered(ind: Indicator) -> bool:
    """Only the library's own definitions go to the disk cache (a modified copy shares the name
    but not the SQL)."""
    from p4dp.analytics.library import all_indicators

    return all_indicators().get(ind.name) is ind


def _to_sql(expr: ir.Table, columns: tuple[dict, ...]) -> dict:
    """A cache entry: the DuckDB SQL of a sentinel expression with the sentinels turned into
    named parameters, the in-memory tables it reads and its result schema."""
    import ibis.expr.operations as ops

    sql = str(ibis.to_sql(expr, dialect="duckdb"))
    used = []
    for name, (rendered, param) in _SENTINELS.items():
        if rendered in sql:
            sql = sql.replace(rendered, param)
            used.append(name)
    memtables = {node.name: node.data.to_pyarrow(node.schema).to_pydict()
                 for node in expr.op().find(ops.InMemoryTable)}
    return {"columns": [dict(c) for c in columns], "sql": sql, "used": used,
            "memtables": memtables, "schema": {n: str(t) for n, t in expr.schema().items()}}


def _cached_sql(wh: Warehouse, key: tuple, disk_key: str | None, build) -> dict:
    """The cache entry of a request shape: from memory, else from disk (`disk_key`, None for
    definitions that are not the library's), else compiled now by `build()` → entry."""
    entry = wh.sql_cache.get(key)
    if entry is not None:
        return entry
    on_disk = wh.disk_cache is not None and disk_key is not None
    entry = wh.disk_cache.entries.get(disk_key) if on_disk else None
    if entry is None:
        entry = build()
        if on_disk:
            wh.disk_cache.put(disk_key, entry)
    for name, data in entry["memtables"].items():  # reference tables (IOTF …) the SQL reads
        wh.backend.con.register(name, pa.Table.from_pydict(data))
    entry = {**entry, "arrow_schema": ibis.schema(entry["schema"]).to_pyarrow()}
    wh.sql_cache[key] = entry
    return entry


def _fetch(wh: Warehouse, entry: dict, values: dict) -> pa.Table:
    """The result of a cache entry's SQL with the request's parameter values, as DuckDB types
    it."""
    arrow = wh.backend.con.execute(entry["sql"], {n: values[n] for n in entry["used"]}).arrow()
    if hasattr(arrow, "read_all"):  # DuckDB ≥ 1.4 may return a record batch reader
        arrow = arrow.read_all()
    return arrow


def _run_sql(wh: Warehouse, entry: dict, values: dict) -> pa.Table:
    # DuckDB sums integers into HUGEINT (Arrow decimal): back to the types Ibis promised
    return _fetch(wh, entry, values).cast(entry["arrow_schema"])


def _uses_sql_cache(wh: Warehouse) -> bool:
    return getattr(wh.backend, "name", "") == "duckdb" and wh.use_sql_cache


def _execute(wh: Warehouse, ind: Indicator, scope: Scope, filters: Filters
             ) -> tuple[list[dict], pa.Table]:
    if not _uses_sql_cache(wh):
        compiled = compile_indicator(wh, ind, scope, filters, wh.key_range)
        return [dict(c) for c in compiled.columns], wh.backend.to_pyarrow(compiled.expr)

    def build() -> dict:
        compiled = compile_indicator(wh, ind, *_sentinel_request(scope, filters),
                                     _sentinel_keys(wh))
        return _to_sql(compiled.expr, compiled.columns)

    disk_key = (_disk_key(wh, ind.name, scope.kind, filters.age_at) if _registered(ind)
                else None)
    entry = _cached_sql(wh, _shape(wh, ind, scope, filters), disk_key, build)
    return entry["columns"], _run_sql(wh, entry, _values(wh, scope, filters))


# --- one frame, several indicators ----------------------------------------------------------------
#
# A dashboard shows several indicators of the same frame (the three cancer screenings, the
# diabetes follow-up and its HbA1c distribution …). When computing the frame costs more than
# reading it back (`Frame.materialize`), the frame is prepared once per request into a temporary
# table and each indicator aggregates that table: one computation instead of one per indicator.

_SHARED_TABLE = "_p4dp_frame"


def _execute_shared(wh: Warehouse, inds: list[Indicator], scope: Scope, filters: Filters
                    ) -> list[tuple[list[dict], pa.Table]]:
    frame = inds[0].frame
    probe = inds[0]  # prepare depends on the frame and the scope only, not on the indicator

    def build_frame() -> dict:
        t = prepare(wh, probe, *_sentinel_request(scope, filters))
        return _to_sql(t, ())

    registered = all(_registered(i) for i in inds)
    shape = (frame, scope.kind, filters.age_at, wh.key_range is not None)
    entry = _cached_sql(wh, ("frame", *shape),
                        _disk_key(wh, f"frame:{frame.name}", scope.kind, filters.age_at)
                        if registered else None, build_frame)
    values = _values(wh, scope, filters)
    con = wh.backend.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_SHARED_TABLE} AS {entry['sql']}",
                {n: values[n] for n in entry["used"]})
    try:
        prepared = ibis.table(ibis.schema(entry["schema"]), name=_SHARED_TABLE)
        out = []
        for ind in inds:
            def build(ind: Indicator = ind) -> dict:
                compiled = compile_on_frame(ind, prepared, filters, _sentinel_keys(wh))
                return _to_sql(compiled.expr, compiled.columns)

            on = _cached_sql(wh, ("on_frame", ind, *shape),
                             _disk_key(wh, ind.name, "on_frame", scope.kind, filters.age_at)
                             if registered else None, build)
            out.append((on["columns"], _run_sql(wh, on, values)))
        return out
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_SHARED_TABLE}")


# --- several counts of one frame, one scan --------------------------------------------------------
#
# A dashboard's headline figures are counts of the same frame under several groupings (the
# consultations in total, per year, per kind …). Those indicators are answered by one query with
# GROUPING SETS (`portable.grouping_sets_sql`) instead of one query each; the rows of each
# grouping are then cut out, ordered and typed as the indicator's own query would give them.

#: Dimensions computed per indicator (age bands have per-indicator breaks) or labelled after
#: aggregation (weeks, months) stay on the one-query-per-indicator path.
_UNGROUPED_DIMS = (Dim.AGE_BAND, Dim.WEEK, Dim.MONTH)


def _groupable(ind: Indicator) -> bool:
    return (not ind.is_line_list and ind.top is None and ind.where is None
            and all(m.agg in ("count", "patients") for m in ind.measures)
            and not any(b in _UNGROUPED_DIMS for b in ind.by))


def _grouped_entry(wh: Warehouse, inds: list[Indicator], scope: Scope, filters: Filters
                   ) -> dict:
    """The GROUPING SETS query of `inds` (one frame) and, per indicator, where its figures are
    in the result: a cache entry like `_to_sql`'s, with `indicators`."""
    s, sf = _sentinel_request(scope, filters)
    t = prepare(wh, inds[0], s, sf)
    subject_col = "practitioner_id" if inds[0].frame.subject == "practitioner" else "patient_id"
    keyed = _keyed(t, subject_col, wh.key_range) and all(_few_groups(i) for i in inds)
    distinct = ("keys", "patient_key") if keyed else ("distinct", subject_col)
    dims = {b: _dimension(t, ind, b) for ind in inds for b in ind.by}
    aggregates: dict[tuple, str] = {}
    per_ind = []
    for ind in inds:
        aliases = {}
        for m in ind.measures:
            spec = ("count", None, m.where) if m.agg == "count" else (*distinct, m.where)
            aliases[m.name] = aggregates.setdefault(spec, f"_a{len(aggregates)}")
        compiled = compile_on_frame(ind, t, sf)
        per_ind.append({"name": ind.name, "by": list(ind.by), "aliases": aliases,
                        "columns": [dict(c) for c in compiled.columns],
                        "schema": {n: str(ty) for n, ty in compiled.expr.schema().items()}})
    columns = dict(dims)
    for spec in aggregates:  # the columns the aggregates read (a dimension may be one of them)
        for c in spec[1:]:
            if c is not None:
                columns.setdefault(c, t[c])
    entry = _to_sql(t.select(**columns), ())
    sets = list(dict.fromkeys(tuple(i.by) for i in inds))
    key_params = ("key_lo", "key_hi")
    entry["sql"] = P.grouping_sets_sql(entry["sql"], list(dims), sets,
                                       {a: spec for spec, a in aggregates.items()},
                                       tuple(_SENTINELS[k][1] for k in key_params))
    if keyed:
        entry["used"] = [*entry["used"], *key_params]
    entry["indicators"] = per_ind
    return entry


def _execute_grouped(wh: Warehouse, inds: list[Indicator], scope: Scope, filters: Filters
                     ) -> list[tuple[list[dict], pa.Table]]:
    import pyarrow.compute as pc

    registered = all(_registered(i) for i in inds)
    disk_key = f"grouped:{','.join(i.name for i in inds)}|{scope.kind}|{filters.age_at}"
    entry = _cached_sql(wh, ("grouped", tuple(inds), scope.kind, filters.age_at,
                             wh.key_range is not None),
                        _disk_key(wh, disk_key) if registered else None,
                        lambda: _grouped_entry(wh, inds, scope, filters))
    result = _fetch(wh, entry, _values(wh, scope, filters))
    dims = [c[3:] for c in result.column_names if c.startswith("_g_")]
    out = []
    for spec in entry["indicators"]:
        mask = None
        for d in dims:  # the rows of this indicator's grouping set
            test = pc.equal(result[f"_g_{d}"], 0 if d in spec["by"] else 1)
            mask = test if mask is None else pc.and_(mask, test)
        rows = result if mask is None else result.filter(mask)
        if spec["by"]:
            rows = rows.sort_by([(b, "ascending", "at_end") for b in spec["by"]])
        names = [c["name"] for c in spec["columns"]]
        cols = [rows[spec["aliases"].get(n, n)] for n in names]
        schema = ibis.schema(spec["schema"]).to_pyarrow()
        out.append((spec["columns"], pa.table(cols, names=names).cast(schema)))
    return out


def run_indicator(wh: Warehouse, ind: Indicator, scope: Scope = Scope(),
                  filters: Filters | None = None) -> dict:
    """Execute an indicator and return its JSON-able payload (the API's payload).

    No disclosure control here: `p4dp.privacy.disclosure.protect` is applied at the output
    boundary, for the role that asks.
    """
    filters = filters or Filters()
    scope = _effective_scope(ind, scope)
    return _payload(ind, scope, filters, *_execute(wh, ind, scope, filters))


def run_indicators(wh: Warehouse, inds: list[Indicator], scope: Scope = Scope(),
                   filters: Filters | None = None) -> list[dict | IndicatorError]:
    """The payloads of several indicators under one request (a dashboard), in order; an
    indicator that cannot answer the request gives its `IndicatorError` instead.

    Same payloads as `run_indicator` one by one; on DuckDB a frame marked `materialize` is
    computed once for all the indicators that read it under the same scope, and the counts of
    one frame under several groupings are one GROUPING SETS query (`_execute_grouped`).
    """
    filters = filters or Filters()
    out: list[dict | IndicatorError | None] = [None] * len(inds)
    groups: dict[tuple, list[int]] = {}
    for i, ind in enumerate(inds):
        try:
            scope_i = _effective_scope(ind, scope)
        except IndicatorError as e:
            out[i] = e
            continue
        if not _uses_sql_cache(wh):
            key: tuple = (i,)
        elif ind.frame.materialize:
            key = ("shared", ind.frame, scope_i)
        elif _groupable(ind):
            key = ("grouped", ind.frame, scope_i)
        else:
            key = (i,)
        groups.setdefault(key, []).append(i)
    for key, members in groups.items():
        scope_i = _effective_scope(inds[members[0]], scope)
        if len(members) > 1:
            run = _execute_shared if key[0] == "shared" else _execute_grouped
            results = run(wh, [inds[i] for i in members], scope_i, filters)
            for i, (columns, arrow) in zip(members, results):
                out[i] = _payload(inds[i], scope_i, filters, columns, arrow)
            continue
        (i,) = members
        try:
            out[i] = _payload(inds[i], scope_i, filters,
                              *_execute(wh, inds[i], scope_i, filters))
        except IndicatorError as e:
            out[i] = e
    return out


def _payload(ind: Indicator, scope: Scope, filters: Filters, columns: list[dict],
             arrow: pa.Table) -> dict:
    names = [c["name"] for c in columns]
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
        "scope": scope.as_dict(),
        "filters": filters.as_dict(),
        "ignored_filters": ignored_filters(ind, filters),
        "columns": [dict(c) for c in columns],
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
    "run_indicators",
]
