"""Weekly cases, GP-list denominators and incidence per 100,000 by region and nationally.

Two grouped queries build the whole cube (every syndrome × region × ISO week), never a query per
week or per region:

* **cases** — problems matching a syndrome (`syndromes.py`), one per patient, syndrome and ISO
  week, grouped by syndrome, region of the patient's practice and week;
* **active patients** — the denominator. A patient is *active* in a week when they had at least
  one encounter in the `ACTIVE_WINDOW_WEEKS` weeks ending with it (that week included), did not
  object, and were alive. Each encounter week opens an interval of activity that the patient's
  next encounter week (or the end of the window, or death) closes: the intervals of a patient are
  disjoint, so +1 at each start and −1 at each end, summed per region and week, give the active
  list by a cumulative sum over weeks. Age-limited syndromes (bronchiolitis < 2 years) use the
  same intervals clipped to the age window.

Incidence = cases / active patients × 100,000 with an exact Poisson 95 % confidence interval
(Garwood 1936: chi-square quantiles of the count, divided by the denominator). The Réseau
Sentinelles computes its intervals with a design-based variance over its GPs (clustered
reports, post-stratification by region and GP activity, Souty et al., Popul Health Metr 2014):
ours ignore the clustering of patients in practices, so they are narrower; see
docs/surveillance.md. The national series is the whole network (crude rate over all regions).

Extrapolation: estimated cases in a region = incidence × its INSEE population / 100,000 (the
regional legal population; the national population of the year for France), none for
age-limited syndromes (INSEE totals are for all ages).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from functools import cached_property

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
from scipy.stats import chi2

from p4dp.analytics import portable as P
from p4dp.analytics.compile import Warehouse
from p4dp.surveillance import population as POP
from p4dp.surveillance.syndromes import SYNDROMES, Syndrome, any_code

#: A patient is in the GP-list denominator while they had an encounter within the last 2 years
#: (104 weeks). P4DP choice: French patients are not registered on a list, so the list is
#: estimated from contacts; two years is the window of the "active patient" of general-practice
#: EHR research (RACGP Standards for general practices, 5th ed.: 3 visits in 2 years — we ask 1,
#: as healthy French adults often see their GP less than once a year).
ACTIVE_WINDOW_WEEKS = 104
#: Confidence level of every interval of the cube.
CI_LEVEL = 0.95
#: Incidence is per 100,000 patients (Réseau Sentinelles convention).
PER = 100_000
#: The assumed birth day of P4DP (birth year and month only centrally), as in analytics.
BIRTH_DAY = P.BIRTH_DAY_CONVENTION


def monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def week_label(d: dt.date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def parse_week(text: str) -> dt.date:
    """'2024-W05' → Monday of that ISO week; a clear French error otherwise."""
    try:
        year, week = text.strip().upper().split("-W")
        return dt.date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise ValueError(f"semaine invalide : {text!r} ; écrivez l'année ISO et la semaine, par "
                         "exemple 2024-W05") from None


def _patients(wh: Warehouse) -> ir.Table:
    p = wh.table("patient")
    p = p.filter(p.opposition.fill_null(False) == False)  # noqa: E712 - Ibis expression
    pr = wh.table("practice").select("practice_id", "region_code")
    return p.inner_join(pr, "practice_id").select(
        "patient_id", "region_code", "birth_year", "birth_month", "death_date")


def _age_months(by: ir.IntegerValue, bm: ir.IntegerValue, on: ir.DateValue) -> ir.IntegerValue:
    """Completed months of age on `on`, from integer date parts (portable), born on the 15th."""
    month = bm.cast("int32").fill_null(P.UNKNOWN_BIRTH_MONTH)
    months = ((on.year().cast("int32") - by.cast("int32")) * 12
              + on.month().cast("int32") - month)
    return (months - (on.day() < BIRTH_DAY).cast("int32")).cast("int32")


def _date_at_age(by: ir.IntegerValue, bm: ir.IntegerValue, months: int) -> ir.DateValue:
    """The day a patient reaches `months` months of age."""
    m0 = bm.cast("int32").fill_null(P.UNKNOWN_BIRTH_MONTH) - 1 + months
    return ibis.date(by.cast("int32") + m0 // 12, m0 % 12 + 1, BIRTH_DAY)


def cases_query(wh: Warehouse, syndromes: tuple[Syndrome, ...], start: dt.date, end: dt.date
                ) -> ir.Table:
    """syndrome, region_code, week (Monday), cases — distinct patients.

    One scan of the problem table: each problem carrying a surveillance code gets the array of
    the syndromes it matches (R80 is both influenza-like illness and acute respiratory
    infection), unnested to one row per syndrome."""
    p = wh.table("problem")
    p = p.filter(any_code(p) & (p.date >= start) & (p.date <= end))
    matched = ibis.array([ibis.ifelse(s.matches(p), s.key, ibis.null("string"))
                          for s in syndromes])
    rows = p.select("patient_id", "date", syndrome=matched.unnest())
    rows = rows.filter(rows.syndrome.notnull())
    rows = rows.inner_join(_patients(wh), "patient_id")
    limits = [(rows.syndrome == s.key, s.age_max_months) for s in syndromes if s.age_max_months]
    if limits:
        age_max = ibis.cases(*limits, else_=ibis.null("int32"))
        months = _age_months(rows.birth_year, rows.birth_month, rows.date)
        rows = rows.filter(age_max.isnull() | (months < age_max))
    rows = rows.mutate(week=P.week_start(rows.date))
    return rows.group_by("syndrome", "region_code", "week").aggregate(
        cases=rows.patient_id.nunique())


def active_events_query(wh: Warehouse, populations: dict[str, int | None], start: dt.date,
                        end: dt.date) -> ir.Table:
    """population, region_code, week (Monday), delta: the changes of the active lists.

    No DISTINCT on (patient, week): two encounters of the same week give an empty interval
    (next week = this week), dropped like any other empty one. The intervals are counted by
    (region, start, stop, age-limited stops) before being turned into +1 / −1 events, so the
    events are built on a few thousand groups, not on every encounter."""
    e = wh.table("encounter")
    lo = start - dt.timedelta(weeks=ACTIVE_WINDOW_WEEKS)
    e = e.filter((e.date >= lo) & (e.date <= end))
    e = e.select("patient_id", week=P.week_start(e.date))
    nxt = e.week.lead().over(ibis.window(group_by=e.patient_id, order_by=e.week))
    stop = e.week + ibis.interval(days=7 * ACTIVE_WINDOW_WEEKS)
    iv = e.select("patient_id", "week", stop=ibis.least(stop, nxt.fill_null(stop)))
    iv = iv.filter(iv.week < iv.stop).inner_join(_patients(wh), "patient_id")
    death = P.week_start(iv.death_date) + ibis.interval(days=7)
    iv = iv.mutate(stop=ibis.ifelse(iv.death_date.isnull(), iv.stop, ibis.least(iv.stop, death)))
    stops = {}
    for key, age_max in populations.items():
        if age_max is None:
            stops[key] = iv.stop
            continue
        # only patients born late enough can be in the age group during the period: skip the
        # date arithmetic for the others
        young = iv.birth_year >= lo.year - age_max // 12 - 1
        limit = P.week_start(_date_at_age(iv.birth_year, iv.birth_month, age_max))
        stops[key] = ibis.ifelse(young, ibis.least(iv.stop, limit), ibis.null("date"))
    cols = {f"stop_{i}": v for i, v in enumerate(stops.values())}
    grouped = iv.group_by("region_code", "week", **cols).aggregate(n=iv.count())
    events = []
    for i, key in enumerate(stops):
        stop_i = grouped[f"stop_{i}"]
        valid = stop_i.notnull() & (grouped.week < stop_i)
        events += [ibis.struct({"population": key, "week": grouped.week, "delta": grouped.n,
                                "valid": valid}),
                   ibis.struct({"population": key, "week": stop_i, "delta": -grouped.n,
                                "valid": valid})]
    ev = grouped.select("region_code", ev=ibis.array(events).unnest())
    ev = ev.select("region_code", population=ev.ev["population"], week=ev.ev["week"],
                   delta=ev.ev["delta"].cast("int64"), valid=ev.ev["valid"])
    ev = ev.filter(ev.valid & (ev.week <= end))
    return ev.group_by("population", "region_code", "week").aggregate(delta=ev.delta.sum())


def last_data_date(wh: Warehouse) -> dt.date | None:
    return wh.table("encounter").date.max().to_pyarrow().as_py()


def _positions(values: pa.ChunkedArray, order: list[str]) -> np.ndarray:
    """Position of each value in `order` (-1 when absent), vectorised."""
    import pyarrow.compute as pc

    return pc.index_in(values, value_set=pa.array(order)).fill_null(-1).to_numpy()


def _week_index(weeks: pa.ChunkedArray | pa.Array, first: dt.date) -> np.ndarray:
    days = np.asarray(weeks.cast(pa.date32()).to_numpy(zero_copy_only=False),
                      dtype="datetime64[D]")
    return ((days - np.datetime64(first)).astype(np.int64)) // 7


@dataclass
class Cube:
    """Every syndrome × region × week of the period; regions end with the national row."""
    weeks: list[dt.date]
    syndromes: tuple[Syndrome, ...]
    regions: tuple[str, ...]
    cases: np.ndarray        # int64 [S, R, W]
    population: np.ndarray   # int64 [S, R, W]: active patients of the syndrome's population
    as_of: dt.date
    timings: dict[str, float] = field(default_factory=dict)

    @cached_property
    def incidence(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.population > 0, self.cases / self.population * PER, np.nan)

    @cached_property
    def ci(self) -> tuple[np.ndarray, np.ndarray]:
        return poisson_rate_ci(self.cases, self.population)

    @cached_property
    def extrapolated(self) -> np.ndarray:
        """Estimated cases in the region's INSEE population (NaN where not applicable)."""
        years = np.array([w.year for w in self.weeks], dtype=np.int64)
        pops = np.full((len(self.regions), len(years)), np.nan)
        for y in np.unique(years):
            for r, code in enumerate(self.regions):
                pops[r, years == y] = POP.population(code, int(y)) or np.nan
        out = np.full(self.cases.shape, np.nan)
        for s, syn in enumerate(self.syndromes):
            if syn.age_max_months is None:
                out[s] = self.incidence[s] * pops / PER
        return out

    def to_arrow(self) -> pa.Table:
        """Long form: syndrome, region_code, week, cases, population (the stored table)."""
        n_s, n_r, n_w = self.cases.shape
        s_idx, r_idx, w_idx = (a.ravel() for a in np.indices(self.cases.shape))
        weeks = np.array(self.weeks, dtype="datetime64[D]")
        return pa.table({
            "syndrome": pa.array(np.array([s.key for s in self.syndromes])[s_idx]),
            "region_code": pa.array(np.array(self.regions)[r_idx]),
            "week": pa.array(weeks[w_idx], pa.date32()),
            "cases": pa.array(self.cases.ravel(), pa.int64()),
            "population": pa.array(self.population.ravel(), pa.int64()),
        })

    @classmethod
    def from_arrow(cls, t: pa.Table, as_of: dt.date, start: dt.date | None = None,
                   end: dt.date | None = None) -> Cube:
        """The cube of a stored long table (`to_arrow`), optionally cut to [start, end]."""
        known = {s.key: s for s in SYNDROMES.values()}
        keys = [k for k in dict.fromkeys(t.column("syndrome").to_pylist()) if k in known]
        regions = sorted(set(t.column("region_code").to_pylist()) - {POP.NATIONAL})
        regions = (*regions, POP.NATIONAL)
        days = np.asarray(t.column("week").to_numpy(zero_copy_only=False), "datetime64[D]")
        first = np.datetime64(monday(start)) if start else days.min()
        last = np.datetime64(monday(end)) if end else days.max()
        n_w = int((last - first).astype(np.int64) // 7) + 1
        wi = (days - first).astype(np.int64) // 7
        si = _positions(t.column("syndrome"), keys)
        ri = _positions(t.column("region_code"), list(regions))
        ok = (si >= 0) & (ri >= 0) & (wi >= 0) & (wi < n_w)
        shape = (len(keys), len(regions), n_w)
        cases, population = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
        cases[si[ok], ri[ok], wi[ok]] = t.column("cases").to_numpy()[ok]
        population[si[ok], ri[ok], wi[ok]] = t.column("population").to_numpy()[ok]
        weeks = [(first + np.timedelta64(7 * i, "D")).astype(dt.date) for i in range(n_w)]
        return cls(weeks, tuple(known[k] for k in keys), regions, cases, population, as_of)

    def s_index(self, key: str) -> int:
        return [s.key for s in self.syndromes].index(key)

    def r_index(self, code: str) -> int:
        return list(self.regions).index(code)


def poisson_rate_ci(cases: np.ndarray, population: np.ndarray, level: float = CI_LEVEL
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) Poisson interval of cases / population × 100,000; NaN without population."""
    a = 1 - level
    k = np.asarray(cases, dtype=float)
    lo = np.where(k > 0, chi2.ppf(a / 2, 2 * k) / 2, 0.0)
    hi = chi2.ppf(1 - a / 2, 2 * k + 2) / 2
    n = np.asarray(population, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.where(n > 0, lo / n * PER, np.nan), np.where(n > 0, hi / n * PER, np.nan))


def build_cube(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None,
               syndromes: tuple[Syndrome, ...] | None = None,
               regions: tuple[str, ...] | None = None) -> Cube:
    """The weekly cube from `start` to `end` (default: the first and last encounter weeks)."""
    syndromes = tuple(syndromes or SYNDROMES.values())
    timings = {}
    t0 = time.perf_counter()
    as_of = end or last_data_date(wh)
    if as_of is None:
        raise ValueError("l'entrepôt ne contient aucune consultation : chargez des données "
                         "(`p4dp ingest`) avant la surveillance")
    if start is None:
        e = wh.table("encounter")
        start = e.date.min().to_pyarrow().as_py()
    first, last = monday(start), monday(as_of)
    n_weeks = (last - first).days // 7 + 1
    weeks = [first + dt.timedelta(weeks=i) for i in range(n_weeks)]
    pops = {s.population: s.age_max_months for s in syndromes}
    cases_t = cases_query(wh, syndromes, first, as_of).to_pyarrow()
    events = active_events_query(wh, pops, first, as_of).to_pyarrow()
    timings["queries_s"] = time.perf_counter() - t0
    if regions is None:
        found = set(cases_t.column("region_code").to_pylist())
        found |= set(events.column("region_code").to_pylist())
        regions = tuple(sorted(r for r in found if r is not None))
    regions = (*regions, POP.NATIONAL)
    p_keys = list(pops)

    cases = np.zeros((len(syndromes), len(regions), n_weeks), dtype=np.int64)
    si = _positions(cases_t.column("syndrome"), [s.key for s in syndromes])
    ri = _positions(cases_t.column("region_code"), list(regions))
    wi = _week_index(cases_t.column("week"), first)
    ok = (ri >= 0) & (wi >= 0) & (wi < n_weeks)
    np.add.at(cases, (si[ok], ri[ok], wi[ok]), cases_t.column("cases").to_numpy()[ok])

    deltas = np.zeros((len(p_keys), len(regions), n_weeks + 1), dtype=np.int64)
    pi = _positions(events.column("population"), p_keys)
    ri = _positions(events.column("region_code"), list(regions))
    wi = np.clip(_week_index(events.column("week"), first), 0, n_weeks)
    ok = ri >= 0
    np.add.at(deltas, (pi[ok], ri[ok], wi[ok]), events.column("delta").to_numpy()[ok])
    active = np.cumsum(deltas, axis=2)[:, :, :n_weeks]

    national = len(regions) - 1
    cases[:, national] = cases[:, :national].sum(axis=1)
    active[:, national] = active[:, :national].sum(axis=1)
    population = active[[p_keys.index(s.population) for s in syndromes]]
    timings["cube_s"] = time.perf_counter() - t0 - timings["queries_s"]
    return Cube(weeks, syndromes, regions, cases, population, as_of, timings)
