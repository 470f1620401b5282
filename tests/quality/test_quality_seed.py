"""The seed's four bad child readings (DOMAIN.md §5) and the WHO cut-offs around them."""

from __future__ import annotations

import datetime as dt

import numpy as np

from p4dp.quality.growth import lms_at

READ = dt.date(2025, 9, 10)


def _by_key(out) -> tuple[dict, dict]:
    t = out.tables["biometric"]
    kept = dict(zip(t.column("biometric_id").to_pylist(),
                    zip(t.column("value").to_pylist(), t.column("repair_rule").to_pylist())))
    q = out.quarantine
    rejected = dict(zip(q.column("row_key").to_pylist(), q.column("check_id").to_pylist()))
    return kept, rejected


def _child(qb, age_years: int, sex: str = "M"):
    return qb.patient("c", sex, READ.year - age_years, 3)


def test_six_year_old_of_3_58_kg_is_rejected_with_its_bmi(qb):
    out = qb.run(patient=[_child(qb, 6)],
                 biometric=[qb.bio("w", "c", READ, "weight", 3.58),
                            qb.bio("h", "c", READ, "height", 114.0),
                            qb.bio("b", "c", READ, "bmi", 2.75)])
    kept, rejected = _by_key(out)
    assert rejected == {"arm_bw": "plausibility.weight.biometric",
                        "arm_bb": "plausibility.bmi.biometric"}
    assert kept == {"arm_bh": (114.0, None)}


def test_twelve_year_old_recorded_bmi_0_32_is_recomputed_to_31_5(qb):
    out = qb.run(patient=[_child(qb, 12)],
                 biometric=[qb.bio("w", "c", READ, "weight", 64.9),
                            qb.bio("h", "c", READ, "height", 143.5),
                            qb.bio("b", "c", READ, "bmi", 0.32)])
    kept, rejected = _by_key(out)
    assert rejected == {}
    assert kept["arm_bb"] == (31.52, "bmi_recomputed")


def test_fourteen_year_old_recorded_bmi_212278_is_recomputed(qb):
    out = qb.run(patient=[_child(qb, 14, "F")],
                 biometric=[qb.bio("w", "c", READ, "weight", 51.0),
                            qb.bio("h", "c", READ, "height", 155.0),
                            qb.bio("b", "c", READ, "bmi", 212278.88)])
    kept, rejected = _by_key(out)
    assert rejected == {}
    assert kept["arm_bb"] == (21.23, "bmi_recomputed")


def test_six_year_old_of_165_5_cm_and_46_9_kg_is_rejected(qb):
    out = qb.run(patient=[_child(qb, 6)],
                 biometric=[qb.bio("w", "c", READ, "weight", 46.9),
                            qb.bio("h", "c", READ, "height", 165.5)])
    kept, rejected = _by_key(out)
    assert rejected == {"arm_bh": "plausibility.height.biometric",
                        "arm_bw": "plausibility.weight.biometric"}
    assert kept == {}


def _height_at_z(sex: str, age_months: float, z: float) -> float:
    L, M, S = lms_at("height_for_age", np.array([sex]), np.array([age_months]))
    return float(M[0] * (1 + L[0] * S[0] * z) ** (1 / L[0]))


def test_very_tall_but_possible_child_z_3_5_is_kept_and_165_cm_at_six_is_not(qb):
    birth = dt.date(READ.year - 6, 3, 15)
    age_m = (READ - birth).days / 30.4375
    tall = round(_height_at_z("M", age_m, 3.5), 1)
    assert 130 < tall < 140
    out = qb.run(patient=[_child(qb, 6)],
                 biometric=[qb.bio("1", "c", READ, "height", tall),
                            qb.bio("2", "c", READ + dt.timedelta(days=1), "height", 165.0)])
    kept, rejected = _by_key(out)
    assert kept == {"arm_b1": (tall, None)}
    assert rejected == {"arm_b2": "plausibility.height.biometric"}


def test_height_just_inside_and_outside_the_who_cut_off(qb):
    birth = dt.date(READ.year - 6, 3, 15)
    age_m = (READ - birth).days / 30.4375
    inside, outside = _height_at_z("M", age_m, 5.9), _height_at_z("M", age_m, 6.1)
    out = qb.run(patient=[_child(qb, 6)],
                 biometric=[qb.bio("1", "c", READ, "height", inside),
                            qb.bio("2", "c", READ + dt.timedelta(days=1), "height", outside)])
    kept, rejected = _by_key(out)
    assert list(kept) == ["arm_b1"] and list(rejected) == ["arm_b2"]
