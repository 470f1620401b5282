"""Epidemic thresholds by periodic (Serfling) regression, and epidemic detection.

Method (Serfling, Public Health Rep 1963; Costagliola et al., Am J Public Health 1991, the Réseau
Sentinelles' method — DOMAIN.md §3):

1. Seasons run from ISO week `SEASON_START_WEEK` to the week before it the next year. The
   baseline of a season is fitted on the `TRAINING_YEARS` years of weekly incidence before the
   season starts (a season too early to have them uses the first `TRAINING_YEARS` years of the
   series instead, and says so: `retrospective`).
2. Epidemic weeks are removed from the training weeks: the `EXCLUDE_TOP_FRACTION` highest
   weekly values (the "purge" of Pelat et al., BMC Med Inform Decis Mak 2007, whose default
   removes the top 15 %), and missing weeks.
3. Ordinary least squares on y = a + b·t + Σₖ (cₖ cos 2πkt/T + dₖ sin 2πkt/T), t in weeks,
   T = 365.25 / 7 weeks, k = 1..`HARMONICS` (numpy `lstsq`).
4. Threshold of a week = upper bound of the `PREDICTION_LEVEL` (90 %) prediction interval:
   ŷ₀ + t_{n−p, 0.95} · s · √(1 + x₀ᵀ (XᵀX)⁻¹ x₀), s² = RSS / (n − p).
5. An epidemic is declared after `WEEKS_TO_DECLARE` consecutive weeks above the threshold; it
   starts at the first of them and ends at the last week above the threshold before
   `WEEKS_TO_END` consecutive weeks below it (or missing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

#: Serfling's model: one annual harmonic (Serfling 1963; Costagliola 1991).
HARMONICS = 1
#: The period of the harmonics, in weeks (a mean Gregorian year).
PERIOD_WEEKS = 365.25 / 7
#: Years of history each season's baseline is fitted on. P4DP choice within the usual 3–5 years of
#: Serfling surveillance models (CDC's pneumonia-and-influenza baseline uses 5 previous years).
TRAINING_YEARS = 5
#: Share of the highest training weeks removed as epidemic (Pelat et al. 2007: 15 %).
EXCLUDE_TOP_FRACTION = 0.15
#: Threshold = upper bound of the 90 % prediction interval (Costagliola 1991).
PREDICTION_LEVEL = 0.90
#: Two consecutive weeks above the threshold declare an epidemic (Réseau Sentinelles).
WEEKS_TO_DECLARE = 2
#: Two consecutive weeks below the threshold end it (Réseau Sentinelles bulletins).
WEEKS_TO_END = 2
#: Seasons start at ISO week 31 (early August), in the summer trough of respiratory infections.
SEASON_START_WEEK = 31
#: The last 2 weeks of a series are provisional: practices' agents push their exports at least
#: weekly, so the latest week is incomplete and the one before may still receive late records.
#: P4DP choice; the Réseau Sentinelles also publishes its latest week as provisional.
PROVISIONAL_WEEKS = 2


@dataclass(frozen=True)
class Fit:
    beta: np.ndarray
    xtx_inv: np.ndarray
    s2: float
    dof: int


def design(t: np.ndarray, harmonics: int = HARMONICS) -> np.ndarray:
    """Columns 1, t, cos(2πkt/T), sin(2πkt/T) for k = 1..harmonics."""
    t = np.asarray(t, dtype=float)
    cols = [np.ones_like(t), t]
    for k in range(1, harmonics + 1):
        w = 2 * np.pi * k * t / PERIOD_WEEKS
        cols += [np.cos(w), np.sin(w)]
    return np.column_stack(cols)


def fit(x: np.ndarray, y: np.ndarray) -> Fit:
    """Ordinary least squares with the pieces a prediction interval needs."""
    n, p = x.shape
    if n <= p:
        raise ValueError(f"Serfling regression needs more than {p} weeks, got {n}")
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    dof = n - p
    return Fit(beta, np.linalg.pinv(x.T @ x), float(resid @ resid) / dof, dof)


def predict_upper(f: Fit, x0: np.ndarray, level: float = PREDICTION_LEVEL
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(prediction, upper bound of the two-sided `level` prediction interval) at rows x0."""
    pred = x0 @ f.beta
    lever = np.einsum("ij,jk,ik->i", x0, f.xtx_inv, x0)
    q = student_t.ppf(1 - (1 - level) / 2, f.dof)
    return pred, pred + q * np.sqrt(f.s2 * (1 + lever))


