"""Spec tests: the GP's individual dashboard (Activité) and the sentinel activity report."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import ibis
import pytest
from analytics_tables import PRACTICES, PRACTITIONERS, build_warehouse, patient

from p4dp.analytics.compile import IndicatorError, Warehouse, run_indicator
from p4dp.analytics.library import get
from p4dp.analytics.model import Filters, Period, Scope
from p4dp.warehouse.marts import refresh_marts

D = dt.date
G1 = Scope("practitioner", "arm_g1")


def enc(i, pid, gp, date):
    return {"encounter_id": f"e{i}", "patient_id": pid, "practitioner_id": gp, "date": date,
            "kind": "cabinet"}


def prob(i, pid, gp, date, code):
    return {"problem_id": f"pb{i}", "encounter_id": f"e{i}", "patient_id": pid,
            "practitioner_id": gp, "date": date, "result_code": code}


def rx(i, pid, gp, atc):
    return {"prescription_id": f"rx{i}", "patient_id": pid, "practitioner_id": gp,
            "date": D(2024, 1, 1), "drug_label": "x", "atc": atc}


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("act") / "wh.duckdb", {
        "practice": PRACTICES, "practitioner": PRACTITIONERS,
        "patient": [patient("a", "F", 1950, 3), patient("b", "M", 2010, 6),
                    patient("c", "F", 1990, 1, practice="p2", gp="med_g3")],
        "encounter": [
            enc(1, "a", "arm_g1", D(2024, 1, 1)),     # Monday of 2024-W01
            enc(2, "a", "arm_g1", D(2024, 1, 3)),
            enc(3, "a", "arm_g1", D(2024, 2, 5)),     # 2024-W06
            enc(4, "b", "arm_g1", D(2024, 1, 31)),    # 2024-W05
            enc(5, "b", "arm_g2", D(2024, 2, 5)),
            enc(6, "c", "med_g3", D(2024, 1, 2)),
            enc(7, "c", "med_g3", D(2024, 12, 30)),   # ISO week 2025-W01
        ],
        "problem": [prob(1, "a", "arm_g1", D(2024, 1, 1), "R80"),
                    prob(4, "b", "arm_g1", D(2024, 1, 31), "R80"),
                    prob(5, "b", "arm_g2", D(2024, 2, 5), "D73"),
                    prob(6, "c", "med_g3", D(2024, 1, 2), "R80"),
                    prob(7, "c", "med_g3", D(2024, 12, 30), "K86")],
        "prescription": [rx(1, "a", "arm_g1", "C10AA05"), rx(2, "a", "arm_g1", "C10AA05"),
                         rx(3, "b", "arm_g1", "r03ac02"), rx(4, "c", "med_g3", "N02BE01"),
                         rx(5, "b", "arm_g1", "")],
    })


def rows(wh, name, scope=Scope()):
    return run_indicator(wh, get(name), scope)["rows"]


def test_consultations_per_iso_week_for_the_gp(wh):
    assert rows(wh, "activite_consultations_per_week", G1) == [
        ["2024-W01", 2, 1], ["2024-W05", 1, 1], ["2024-W06", 1, 1]]


def test_consultations_per_month_for_the_base_including_a_week_of_next_iso_year(wh):
    assert rows(wh, "activite_consultations_per_month") == [
        ["2024-01", 4, 3], ["2024-02", 2, 2], ["2024-12", 1, 1]]
    assert rows(wh, "activite_consultations_per_week")[-1] == ["2025-W01", 1, 1]


def test_active_patient_list(wh):
    assert rows(wh, "activite_active_patients", G1) == [
        ["a", 73, 3, "2024-01-01", "2024-02-05"], ["b", 13, 1, "2024-01-31", "2024-01-31"]]


def test_pyramid_personal_beside_the_base(wh):
    assert rows(wh, "activite_pyramid", G1) == [["10-19", "M", 1], ["70-79", "F", 1]]
    # b, seen by two GPs, counts once
    assert rows(wh, "activite_pyramid_base", G1) == [
        ["10-19", "M", 1], ["30-39", "F", 1], ["70-79", "F", 1]]


def test_pyramid_age_at_the_last_encounter_counts_each_patient_once(tmp_path):
    # d turns 10 mid-March 2024 (birth month 3: the 15th): 9 with g1 in February, 10 with g2
    # in April. The GP's pyramid takes the last encounter with the GP; the base pyramid the
    # last encounter with anyone, and d counts in one band only.
    w = build_warehouse(tmp_path / "wh.duckdb", {
        "practice": PRACTICES, "practitioner": PRACTITIONERS,
        "patient": [patient("d", "F", 2014, 3)],
        "encounter": [enc(1, "d", "arm_g1", D(2024, 2, 1)), enc(2, "d", "arm_g2", D(2024, 4, 1))],
    })
    assert rows(w, "activite_pyramid", G1) == [["0-9", "F", 1]]
    assert rows(w, "activite_pyramid", Scope("practice", "p1")) == [["10-19", "F", 1]]
    assert rows(w, "activite_pyramid_base", G1) == [["10-19", "F", 1]]
    assert run_indicator(w, get("activite_active_patients"), G1)["rows"] == [
        ["d", 9, 1, "2024-02-01", "2024-02-01"]]


def test_top_diagnoses_of_the_gps_own_problems(wh):
    # g1's problems: a R80 (e1), b R80 (e4); b's D73 is g2's
    expected = [[1, "R80 - Grippe", 2]]
    assert rows(wh, "activite_top_diagnoses", G1) == expected
    assert rows(wh, "motifs_top_diagnoses_personal", G1) == expected


def test_top_prescriptions(wh):
    assert rows(wh, "activite_top_prescriptions", G1) == [
        [1, "C10AA05", 2, 1], [2, "R03AC02", 1, 1], [3, "non codé", 1, 1]]


def test_rank_among_gps(wh):
    # consultations: g2 1, g3 2, g1 4; patients: g2 1, g3 1, g1 2
    assert rows(wh, "activite_rank_among_gps", G1) == [[1, 4, 100.0, 2, 100.0]]
    assert rows(wh, "activite_rank_among_gps", Scope("practitioner", "med_g3")) == [
        [1, 2, 50.0, 1, 0.0]]
    # in January 2024: g1 3 consultations (a twice, b), g3 1 (c), g2 none
    january = Filters(period=Period(D(2024, 1, 1), D(2024, 1, 31)))
    p = run_indicator(wh, get("activite_rank_among_gps"), G1, january)
    assert p["rows"] == [[1, 3, 100.0, 2, 100.0]] and p["ignored_filters"] == []


def test_sentinel_report_personal_beside_network(wh):
    assert rows(wh, "sentinelle_weekly_personal", G1) == [
        ["2024-W01", "Syndrome grippal", 1, 1], ["2024-W05", "Syndrome grippal", 1, 1]]
    assert rows(wh, "sentinelle_weekly_network", G1) == [
        ["2024-W01", "Syndrome grippal", 2, 2], ["2024-W05", "Syndrome grippal", 1, 1],
        ["2024-W06", "Diarrhée aiguë", 1, 1]]


def inr(i, pid, value):
    return {"lab_result_id": f"l{i}", "patient_id": pid, "date": D(2024, 1, i),
            "exam_code": "INR", "raw_label": "INR", "value": value}


INR_ROW = "Patients sous AVK : ≥ 30 % des INR hors 2-3"
DTP_ROW = "> 25 ans : rappel dTP à jour"


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    # INR out of 2–3 in ≥ 30 % of results, per treating GP: g1 has p1 (1/3 out: yes) and p2
    # (1/4 out: no) → 1 of 2; g2 has p3 (1/1) → 1 of 1; g3 has p4 (0/1) → 0 of 1. p5 objected
    # and p6 declared no treating GP: neither counts. Every patient is over 25 and has no dTP
    # dose: 0 up to date of each GP's adults.
    d = tmp_path_factory.mktemp("cmp")
    stored = build_warehouse(d / "stored.duckdb", {
        "practice": PRACTICES, "practitioner": PRACTITIONERS,
        "patient": [patient("p1", "F", 1950, 3), patient("p2", "M", 1960, 6),
                    patient("p3", "F", 1970, 1, gp="arm_g2"),
                    patient("p4", "M", 1980, 1, practice="p2", gp="med_g3"),
                    patient("p5", "M", 1980, 1, opposition=True), patient("p6", "F", 1980, 1,
                                                                          gp=None)],
        "lab_result": [inr(1, "p1", 2.5), inr(2, "p1", 2.5), inr(3, "p1", 4.0),
                       inr(4, "p2", 2.5), inr(5, "p2", 2.5), inr(6, "p2", 2.5),
                       inr(7, "p2", 1.0), inr(8, "p3", 5.0), inr(9, "p4", 2.5),
                       inr(10, "p5", 5.0), inr(11, "p6", 5.0)],
    })
    stored.backend.disconnect()
    shutil.copy(d / "stored.duckdb", d / "plain.duckdb")  # no marts: definitions on the fly
    con = duckdb.connect(str(d / "stored.duckdb"))
    refresh_marts(con)
    con.close()
    return [Warehouse(ibis.duckdb.connect(str(d / name), read_only=True))
            for name in ("stored.duckdb", "plain.duckdb")]


def by_indicator(w, gp):
    return {r[0]: r[1:] for r in rows(w, "activite_indicators_among_gps",
                                      Scope("practitioner", gp))}


def test_gp_indicators_among_gps_count_the_treating_gps_patients(comparison):
    today = dt.date.today().isoformat()
    for w in comparison:  # stored mart, and the definition on the fly: the same figures
        # (gps, patients, numerator, share, median, percentile, GPs ranked, as of): fewer than
        # 10 patients concerned, so no GP is ranked
        assert by_indicator(w, "arm_g1")[INR_ROW] == [1, 2, 1, 50.0, None, None, None, today]
        assert by_indicator(w, "arm_g1")[DTP_ROW] == [1, 2, 0, 0.0, None, None, None, today]
        assert by_indicator(w, "arm_g2")[INR_ROW] == [1, 1, 1, 100.0, None, None, None, today]


def test_gp_percentile_among_the_gps_ranked(comparison, monkeypatch):
    from p4dp.analytics.library import activite

    monkeypatch.setattr(activite, "MIN_PATIENTS_RANKED", 1)
    w = Warehouse(comparison[0].backend)  # fresh SQL cache: compiled with the new bound
    # INR shares: g3 0 %, g1 50 %, g2 100 % → percent ranks 0, 50, 100; median 50 %
    assert by_indicator(w, "arm_g1")[INR_ROW][3:6] == [50.0, 50.0, 50.0]
    assert by_indicator(w, "med_g3")[INR_ROW][3:7] == [0.0, 50.0, 0.0, 3]
    assert by_indicator(w, "arm_g2")[INR_ROW][3:7] == [100.0, 50.0, 100.0, 3]


def test_gp_comparison_is_for_a_gp_only(comparison):
    with pytest.raises(IndicatorError, match="--practitioner"):
        rows(comparison[0], "activite_indicators_among_gps", Scope("practice", "p1"))
