"""Spec tests: Surpoids (IOTF at exact age) and Examen (INR bands, ≥ 30 % out of range, TTR)."""

from __future__ import annotations

import datetime as dt

import pytest
from analytics_tables import PRACTICES, PRACTITIONERS, patient

from p4dp.analytics.compile import run_indicator
from p4dp.analytics.library import get
from p4dp.analytics.library.surpoids import child_bmi
from p4dp.analytics.model import Filters, Period, Scope

D = dt.date


def bio(i, pid, date, kind, value):
    return {"biometric_id": f"b{i:02d}", "patient_id": pid, "date": date, "kind": kind,
            "value": value}


@pytest.fixture(scope="module")
def kids(make_wh_mod):
    make_wh = make_wh_mod
    return make_wh(
        practice=PRACTICES, practitioner=PRACTITIONERS,
        patient=[
            patient("k1", "M", 2016, 1),
            patient("k2", "F", 2012, 3),
            patient("k3", "F", 2010, 5),
            patient("k4", "M", 2008, 6),
            patient("k5", "M", 2008, 6, gp="arm_g2"),
            patient("ad", "F", 1980, 1),
        ],
        biometric=[
            bio(1, "k1", D(2021, 7, 15), "weight", 40.0),   # 5 years old: not a 6–15 reading
            bio(2, "k1", D(2021, 7, 15), "height", 110.0),
            bio(3, "k1", D(2022, 7, 15), "weight", 27.0),   # BMI 18.75: overweight, not obese
            bio(4, "k1", D(2022, 7, 15), "height", 120.0),
            bio(5, "k2", D(2024, 2, 10), "weight", 35.0),   # 11 years: BMI 15.56, normal
            bio(6, "k2", D(2024, 2, 10), "weight", 90.0),   # same-day duplicate, larger id
            bio(7, "k2", D(2024, 2, 10), "height", 150.0),
            bio(8, "k2", D(2024, 2, 10), "bmi", 212278.88),  # a recorded BMI is never used
            bio(9, "k3", D(2023, 1, 1), "weight", 40.0),    # height taken another day
            bio(10, "k3", D(2023, 1, 2), "height", 150.0),
            bio(11, "k4", D(2024, 6, 14), "weight", 80.0),  # 15 the day before turning 16
            bio(12, "k4", D(2024, 6, 14), "height", 170.0),
            bio(13, "k5", D(2024, 6, 15), "weight", 80.0),  # 16 on the day: too old
            bio(14, "k5", D(2024, 6, 15), "height", 170.0),
            bio(15, "ad", D(2024, 1, 1), "weight", 90.0),
            bio(16, "ad", D(2024, 1, 1), "height", 160.0),
        ],
    )


def test_iotf_cutoffs_are_interpolated_at_exact_age(kids):
    df = child_bmi(kids, Period()).order_by("patient_id").execute()
    assert df.patient_id.tolist() == ["k1", "k2", "k4"]
    k1 = df.iloc[0]
    exact = (D(2022, 7, 15) - D(2016, 1, 15)).days / 365.25   # 6.4997…
    frac = (exact - 6.0) / 0.5
    assert k1.iotf25 == pytest.approx(17.55 + (17.71 - 17.55) * frac, abs=0.01)
    assert k1.iotf30 == pytest.approx(19.78 + (20.23 - 19.78) * frac, abs=0.01)
    assert k1.bmi == pytest.approx(18.75)
    assert k1.child_age == 6
    # the first reading of the day (b05) is kept, the recorded BMI ignored
    assert df.iloc[1].bmi == pytest.approx(35.0 / 1.5**2, abs=0.01)


def test_overweight_children_count_and_share(kids):
    p = run_indicator(kids, get("surpoids_children"))
    # k1 overweight, k2 normal, k4 BMI 27.68 ≥ 23.9 (overweight) < 28.6 (not obese)
    assert p["rows"] == [[3, 2, 0, 66.7, 0.0]]


def test_prevalence_by_age_and_sex(kids):
    p = run_indicator(kids, get("surpoids_by_age_sex"))
    assert p["rows"] == [[6, "M", 1, 1, 0, 100.0, 0.0], [11, "F", 1, 0, 0, 0.0, 0.0],
                         [15, "M", 1, 1, 0, 100.0, 0.0]]


def test_the_latest_reading_is_picked_within_the_date_range(kids):
    # up to 2021 only k1's reading at 5 exists: no child reading at all
    p = run_indicator(kids, get("surpoids_children"),
                      filters=Filters(period=Period(None, D(2021, 12, 31))))
    assert p["rows"] == [[0, 0, 0, None, None]]


def test_line_list_of_a_gps_patients(kids):
    p = run_indicator(kids, get("surpoids_line_list"), Scope("practitioner", "arm_g1"),
                      Filters(sex="M"))
    assert p["kind"] == "line_list"
    assert p["rows"] == [["k1", 6, "2022-07-15", 27.0, 120.0, 18.75, True, False],
                         ["k4", 15, "2024-06-14", 80.0, 170.0, 27.68, True, False]]


# --- Examen ---------------------------------------------------------------------------------------


