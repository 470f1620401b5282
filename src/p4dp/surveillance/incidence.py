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
_EPOCH = np.datetime64("1970-01-05")  # a Monday: week indices count from it


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
    """syndrome, region_code, week (Monday), cases — distinct patients."""
    p = wh.table("problem")
    p = p.filter(any_code(p) & (p.date >= start) & (p.date <= end))
    parts = [p.filter(s.matches(p)).select(
        "patient_id", "date", syndrome=ibis.literal(s.key, type="string"),
        age_max=ibis.literal(s.age_max_months, type="int32")) for s in syndromes]
    rows = parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]
    rows = rows.inner_join(_patients(wh), "patient_id")
    months = _age_months(rows.birth_year, rows.birth_month, rows.date)
    rows = rows.filter(rows.age_max.isnull() | (months < rows.age_max))
    rows = rows.mutate(week=P.week_start(rows.date))
    return rows.group_by("syndrome", "region_code", "week").aggregate(
        cases=rows.patient_id.nunique())


def active_events_query(wh: Warehouse, populations: dict[str, int | None], start: dt.date,
                        end: dt.date) -> ir.Table:
    """population, region_code, week (Monday), delta: the changes of the active lists."""
    e = wh.table("encounter")
    lo = start - dt.timedelta(weeks=ACTIVE_WINDOW_WEEKS)
    e = e.filter((e.date >= lo) & (e.date <= end))
    e = e.select("patient_id", week=P.week_start(e.date)).distinct()
    e = e.inner_join(_patients(wh), "patient_id")
    nxt = e.week.lead().over(ibis.window(group_by=e.patient_id, order_by=e.week))
    stop = e.week + ibis.interval(days=7 * ACTIVE_WINDOW_WEEKS)
    stop = ibis.least(stop, nxt.fill_null(stop))
    death = P.week_start(e.death_date) + ibis.interval(days=7)
    stop = ibis.ifelse(e.death_date.isnull(), stop, ibis.least(stop, death))
    iv = e.select("region_code", "birth_year", "birth_month", begin=e.week, stop=stop)
    parts = []
    for key, age_max in populations.items():
        t = iv
        if age_max is not None:
            limit = P.week_start(_date_at_age(t.birth_year, t.birth_month, age_max))
            t = t.mutate(stop=ibis.least(t.stop, limit))
        t = t.filter(t.begin < t.stop)
        t = t.select("region_code", "begin", "stop", population=ibis.literal(key, type="string"))
        parts += [t.select("population", "region_code", week=t.begin,
                           delta=ibis.literal(1, type="int64")),
                  t.select("population", "region_code", week=t.stop,
                           delta=ibis.literal(-1, type="int64"))]
    ev = parts[0].union(*parts[1:], distinct=False)
    ev = ev.filter(ev.week <= end)
    return ev.group_by("population", "region_code", "week").aggregate(delta=ev.delta.sum())


def last_data_date(wh: Warehouse) -> dt.date | None:
    e = wh.table("encounter")
    v = e.date.max().to_pyarrow().as_py()
    return v


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
    import time

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
    r_of = {r: i for i, r in enumerate(regions)}
    s_of = {s.key: i for i, s in enumerate(syndromes)}
    p_keys = list(pops)

    cases = np.zeros((len(syndromes), len(regions), n_weeks), dtype=np.int64)
    keep = [r_of.get(r, -1) for r in cases_t.column("region_code").to_pylist()]
    si = np.array([s_of[s] for s in cases_t.column("syndrome").to_pylist()], dtype=np.int64)
    ri = np.array(keep, dtype=np.int64)
    wi = _week_index(cases_t.column("week"), first)
    ok = (ri >= 0) & (wi >= 0) & (wi < n_weeks)
    np.add.at(cases, (si[ok], ri[ok], wi[ok]), cases_t.column("cases").to_numpy()[ok])

    deltas = np.zeros((len(p_keys), len(regions), n_weeks + 1), dtype=np.int64)
    pi = np.array([p_keys.index(p) for p in events.column("population").to_pylist()],
                  dtype=np.int64)
    ri = np.array([r_of.get(r, -1) for r in events.column("region_code").to_pylist()],
                  dtype=np.int64)
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
