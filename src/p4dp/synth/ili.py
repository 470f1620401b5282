"""Weekly influenza-like-illness incidence driving the synthetic ILI consultations.

Source: Réseau Sentinelles weekly ILI incidence for France (`p4dp.reference`,
``sentinelles_ili_fr.csv``, 1984-W44 → 2020-W39). After the series ends the generator uses the
**mean seasonal profile** of ISO weeks over the seasons 2000–2019 (the mean incidence of each ISO
week number), so that winter epidemics continue at an average height; the missing week 1989-W19
and the all-zero summer weeks are kept as published (they are outside 2000–2019 or harmless).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from p4dp.reference import path as reference_path
from p4dp.synth import _columns as C

PROFILE_YEARS = (2000, 2019)


@lru_cache(maxsize=1)
def sentinelles_weekly() -> tuple[np.ndarray, np.ndarray]:
    """(Monday of each ISO week as days since epoch, incidence per 100,000), oldest first."""
    mondays, inc = [], []
    with reference_path("sentinelles_ili_fr.csv").open(encoding="ascii") as f:
        for row in csv.DictReader(f):
            w = int(row["week"])
            mondays.append(C.day(date.fromisocalendar(w // 100, w % 100, 1)))
            inc.append(float(row["inc100"] or 0.0))
    order = np.argsort(mondays)
    return np.asarray(mondays, dtype=np.int64)[order], np.asarray(inc)[order]


@lru_cache(maxsize=1)
def seasonal_profile() -> np.ndarray:
    """Mean incidence per 100,000 by ISO week number (index 1–53) over PROFILE_YEARS."""
    mondays, inc = sentinelles_weekly()
    weeks = np.array([date(1970, 1, 1) + timedelta(days=int(d)) for d in mondays])
    iso = np.array([(d.isocalendar()[0], d.isocalendar()[1]) for d in weeks])
    sel = (iso[:, 0] >= PROFILE_YEARS[0]) & (iso[:, 0] <= PROFILE_YEARS[1])
    prof = np.zeros(54)
    for w in range(1, 54):
        m = sel & (iso[:, 1] == w)
        prof[w] = inc[m].mean() if m.any() else 0.0
    prof[53] = prof[53] or (prof[52] + prof[1]) / 2
    return prof


def weekly_incidence(first_monday: int, last_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ISO week from ``first_monday`` to ``last_day``: (Mondays, incidence per 100,000)."""
    mondays = np.arange(first_monday, last_day + 1, 7, dtype=np.int64)
    real_m, real_inc = sentinelles_weekly()
    pos = np.searchsorted(real_m, mondays)
    found = (pos < len(real_m)) & (real_m[np.minimum(pos, len(real_m) - 1)] == mondays)
    inc = np.where(found, real_inc[np.minimum(pos, len(real_m) - 1)], np.nan)
    prof = seasonal_profile()
    missing = np.flatnonzero(~found)
    if len(missing):
        wk = np.array([(date(1970, 1, 1) + timedelta(days=int(d))).isocalendar()[1]
                       for d in mondays[missing]])
        inc[missing] = prof[wk]
    return mondays, inc
