"""Serfling baseline, prediction interval and epidemic rules, on hand-checkable series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.stats import t as student_t

from p4dp.surveillance import serfling as S


def test_prediction_interval_matches_the_textbook_formula_for_a_straight_line():
    # simple linear regression: ŷ0 ± t(n−2) · s · √(1 + 1/n + (x0 − x̄)² / Sxx)
    x = np.array([0.0, 1, 2, 3, 4])
    y = np.array([1.0, 3, 2, 5, 4])
    design = np.column_stack([np.ones_like(x), x])
    fit = S.fit(design, y)
    # by hand: x̄ = 2, ȳ = 3, Sxx = 10, Sxy = (−2)(−2) + 0 + 0 + 1·2 + 2·1 = 8,
    # slope = 0.8, intercept = 3 − 0.8·2 = 1.4
    assert fit.beta == pytest.approx([1.4, 0.8])
    # residuals −0.4, 0.8, −1, 1.2, −0.6 → RSS = 3.6, s² = 3.6 / (5 − 2) = 1.2
    assert fit.s2 == pytest.approx(1.2)
    x0 = 6.0
    pred, upper = S.predict_upper(fit, np.array([[1.0, x0]]), level=0.90)
    # ŷ0 = 6.2; se = √(1.2 · (1 + 1/5 + 16/10)) = √3.36 = 1.833030; t(0.95, 3) = 2.353363
    assert pred[0] == pytest.approx(6.2)
    assert upper[0] == pytest.approx(6.2 + student_t.ppf(0.95, 3) * np.sqrt(3.36))
    assert upper[0] == pytest.approx(10.51381, abs=1e-4)


def test_design_has_trend_and_one_annual_harmonic():
    d = S.design(np.array([0.0, S.PERIOD_WEEKS / 4]))
    assert d.shape == (2, 4)
    assert d[0] == pytest.approx([1, 0, 1, 0])
    assert d[1] == pytest.approx([1, S.PERIOD_WEEKS / 4, 0, 1], abs=1e-12)


def test_purge_drops_the_highest_fifteen_percent_and_missing_weeks():
    y = np.array([5.0, 1, 2, np.nan, 3, 4, 100, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    kept = S.purge(y)
    assert not kept[3]  # missing
    assert kept.sum() == 20 - 3  # floor(0.15 × 20) = 3 highest removed
    assert not kept[6] and not kept[-1] and not kept[-2]


def _weeks(n: int, first: dt.date = dt.date(2010, 1, 4)) -> list[dt.date]:
    return [first + dt.timedelta(weeks=i) for i in range(n)]


def test_two_weeks_above_declare_an_epidemic_one_week_does_not():
    thr = np.full(12, 10.0)
    y = np.array([1, 11, 1, 1, 12, 13, 9, 14, 1, 1, 1, 1.0])
    (e,) = S.epidemics(y, thr)
    # starts at the first of two weeks above; a single week below (6) does not end it; two
    # weeks below (8, 9) do, and it ends at the last week above
    assert (e.start, e.end, e.peak) == (4, 7, 7)


def test_missing_weeks_are_neither_above_nor_below():
    thr = np.full(6, 10.0)
    y = np.array([11, np.nan, 12, 13, np.nan, np.nan])
    (e,) = S.epidemics(y, thr)
    assert (e.start, e.end) == (2, 3)


def test_seasonal_series_gets_its_winter_epidemics_and_no_summer_ones():
    rng = np.random.default_rng(3)
    weeks = _weeks(52 * 12)
    t = np.arange(len(weeks))
    y = 60 + 25 * np.cos(2 * np.pi * (t - 1) / S.PERIOD_WEEKS) + rng.normal(0, 6, len(t))
    epidemic_weeks = []
    for year in range(2012, 2022):  # a 6-week epidemic every winter from 2012
        start = weeks.index(dt.date.fromisocalendar(year, 4, 1))
        y[start:start + 6] += np.array([80, 250, 400, 300, 150, 60])
        epidemic_weeks.append(start)
    base = S.baseline(weeks, y)
    found = S.epidemics(y, base.threshold)
    starts = [e.start for e in found]
    for s in epidemic_weeks:
        assert any(abs(s - f) <= 1 for f in starts), weeks[s]
    winter = [e for e in found if weeks[e.peak].month in (12, 1, 2, 3)]
    assert len(winter) >= len(epidemic_weeks)
    assert len(found) - len(winter) <= 2  # chance runs of 2 weeks above a 95 % bound are rare
    assert base.retrospective[:52 * 5].all() and not base.retrospective[52 * 6:].any()


def test_provisional_and_threshold_parameters_are_named():
    assert S.PREDICTION_LEVEL == 0.90
    assert S.WEEKS_TO_DECLARE == 2
    assert S.PROVISIONAL_WEEKS >= 1