def lab(i, pid, date, value, code="INR"):
    return {"lab_result_id": f"l{i:02d}", "patient_id": pid, "date": date, "raw_label": "INR",
            "exam_code": code, "value": value}


@pytest.fixture(scope="module")
def inr(make_wh_mod):
    make_wh = make_wh_mod
    return make_wh(
        practice=PRACTICES, practitioner=PRACTITIONERS,
        patient=[patient("i1", "F", 1940, 1), patient("i2", "M", 1945, 2),
                 patient("i3", "M", 1950, 3)],
        lab_result=[
            lab(1, "i1", D(2024, 1, 1), 2.5),
            lab(2, "i1", D(2024, 1, 11), 3.5),    # 10 days: half of [2.5, 3.5] in range → 5 d
            lab(3, "i1", D(2024, 1, 21), 2.5),    # 10 days → 5 d
            lab(4, "i1", D(2024, 5, 1), 1.5),     # 101 days: not interpolated
            lab(5, "i2", D(2024, 1, 1), 2.0),
            lab(6, "i2", D(2024, 1, 29), 3.0),    # both ends in range: 28 d
            lab(7, "i2", D(2024, 2, 26), 3.0),
            lab(8, "i2", D(2024, 2, 26), 3.0),    # same day: a 0-day interval counts nothing
            lab(9, "i3", D(2024, 3, 1), 5.2),     # a single INR: no TTR
            lab(10, "i3", D(2024, 3, 2), None),   # no value: ignored
            lab(11, "i3", D(2024, 3, 2), 7.0, code="HBA1C"),
        ],
    )


def test_inr_bands(inr):
    p = run_indicator(inr, get("examen_inr_bands"))
    assert p["rows"] == [["1-2", 1, 1], ["2-3", 6, 2], ["3-4", 1, 1], ["5 et plus", 1, 1]]


def test_patients_with_30_percent_of_inr_outside_2_3(inr):
    p = run_indicator(inr, get("examen_inr_out_of_range"))
    # i1: 2 of 4 outside (50 %), i2: 0 of 4, i3: 1 of 1
    assert p["rows"] == [[3, 2, 66.7, 9]]


def test_time_in_therapeutic_range_by_rosendaal(inr):
    p = run_indicator(inr, get("examen_ttr"))
    # i1: 10 of 20 days (50 %, poor), i2: 56 of 56 days (100 %, good); median = mean = 75
    assert p["rows"] == [[2, 1, 1, 50.0, 50.0, 75.0, 75.0]]


def test_a_date_range_cuts_the_series_before_interpolation(inr):
    p = run_indicator(inr, get("examen_ttr"),
                      filters=Filters(period=Period(D(2024, 1, 11), D(2024, 12, 31))))
    # i1 keeps 3.5 → 2.5 (10 d, 5 in range) = 50 %; i2 keeps 3.0 → 3.0 (28 d) = 100 %
    assert p["rows"] == [[2, 1, 1, 50.0, 50.0, 75.0, 75.0]]
    p = run_indicator(inr, get("examen_ttr"),
                      filters=Filters(period=Period(D(2024, 1, 12), D(2024, 12, 31))))
    assert p["rows"] == [[1, 0, 1, 0.0, 100.0, 100.0, 100.0]]


def test_inr_line_list(inr):
    p = run_indicator(inr, get("examen_inr_line_list"), Scope("practitioner", "arm_g1"),
                      Filters(as_of=D(2024, 6, 30)))
    assert [r[0] for r in p["rows"]] == ["i1", "i2", "i3"]
    assert p["rows"][0] == ["i1", 84, 4, 50.0, 2.5, 50.0, True, True]
    assert p["rows"][2] == ["i3", 73, 1, 100.0, 5.2, None, True, None]


def test_top_exams(inr):
    p = run_indicator(inr, get("examen_top_exams"))
    assert p["rows"] == [[1, "INR", 10, 3], [2, "HBA1C", 1, 1]]


def test_compiled_sql_is_reused_from_disk_by_a_new_process(kids, tmp_path, monkeypatch):
    """A fresh Warehouse (as after a restart) reads the SQL its predecessor compiled, IOTF
    reference table included, and never calls the compiler."""
    from p4dp.analytics import compile as C

    first = C.Warehouse(kids.backend, cache_dir=tmp_path)
    expected = run_indicator(first, get("surpoids_by_age_sex"), filters=Filters(sex="M"))["rows"]
    assert list(tmp_path.glob("analytics-sql-*.json"))

    def no_compile(*a, **k):
        raise AssertionError("compiled again")

    monkeypatch.setattr(C, "compile_indicator", no_compile)
    import ibis

    path = kids.backend.raw_sql("SELECT path FROM duckdb_databases() "
                                "WHERE database_name = current_database()").fetchone()[0]
    fresh = C.Warehouse(ibis.duckdb.connect(path, read_only=True), cache_dir=tmp_path)
    assert run_indicator(fresh, get("surpoids_by_age_sex"), filters=Filters(sex="M"))[
        "rows"] == expected == [[6, "M", 1, 1, 0, 100.0, 0.0], [15, "M", 1, 1, 0, 100.0, 0.0]]
