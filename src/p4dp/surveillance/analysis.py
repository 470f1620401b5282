"""The cube with its baselines, thresholds, epidemic periods and alert levels, per series."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from p4dp.analytics.compile import Warehouse
from p4dp.surveillance.incidence import Cube, build_cube, last_data_date, monday, week_label
from p4dp.surveillance.serfling import (
    PROVISIONAL_WEEKS,
    TRAINING_YEARS,
    Epidemic,
    baseline,
    epidemics,
    seasons,
)
from p4dp.surveillance.stored import (
    StoreReport,
    data_version,
    store_run,
    stored_cube,
)

#: Alert levels, in increasing order: a week above its threshold, a week of a declared epidemic.
LEVELS: dict[str, str] = {"above": "Dépassement du seuil", "epidemic": "Épidémie"}
_NONE, _ABOVE, _EPIDEMIC = 0, 1, 2
LEVEL_CODES = (None, "above", "epidemic")
#: A single week above its threshold raises an alert only with at least this many cases in the
#: series: over a near-zero baseline (Lyme disease in a small region, scabies in summer) one or two
#: cases cross any threshold and would raise an alert a week. (Epidemics need two consecutive
#: weeks above the threshold, which is their own guard against chance.) Project choice, in the spirit of the minimum
#: counts of syndromic-surveillance systems (CDC EARS / ESSENCE flag nothing under a few cases).
MIN_ALERT_CASES = 3


@dataclass
class Analysis:
    cube: Cube
    expected: np.ndarray     # [S, R, W]
    threshold: np.ndarray    # [S, R, W]
    level: np.ndarray        # int8 [S, R, W]: 0 none, 1 above the threshold, 2 epidemic
    epidemics: dict[tuple[int, int], list[Epidemic]]
    provisional: np.ndarray  # bool [W]

    def level_name(self, s: int, r: int, w: int) -> str | None:
        return LEVEL_CODES[int(self.level[s, r, w])]


def analyse(cube: Cube, last_data: dt.date | None = None) -> Analysis:
    """Baselines and epidemics of every series of the cube. Weeks within PROVISIONAL_WEEKS of
    `last_data` (default: the cube's end) are provisional."""
    shape = cube.cases.shape
    expected, threshold = np.full(shape, np.nan), np.full(shape, np.nan)
    level = np.zeros(shape, dtype=np.int8)
    found: dict[tuple[int, int], list[Epidemic]] = {}
    plan = seasons(cube.weeks)
    for s in range(shape[0]):
        for r in range(shape[1]):
            y = cube.incidence[s, r]
            if not np.isfinite(y).any():
                continue
            b = baseline(cube.weeks, y, plan)
            # a negative expected incidence (a trend fitted near zero) means none
            expected[s, r], threshold[s, r] = np.maximum(b.expected, 0.0), b.threshold
            counted = np.isfinite(y) & (cube.cases[s, r] >= MIN_ALERT_CASES)
            level[s, r] = np.where(counted & (y > b.threshold), _ABOVE, _NONE)
            eps = epidemics(y, b.threshold)
            for e in eps:
                level[s, r, e.start:e.end + 1] = _EPIDEMIC
            found[(s, r)] = eps
    last = monday(last_data or cube.as_of)
    cutoff = last - dt.timedelta(weeks=PROVISIONAL_WEEKS - 1)
    provisional = np.array([w >= cutoff for w in cube.weeks], dtype=bool)
    return Analysis(cube, expected, threshold, level, found, provisional)


def analyse_warehouse(wh: Warehouse, years: float | None = None, end: dt.date | None = None
                      ) -> Analysis:
    """Analysis of the warehouse's data up to `end` (default: the last encounter), over `years`
    years of series plus the TRAINING_YEARS their first thresholds need (default: everything).

    Reads the cube stored by `run` when it is current, else computes it from the CDM tables."""
    last = last_data_date(wh)
    if last is None:
        raise ValueError("l'entrepôt ne contient aucune consultation : chargez des données "
                         "(`p4dp ingest`) avant la surveillance")
    stop = min(end, last) if end else last
    start = None
    if years is not None:
        start = stop - dt.timedelta(days=round((years + TRAINING_YEARS) * 365.25))
    cube = stored_cube(wh, start, stop) or build_cube(wh, start=start, end=stop)
    return analyse(cube, last_data=last)


@dataclass(frozen=True)
class RunReport:
    weeks: int
    series: int
    weekly_rows: int
    alerts: StoreReport
    seconds: float


def run(wh: Warehouse) -> RunReport:
    """Recompute everything from the CDM tables — the weekly cube, the thresholds, the alerts —
    and store it (`wh` must be opened read-write)."""
    t0 = time.perf_counter()
    con = wh.backend.con
    version = data_version(wh)
    cube = build_cube(wh)
    a = analyse(cube)
    n, report = store_run(con, cube, version, alert_rows(a))
    return RunReport(len(cube.weeks), cube.cases.shape[0] * cube.cases.shape[1], n, report,
                     time.perf_counter() - t0)


def alert_rows(a: Analysis) -> pa.Table:
    """One row per series and week with an alert level (the events to store)."""
    s_idx, r_idx, w_idx = np.nonzero(a.level)
    c = a.cube
    return pa.table({
        "syndrome": pa.array([c.syndromes[i].key for i in s_idx], pa.string()),
        "region_code": pa.array([c.regions[i] for i in r_idx], pa.string()),
        "week": pa.array([c.weeks[i] for i in w_idx], pa.date32()),
        "iso_week": pa.array([week_label(c.weeks[i]) for i in w_idx], pa.string()),
        "level": pa.array([LEVEL_CODES[v] for v in a.level[s_idx, r_idx, w_idx]], pa.string()),
        "incidence": pa.array(c.incidence[s_idx, r_idx, w_idx], pa.float64()),
        "threshold": pa.array(a.threshold[s_idx, r_idx, w_idx], pa.float64()),
        "provisional": pa.array(a.provisional[w_idx], pa.bool_()),
    })
