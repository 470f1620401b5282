"""Spec tests of the portable helpers: tiny hand-checkable tables, one expression, expected
values."""

from __future__ import annotations

import datetime as dt

import ibis
import pytest

from p4dp.analytics import portable as P

D = dt.date


def run(table: dict, **exprs):
    t = ibis.memtable(table)
    return t.mutate(**{k: f(t) for k, f in exprs.items()}).order_by("i").execute()


def test_age_in_completed_years_turns_on_the_15th_of_the_birth_month():
    # born March 2010, assumed 15 March 2010
    df = run(
        {"i": [1, 2, 3, 4, 5, 6],
         "by": [2010] * 5 + [2010],
         "bm": [3, 3, 3, 3, 3, None],
         "d": [D(2024, 3, 14), D(2024, 3, 15), D(2024, 2, 29), D(2024, 4, 1), D(2010, 3, 15),
               D(2024, 7, 14)]},
        age=lambda t: P.age_at(t.by, t.bm, t.d),
    )
    # unknown month → July 15th: 14 July 2024 is the day before the 14th birthday
    assert df.age.tolist() == [13, 14, 13, 14, 0, 13]


def test_age_is_null_when_birth_year_is_missing():
    df = run({"i": [1], "by": [None], "bm": [1], "d": [D(2024, 1, 1)]},
             age=lambda t: P.age_at(t.by.cast("int16"), t.bm, t.d))
    assert df.age.isna().all()


def test_age_on_leap_day_counts_from_february_15th():
    df = run({"i": [1, 2], "by": [2000, 2000], "bm": [2, 2], "d": [D(2024, 2, 29), D(2023, 2, 14)]},
             age=lambda t: P.age_at(t.by, t.bm, t.d))
    assert df.age.tolist() == [24, 22]


def test_exact_age_is_days_since_the_15th_over_365_25():
    df = run({"i": [1], "by": [2016], "bm": [1], "d": [D(2022, 7, 15)]},
             a=lambda t: P.exact_age(t.by, t.bm, t.d))
    days = (D(2022, 7, 15) - D(2016, 1, 15)).days
    assert df.a[0] == pytest.approx(days / 365.25)


def test_age_bands_use_closed_integer_bands_and_an_open_last_band():
    df = run({"i": list(range(7)), "age": [0, 15, 16, 60, 61, 99, None]},
             band=lambda t: P.age_band(t.age, (0, 16, 61)))
    assert df.band.tolist()[:6] == ["0-15", "0-15", "16-60", "16-60", "61 et plus", "61 et plus"]
    assert df.band.isna().iloc[6]


def test_age_band_accepts_the_seeds_own_labels():
    df = run({"i": [1, 2], "age": [61, 3]},
             band=lambda t: P.age_band(t.age, (0, 16, 61), ("0-15", "16-60", "60 et plus")))
    assert df.band.tolist() == ["60 et plus", "0-15"]


def test_age_band_rejects_unsorted_breaks():
    with pytest.raises(ValueError, match="increasing"):
        P.band_labels((16, 0))


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (D(2024, 1, 1), "2024-W01"),   # a Monday
        (D(2024, 1, 31), "2024-W05"),
        (D(2024, 12, 30), "2025-W01"),  # Monday of the week holding 2 January 2025
        (D(2021, 1, 3), "2020-W53"),   # Sunday of 2020's 53rd week
        (D(2020, 12, 31), "2020-W53"),
        (D(2023, 1, 1), "2022-W52"),
    ],
)
def test_iso_week_label_matches_python_isocalendar(day, label):
    y, w, _ = day.isocalendar()
    assert label == f"{y}-W{w:02d}"
    df = run({"i": [1], "d": [day]}, w=lambda t: P.iso_week_label(t.d),
             ws=lambda t: P.week_start(t.d))
    assert df.w[0] == label
    assert df.ws[0].date() == day - dt.timedelta(days=day.weekday())


def test_month_and_year_truncation_and_labels():
    df = run({"i": [1], "d": [D(2024, 2, 29)]}, m=lambda t: P.month_start(t.d),
             y=lambda t: P.year_start(t.d), ml=lambda t: P.month_label(t.d))
    assert df.m[0].date() == D(2024, 2, 1)
    assert df.y[0].date() == D(2024, 1, 1)
    assert df.ml[0] == "2024-02"


def test_latest_per_patient_breaks_ties_on_the_row_id():
    t = ibis.memtable({
        "patient_id": ["a", "a", "a", "b", "a"],
        "row_id": ["r2", "r1", "r3", "r4", "r0"],
        "date": [D(2024, 5, 1), D(2024, 5, 1), D(2023, 1, 1), None, None],
        "v": [2.0, 1.0, 3.0, 4.0, 0.0],
    })
    last = P.latest_per_patient(t, ["date"], ["row_id"]).order_by("patient_id").execute()
    # same date for r1 and r2: the smaller id wins, identically on every engine; r0 has no
    # date and is neither first nor latest (nulls last in both directions)
    assert last.row_id.tolist() == ["r1", "r4"]
    first = P.first_per_patient(t, ["date"], ["row_id"]).order_by("patient_id").execute()
    assert first.row_id.tolist() == ["r3", "r4"]


def test_first_per_patient_refuses_missing_tie_breakers():
    t = ibis.memtable({"patient_id": ["a"], "date": [D(2024, 1, 1)]})
    with pytest.raises(ValueError, match="tie-breakers"):
        P.first_per_patient(t, ["date"], [])


def test_percentile_is_exact_with_linear_interpolation():
    t = ibis.memtable({"x": [1.0, 2.0, 3.0, 4.0, 10.0]})
    r = t.aggregate(p50=P.percentile(t.x, 0.5), p25=P.percentile(t.x, 0.25),
                    p90=P.percentile(t.x, 0.9)).execute()
    assert r.p50[0] == 3.0
    assert r.p25[0] == 2.0
    assert r.p90[0] == pytest.approx(4.0 + 0.6 * 6.0)


def test_safe_ratio_is_null_on_zero_denominator():
    df = run({"i": [1, 2, 3], "n": [1, 1, 3], "d": [0, 4, None]},
             r=lambda t: P.safe_ratio(t.n, t.d), p=lambda t: P.percent(t.n, t.d))
    assert df.r.isna().tolist() == [True, False, True]
    assert df.p[1] == 25.0