def purge(y: np.ndarray, fraction: float = EXCLUDE_TOP_FRACTION) -> np.ndarray:
    """Mask of the training weeks kept: not missing, and not among the `fraction` highest."""
    ok = np.isfinite(y)
    n_drop = int(np.floor(fraction * ok.sum()))
    if n_drop:
        order = np.argsort(np.where(ok, y, -np.inf))[::-1]
        ok[order[:n_drop]] = False
    return ok


def season_start(d: dt.date) -> dt.date:
    """Monday of ISO week SEASON_START_WEEK of the season holding the week of `d`."""
    y, w, _ = d.isocalendar()
    return dt.date.fromisocalendar(y if w >= SEASON_START_WEEK else y - 1, SEASON_START_WEEK, 1)


@dataclass
class Baseline:
    expected: np.ndarray       # [W] baseline prediction ŷ
    threshold: np.ndarray      # [W] upper bound of the prediction interval
    retrospective: np.ndarray  # [W] bool: baseline fitted on later data (early seasons)


def seasons(weeks: list[dt.date]) -> tuple[list[dt.date], np.ndarray]:
    """(season starts covering the weeks, index of each week's season)."""
    if not weeks:
        return [], np.zeros(0, dtype=np.int64)
    first, last = season_start(weeks[0]), season_start(weeks[-1])
    starts = [dt.date.fromisocalendar(y, SEASON_START_WEEK, 1)
              for y in range(first.isocalendar()[0], last.isocalendar()[0] + 1)]
    days = np.array(weeks, dtype="datetime64[D]")
    index = np.searchsorted(np.array(starts, dtype="datetime64[D]"), days, side="right") - 1
    return starts, index


def baseline(weeks: list[dt.date], y: np.ndarray,
             plan: tuple[list[dt.date], np.ndarray] | None = None) -> Baseline:
    """Baseline and threshold of every week of one weekly series (consecutive Mondays).
    `plan` is `seasons(weeks)`, passed when many series share the weeks."""
    n = len(weeks)
    expected = np.full(n, np.nan)
    threshold = np.full(n, np.nan)
    retro = np.zeros(n, dtype=bool)
    valid = np.flatnonzero(np.isfinite(y))
    if not len(valid):
        return Baseline(expected, threshold, retro)
    starts, week_season = plan or seasons(weeks)
    days = np.array(weeks, dtype="datetime64[D]")
    t = ((days - days[0]).astype(np.int64) // 7).astype(float)
    span = np.timedelta64(round(TRAINING_YEARS * 365.25), "D")
    first = days[valid[0]]
    min_points = 2 * (2 + 2 * HARMONICS)
    for k, s0 in enumerate(np.array(starts, dtype="datetime64[D]")):
        s_idx = np.flatnonzero(week_season == k)
        if not len(s_idx):
            continue
        lo, hi, is_retro = s0 - span, s0, False
        if lo < first:
            lo, hi, is_retro = first, first + span, True
        train = np.arange(np.searchsorted(days, lo), np.searchsorted(days, hi))
        keep = train[purge(y[train])]
        if len(keep) < min_points:
            continue
        origin = float((s0 - days[0]).astype(np.int64) // 7)
        f = fit(design(t[keep] - origin), y[keep])
        pred, up = predict_upper(f, design(t[s_idx] - origin))
        expected[s_idx], threshold[s_idx], retro[s_idx] = pred, up, is_retro
    return Baseline(expected, threshold, retro)


@dataclass(frozen=True)
class Epidemic:
    start: int  # week indices into the series
    end: int
    peak: int


def epidemics(y: np.ndarray, threshold: np.ndarray) -> list[Epidemic]:
    """Epidemic periods: `WEEKS_TO_DECLARE` weeks above the threshold start one,
    `WEEKS_TO_END` weeks below (or missing) end it."""
    above = np.isfinite(y) & np.isfinite(threshold) & (y > threshold)
    out: list[Epidemic] = []
    n = len(y)
    i = 0
    candidates = np.flatnonzero(above)
    while True:
        nxt = candidates[candidates >= i]
        if not len(nxt):
            return out
        i = int(nxt[0])
        if i + WEEKS_TO_DECLARE > n or not above[i:i + WEEKS_TO_DECLARE].all():
            i += 1
            continue
        last, below, k = i, 0, i
        while k < n and below < WEEKS_TO_END:
            if above[k]:
                last, below = k, 0
            else:
                below += 1
            k += 1
        seg = y[i:last + 1]
        peak = i + int(np.nanargmax(seg))
        out.append(Epidemic(i, last, peak))
        i = last + 1
