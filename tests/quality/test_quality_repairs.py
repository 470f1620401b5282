"""One test per named repair rule: when it applies, when it must not, and what it records."""

from __future__ import annotations

import datetime as dt

import pytest

D = dt.date(2024, 3, 1)


def _rows(out) -> dict[str, tuple]:
    t = out.tables["biometric"]
    return {k: (v, raw, rule) for k, v, raw, rule in zip(
        t.column("biometric_id").to_pylist(), t.column("value").to_pylist(),
        t.column("raw_value").to_pylist(), t.column("repair_rule").to_pylist())}


def _quarantined(out) -> dict[str, str]:
    q = out.quarantine
    return dict(zip(q.column("row_key").to_pylist(), q.column("check_id").to_pylist()))


def test_decimal_comma_is_read_as_decimal_separator(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", None, "45,30")])
    assert _rows(out)["arm_b1"] == (45.3, "45,30", "decimal_comma")
    assert out.repaired_count == 1 and out.report["repairs"]["decimal_comma"]["rows"] == 1


def test_decimal_comma_applies_to_lab_results_too(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 lab_result=[qb.lab("1", "p1", D, "INR", None, raw="2,4")])
    t = out.tables["lab_result"]
    assert t.column("value").to_pylist() == [2.4]
    assert t.column("repair_rule").to_pylist() == ["decimal_comma"]


def test_text_that_is_not_a_decimal_comma_is_not_guessed(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", None, "45,30,2")])
    assert _quarantined(out) == {"arm_b1": "conformance.value.biometric"}


def test_height_in_metres_is_converted_when_that_makes_it_plausible(qb):
    out = qb.run(patient=[qb.patient("p1", "F", 2012, 2)],
                 biometric=[qb.bio("1", "p1", D, "height", 1.48)])
    assert _rows(out)["arm_b1"] == (148.0, "1.48", "height_in_metres")


def test_height_in_metres_written_with_a_comma_records_both_rules(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "height", None, "1,72")])
    assert _rows(out)["arm_b1"] == (172.0, "1,72", "decimal_comma;height_in_metres")


def test_height_written_1m48_is_read(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "height", None, "1m48")])
    assert _rows(out)["arm_b1"] == (148.0, "1m48", "height_in_metres")


def test_height_in_metres_is_not_applied_when_the_result_is_still_impossible(qb):
    # A 2-year-old cannot be 148 cm: the reading is quarantined, not "repaired".
    out = qb.run(patient=[qb.patient("p1", "M", 2022, 1)],
                 biometric=[qb.bio("1", "p1", D, "height", 1.48)])
    assert _quarantined(out) == {"arm_b1": "plausibility.height.biometric"}


def test_weight_in_grams_is_converted_when_that_makes_it_plausible(qb):
    out = qb.run(patient=[qb.patient("c", "M", 2014, 3), qb.patient("n", "F", 2024, 1)],
                 biometric=[qb.bio("1", "c", D, "weight", 35800.0),
                            qb.bio("2", "n", D, "weight", 4200.0)])
    rows = _rows(out)
    assert rows["arm_b1"] == (35.8, "35800", "weight_in_grams")
    assert rows["arm_b2"] == (4.2, "4200", "weight_in_grams")


def test_plausible_weight_is_never_rescaled(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", 80.0)])
    assert _rows(out)["arm_b1"] == (80.0, None, None)
    assert out.repaired_count == 0


def test_swapped_weight_and_height_are_swapped_back(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", 172.0),
                            qb.bio("2", "p1", D, "height", 68.0)])
    rows = _rows(out)
    assert rows["arm_b1"] == (68.0, "172", "swapped_weight_height")
    assert rows["arm_b2"] == (172.0, "68", "swapped_weight_height")


def test_plausible_weight_and_height_are_not_swapped(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", 120.0),
                            qb.bio("2", "p1", D, "height", 150.0)])
    assert out.repaired_count == 0


def test_swap_needs_a_same_day_pair(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", 172.0),
                            qb.bio("2", "p1", D + dt.timedelta(days=1), "height", 68.0)])
    assert _quarantined(out) == {"arm_b2": "plausibility.height.biometric"}
    assert _rows(out)["arm_b1"][2] is None


def test_bmi_is_recomputed_when_recorded_value_disagrees(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", 80.0),
                            qb.bio("2", "p1", D, "height", 180.0),
                            qb.bio("3", "p1", D, "bmi", 30.0)])
    assert _rows(out)["arm_b3"] == (24.69, "30", "bmi_recomputed")


def test_bmi_agreeing_with_weight_and_height_is_kept_as_recorded(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", 80.0),
                            qb.bio("2", "p1", D, "height", 180.0),
                            qb.bio("3", "p1", D, "bmi", 24.7)])
    assert _rows(out)["arm_b3"] == (24.7, None, None)


def test_recorded_bmi_is_not_recomputed_from_another_days_pair(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", 80.0),
                            qb.bio("2", "p1", D, "height", 180.0),
                            qb.bio("3", "p1", D + dt.timedelta(days=3), "bmi", 27.0)])
    assert _rows(out)["arm_b3"] == (27.0, None, None)


def test_implausible_recorded_bmi_without_a_same_day_pair_is_quarantined(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "bmi", 212278.88),
                            qb.bio("2", "p1", D, "bmi", 0.32)])
    assert _quarantined(out) == {"arm_b1": "plausibility.bmi.biometric",
                                 "arm_b2": "plausibility.bmi.biometric"}


def test_unreadable_bmi_is_recomputed_when_a_pair_exists(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", 80.0),
                            qb.bio("2", "p1", D, "height", 180.0),
                            qb.bio("3", "p1", D, "bmi", None, "IMC ?")])
    assert _rows(out)["arm_b3"] == (24.69, "IMC ?", "bmi_recomputed")


@pytest.mark.parametrize("n", [2, 3])
def test_duplicate_removal_keeps_one_row_and_quarantines_the_others(qb, n):
    rows = [qb.bio(str(i), "p1", D, "weight", 70.0) for i in range(n)]
    out = qb.run(patient=[qb.valid_row("patient")], biometric=rows)
    assert list(_rows(out)) == ["arm_b0"]
    assert out.quarantined_count == n - 1
    assert out.report["repairs"]["duplicate_removed"]["rows"] == n - 1


def test_rules_applied_upstream_are_counted_in_the_report(qb):
    row = qb.lab("1", "p1", D, "HbA1c", 7.0, "%", raw="53", repair_rule="hba1c_mmol_mol_to_pct")
    out = qb.run(patient=[qb.valid_row("patient")], lab_result=[row])
    assert out.report["repairs"]["hba1c_mmol_mol_to_pct"]["rows"] == 1
    assert out.repaired_count == 1
