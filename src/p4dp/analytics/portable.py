"""Portable helpers: the ONLY place where query-engine differences are handled.

Every indicator, cohort and surveillance query is written with Ibis and these helpers, so the same
definition runs on DuckDB (embedded default) and on Spark (distributed). Each helper avoids an Ibis
operation whose meaning differs between the two engines, and says which one and why:

* ages: Ibis ``delta(unit="year")`` compiles to DuckDB ``date_diff('year')`` (counts calendar-year
  boundaries crossed) but to a month-based computation on Spark: they disagree around birthdays
  (DESIGN.md, known traps). Ages here come from integer date parts only.
* first/latest value per patient: ``last(order_by=)`` fails on Spark and ``argmax`` breaks ties
  differently on each engine; we use ``row_number`` over an explicit, total ordering.
* ISO weeks: DuckDB ``week`` is ISO-8601 but not every engine exposes the ISO *year*; we derive
  both from the Thursday of the week (ISO-8601 §2.2.10), which is plain date arithmetic.
* null ordering: Spark sorts nulls first in ascending order, DuckDB last; every ordering here
  says "nulls last" explicitly.
* percentiles: DuckDB ``quantile_cont`` is exact; Spark has an approximate ``percentile_approx``
  that Ibis may pick for ``approx_quantile``. We only ever call the exact ``quantile``.
* distinct patients: DuckDB hashes every pseudonym for ``count(DISTINCT)`` (≈ 0.5 s over the
  3.5 M consultations of `primege` under three groupings); over the dense integer
  ``patient_key`` a bitmap (``bitstring_agg``, DuckDB only) gives the same exact count five
  times faster. Spark keeps ``count(DISTINCT)`` (`count_distinct_keys`).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

#: The day of birth is never kept centrally (cdm `patient`: birth year and month only). Ages are
#: computed as if every patient was born on the 15th of their birth month, the middle of the month,
#: which bounds the error of an age in completed years to the half month around the birthday.
BIRTH_DAY_CONVENTION = 15
#: When the birth month is missing we take July, the middle of the year (P4DP convention, same
#: reasoning as the day).
UNKNOWN_BIRTH_MONTH = 7
#: Mean length of a Gregorian year in days, for exact (fractional) ages.
DAYS_PER_YEAR = 365.25


def birth_date(birth_year: ir.IntegerValue, birth_month: ir.IntegerValue) -> ir.DateValue:
    """Assumed date of birth: the 15th of the birth month (July when the month is unknown)."""
    month = birth_month.cast("int32").fill_null(UNKNOWN_BIRTH_MONTH)
    return ibis.date(birth_year.cast("int32"), month, BIRTH_DAY_CONVENTION)


def age_at(
    birth_year: ir.IntegerValue, birth_month: ir.IntegerValue, on: ir.DateValue
) -> ir.IntegerValue:
    """Age in completed years on the date `on`, from integer date parts only.

    A patient born in March 2010 (assumed 15 March) is 13 on 14 March 2024 and 14 on 15 March 2024.
    Null when the birth year or the date is null.
    """
    month = birth_month.cast("int32").fill_null(UNKNOWN_BIRTH_MONTH)
    year = birth_year.cast("int32")
    before_birthday = (on.month() < month) | (
        (on.month() == month) & (on.day() < BIRTH_DAY_CONVENTION)
    )
    return (on.year().cast("int32") - year - before_birthday.cast("int32")).cast("int32")


def exact_age(
    birth_year: ir.IntegerValue, birth_month: ir.IntegerValue, on: ir.DateValue
) -> ir.FloatingValue:
    """Exact age in years (days since the assumed birth date / 365.25), e.g. for IOTF cut-offs.

    Day differences (unlike year differences) mean the same on every engine.
    """
    days = on.delta(birth_date(birth_year, birth_month), unit="day")
    return days.cast("float64") / DAYS_PER_YEAR


def band_labels(breaks: Sequence[int]) -> tuple[str, ...]:
    """French labels of age bands: breaks (0, 16, 61) give "0-15", "16-60", "61 et plus".

    Every band but the last is closed on both integer ends; the last is open. Pass explicit labels
    to `age_band` to reproduce the seed's wording ("60 et plus" for 61 and over).
    """
    _check_breaks(breaks)
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(breaks[:-1], breaks[1:])]
    labels.append(f"{breaks[-1]} et plus")
    return tuple(labels)


def _check_breaks(breaks: Sequence[int]) -> None:
    if not breaks or any(b >= c for b, c in zip(breaks, breaks[1:])):
        raise ValueError(f"age band breaks must be a non-empty increasing list, got {list(breaks)}")


def age_band(
    age: ir.IntegerValue, breaks: Sequence[int], labels: Sequence[str] | None = None
) -> ir.StringValue:
    """Age band label of an age in completed years; null for a null age or an age below breaks[0].

    `breaks` are the lower bounds of each band (the last band is open-ended).
    """
    labels = tuple(labels) if labels is not None else band_labels(breaks)
    _check_breaks(breaks)
    if len(labels) != len(breaks):
        raise ValueError(f"{len(breaks)} age band breaks need {len(breaks)} labels, got {labels}")
    branches = [(age >= lo, lab) for lo, lab in reversed(list(zip(breaks, labels)))]
    return ibis.cases(*branches, else_=ibis.null("string"))


def iso_thursday(d: ir.DateValue) -> ir.DateValue:
    """The Thursday of d's ISO week (Monday-based): it fixes both the ISO year and the ISO week."""
    offset = (3 - d.day_of_week.index().cast("int32")).cast("int32")
    return d + offset.as_interval("D")


def iso_year(d: ir.DateValue) -> ir.IntegerValue:
    """ISO-8601 week-numbering year (2024-12-30 belongs to ISO year 2025)."""
    return iso_thursday(d).year().cast("int32")


def iso_week(d: ir.DateValue) -> ir.IntegerValue:
    """ISO-8601 week number, 1–53."""
    return ((iso_thursday(d).day_of_year().cast("int32") - 1) // 7 + 1).cast("int32")


def iso_week_label(d: ir.DateValue) -> ir.StringValue:
    """ISO week as "2024-W05" (sortable as text)."""
    week = iso_week(d)
    padded = ibis.ifelse(week < 10, "0" + week.cast("string"), week.cast("string"))
    return iso_year(d).cast("string") + "-W" + padded


def week_start(d: ir.DateValue) -> ir.DateValue:
    """Monday of d's ISO week."""
    return d - d.day_of_week.index().cast("int32").as_interval("D")


def month_start(d: ir.DateValue) -> ir.DateValue:
    """First day of d's month."""
    return ibis.date(d.year().cast("int32"), d.month().cast("int32"), 1)


def year_start(d: ir.DateValue) -> ir.DateValue:
    """1 January of d's year."""
    return ibis.date(d.year().cast("int32"), 1, 1)


def month_label(d: ir.DateValue) -> ir.StringValue:
    """Month as "2024-03"."""
    m = d.month().cast("int32")
    padded = ibis.ifelse(m < 10, "0" + m.cast("string"), m.cast("string"))
    return d.year().cast("string") + "-" + padded


def first_per_patient(
    t: ir.Table,
    order_by: Sequence[str | ir.Value],
    tie_breakers: Sequence[str | ir.Value],
    by: Sequence[str] = ("patient_id",),
    descending: bool = False,
) -> ir.Table:
    """One row per `by` group: the first by `order_by`, ties broken by `tie_breakers` (ascending).

    `tie_breakers` must make the order total (typically the row's primary key): without them two
    engines may return different rows, which is why this uses `row_number` and not `argmin`.
    """
    if not tie_breakers:
        raise ValueError("first/latest per patient needs explicit tie-breakers (e.g. the row id)")
    cols = [t[c] if isinstance(c, str) else c for c in order_by]
    # nulls last in both directions, spelled out: the engines' defaults differ (Spark sorts nulls
    # first ascending, DuckDB last), so a row with no date is never "the first" nor "the latest"
    keys = [k.desc(nulls_first=False) if descending else k.asc(nulls_first=False) for k in cols]
    keys += [(t[c] if isinstance(c, str) else c).asc(nulls_first=False) for c in tie_breakers]
    rn = ibis.row_number().over(group_by=[t[c] for c in by], order_by=keys)
    return t.mutate(_rn=rn).filter(lambda s: s._rn == 0).drop("_rn")


def latest_per_patient(
    t: ir.Table,
    order_by: Sequence[str | ir.Value],
    tie_breakers: Sequence[str | ir.Value],
    by: Sequence[str] = ("patient_id",),
) -> ir.Table:
    """One row per `by` group: the latest by `order_by` (descending), ties broken by
    `tie_breakers` ascending."""
    return first_per_patient(t, order_by, tie_breakers, by=by, descending=True)


def percentile(x: ir.NumericColumn, q: float) -> ir.FloatingScalar:
    """Exact percentile with linear interpolation between order statistics (type 7, as NumPy's
    default and DuckDB `quantile_cont`). Never an approximate quantile."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"percentile must be in [0, 1], got {q}")
    return x.quantile(q)


def safe_ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den, null (not an error, not infinity) when den is 0 or null."""
    return ibis.ifelse(den.fill_null(0) == 0, ibis.null("float64"),
                       num.cast("float64") / den.cast("float64"))


def percent(num: ir.NumericValue, den: ir.NumericValue, digits: int = 1) -> ir.FloatingValue:
    """100 × num / den rounded to `digits`, null when den is 0."""
    return (safe_ratio(num, den) * 100).round(digits)


#: Widest range of patient keys counted with a bitmap: each group of a query holds a bitmap of
#: (hi − lo + 1) bits, here at most 512 KB, so that a grouping by week over 15 years (≈ 800
#: groups) stays under half a gigabyte; a wider base counts with `count(DISTINCT)`.
MAX_BITMAP_KEYS = 4_194_304


@ibis.udf.agg.builtin(name="bitstring_agg")
def _bitstring_agg(key: dt.int32, lo: dt.int32, hi: dt.int32) -> dt.binary:  # DuckDB BIT
    """DuckDB: a bitmap of hi − lo + 1 bits with the bit of each key set."""


@ibis.udf.scalar.builtin(name="bit_count")
def _bit_count(bits: dt.binary) -> dt.int64:
    """DuckDB: the number of bits set."""


def count_distinct_keys(key: ir.IntegerColumn, lo: ir.IntegerValue, hi: ir.IntegerValue,
                        where: ir.BooleanValue | None = None) -> ir.IntegerScalar:
    """DuckDB only: the exact number of distinct non-null `key`s (where `where`), all of which
    must lie in [lo, hi] (a key outside is an error, never a wrong count): the bits set in a
    bitmap of the keys, 0 when no row counts. Callers keep `nunique` for other engines."""
    bits = _bitstring_agg(key.cast("int32"), lo, hi, where=where)
    return _bit_count(bits).fill_null(0)


def bitmap_count_sql(column: str, lo: str, hi: str) -> str:
    """`count_distinct_keys` as SQL text for `grouping_sets_sql` (DuckDB only)."""
    return f"coalesce(bit_count(bitstring_agg({column}, {lo}, {hi})), 0)"


def grouping_sets_sql(frame_sql: str, dims: Sequence[str], sets: Sequence[Sequence[str]],
                      aggregates: dict[str, tuple[str, str | None, str | None]],
                      key_range: tuple[str, str] | None = None) -> str:
    """One scan of `frame_sql` answering several GROUP BYs at once (SQL:1999 GROUPING SETS, in
    DuckDB and Spark SQL alike; Ibis cannot express it). `dims` are columns of the frame; each
    gets a `_g_<dim>` column, 0 in the rows of a set that groups by it (a null dimension value
    is told apart from "not grouped" that way). `aggregates`: alias → (kind, column, where)
    with kind "count" (rows; `column` unused), "distinct" (distinct non-null `column`) or "keys"
    (the same over dense integer keys, as a bitmap over `key_range`, SQL expressions of its
    bounds: DuckDB only, see `count_distinct_keys`), `where` a boolean column or None.
    Conditional counts are spelled with CASE, not FILTER, so that the text is the same on both
    engines; a null `where` does not count, as with Ibis' `where=`.
    Identifiers must be plain (letters, digits, underscores: checked)."""
    def ident(name: str) -> str:
        if not name.replace("_", "a").isalnum():
            raise ValueError(f"not a plain identifier: {name!r}")
        return name

    def agg(kind: str, column: str | None, where: str | None) -> str:
        value = "1" if kind == "count" else ident(column)
        if where is not None:
            value = f"CASE WHEN {ident(where)} THEN {value} END"
        elif kind == "count":
            return "count(*)"
        if kind == "keys":
            if key_range is None:
                raise ValueError("counting keys needs their range")
            return bitmap_count_sql(value, *key_range)
        return f"count({'DISTINCT ' if kind == 'distinct' else ''}{value})"

    cols = [f"grouping({ident(d)}) AS _g_{d}" for d in dims] + list(dims)
    cols += [f"{agg(*spec)} AS {ident(alias)}" for alias, spec in aggregates.items()]
    groups = ", ".join("(" + ", ".join(ident(d) for d in s) + ")" for s in sets)
    return (f"SELECT {', '.join(cols)} FROM ({frame_sql}) AS _frame "
            f"GROUP BY GROUPING SETS ({groups})")
