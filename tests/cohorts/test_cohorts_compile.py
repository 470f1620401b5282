"""Spec tests of the compiler: tiny hand-made warehouses, one rule each, the expected patients.

Index date 29/11/2026 throughout."""

from __future__ import annotations

import datetime as dt

import ibis
import pytest
from analytics_tables import PRACTICES, PRACTITIONERS, patient

from p4dp.cohorts.compile import (
    CohortError,
    Context,
    attrition_frame,
    cohort_members,
    compile_rule,
)
from p4dp.cohorts.criteria import parse
from p4dp.cohorts.feasibility import evaluate

D = dt.date
INDEX = D(2026, 11, 29)


def cohort(*rules: dict):
    return parse({"name": "spec", "title_fr": "Spec", "index_date": INDEX.isoformat(),
                  "rules": list(rules)})


def matching(wh, rule: dict) -> list[str]:
    c = cohort(rule)
    t = compile_rule(Context(wh, INDEX), c.rules[0], "/rules/0")
    return sorted(wh.backend.to_pyarrow(t.select("patient_id"))["patient_id"].to_pylist())


def members(wh, *rules: dict) -> list[str]:
    t = cohort_members(wh, cohort(*rules), INDEX).select("patient_id")
    return sorted(wh.backend.to_pyarrow(t)["patient_id"].to_pylist())


def lab(i, pid, date, exam, value, unit):
    return {"lab_result_id": f"l{i:02d}", "patient_id": pid, "date": date, "raw_label": exam,
            "exam_code": exam, "value": value, "unit": unit}


def pb(i, pid, date, result=None, reason=None):
    return {"problem_id": f"pb{i:02d}", "encounter_id": f"e{i:02d}", "patient_id": pid,
            "practitioner_id": "arm_g1", "date": date, "result_code": result,
            "reason_code": reason}


def rx(i, pid, date, atc, days=None):
    return {"prescription_id": f"rx{i:02d}", "patient_id": pid, "date": date,
            "drug_label": atc, "atc": atc, "duration_days": days}


@pytest.fixture(scope="module")
def wh(make_wh):
    return make_wh(
        practice=PRACTICES, practitioner=PRACTITIONERS,
        patient=[
            patient("a40", "F", 1986, 11),                   # 40 on 15/11/2026
            patient("a39", "M", 1986, 12),                   # 39 at the index date
            patient("old", "F", 1950, 1, practice="p2", gp="med_g3"),
            patient("dead", "M", 1950, 1) | {"death_date": D(2026, 1, 1)},
            patient("obj", "F", 1950, 1, opposition=True),
            patient("kid", "M", 2014, 1),
        ],
        problem=[
            pb(1, "a40", D(2026, 6, 1), result="T90"),
            pb(2, "a40", D(2026, 6, 1), reason="T90"),       # same day: one occurrence
            pb(3, "a40", D(2026, 9, 1), result="T90"),
            pb(4, "a39", D(2020, 1, 1), result="T89"),       # long ago
            pb(5, "old", D(2026, 10, 1), reason="T90"),      # a reason, not a result
            pb(6, "dead", D(2025, 1, 1), result="T90"),
            pb(7, "old", D(2027, 1, 1), result="T90"),       # after the index date
        ],
        antecedent=[{"antecedent_id": "an1", "patient_id": "kid", "code": "T90", "date": None}],
        lab_result=[
            lab(1, "a40", D(2026, 3, 1), "HBA1C", 8.4, "%"),
            lab(2, "a40", D(2026, 10, 1), "HBA1C", 7.1, "%"),
            lab(3, "a39", D(2025, 6, 1), "HBA1C", 9.5, "%"),  # outside 12 months
            lab(4, "old", D(2026, 5, 1), "HBA1C", 8.0, "%"),  # not > 8
            lab(5, "kid", D(2026, 5, 1), "HBA1C", 70.0, "mmol/mol"),  # never converted
            *[lab(10 + i, "old", D(2026, 7, 1 + i), "INR", v, "1")
              for i, v in enumerate([2.5, 3.4, 1.6, 2.2])],   # 2 of 4 outside: 50 %
            *[lab(20 + i, "a40", D(2026, 7, 1 + i), "INR", v, "1")
              for i, v in enumerate([2.5, 2.4, 3.5, 2.2])],   # 1 of 4: 25 %
        ],
        prescription=[
            rx(1, "a40", D(2026, 1, 10), "A10BA02", 90),
            rx(2, "a40", D(2026, 4, 10), "A10BA02", 90),
            rx(3, "old", D(2026, 11, 1), "a10ba02", 30),     # lower case ATC still matches
            rx(4, "old", D(2026, 6, 1), "B01AA03", 90),
            rx(5, "a39", D(2026, 6, 1), "A10BB09", 90),
        ],
        biometric=[
            {"biometric_id": "b1", "patient_id": "a39", "date": D(2026, 2, 1), "kind": "weight",
             "value": 100.0},
            {"biometric_id": "b2", "patient_id": "a39", "date": D(2026, 2, 1), "kind": "height",
             "value": 170.0},                                  # BMI 34.6
            {"biometric_id": "b3", "patient_id": "a40", "date": D(2026, 2, 1), "kind": "bmi",
             "value": 45.0},                                   # recorded BMI: never used
            {"biometric_id": "b4", "patient_id": "a40", "date": D(2026, 2, 1), "kind": "weight",
             "value": 60.0},
            {"biometric_id": "b5", "patient_id": "a40", "date": D(2026, 2, 1), "kind": "height",
             "value": 170.0},
            {"biometric_id": "b6", "patient_id": "old", "date": D(2026, 8, 1),
             "kind": "systolic_bp", "value": 150.0},
            {"biometric_id": "b7", "patient_id": "old", "date": D(2026, 9, 1),
             "kind": "systolic_bp", "value": 130.0},
        ],
        vaccination=[
            {"vaccination_id": "v1", "patient_id": "old", "date": D(2026, 10, 20),
             "raw_label": "VAXIGRIP", "valences": ["grippe"]},
            {"vaccination_id": "v2", "patient_id": "a40", "date": D(2025, 11, 2),
             "raw_label": "VAXIGRIP", "valences": ["grippe"]},   # last season
            {"vaccination_id": "v3", "patient_id": "a39", "date": D(2020, 1, 2),
             "raw_label": "REVAXIS", "valences": ["d", "T", "P"]},
        ],
        history=[
            {"history_id": "h1", "patient_id": "a39", "kind": "tobacco", "label": "Fumeur 20 PA",
             "status": "yes", "date": D(2024, 1, 1)},
            {"history_id": "h2", "patient_id": "old", "kind": "tobacco", "label": "ancien fumeur",
             "status": "former", "date": None},
        ],
    )


def test_base_population_excludes_the_dead_and_those_who_objected(wh):
    assert members(wh, {"type": "demographics", "age_min": 0}) == ["a39", "a40", "kid", "old"]


def test_age_is_in_completed_years_at_the_index_date(wh):
    assert members(wh, {"type": "demographics", "age_min": 40, "age_max": 75}) == ["a40"]
    assert members(wh, {"type": "demographics", "sex": "F", "regions": ["28"]}) == ["old"]


def test_condition_origins_windows_and_undated_antecedents(wh):
    assert matching(wh, {"type": "condition", "codes": ["T90"]}) == ["a40", "dead", "kid"]
    assert matching(wh, {"type": "condition", "codes": ["T90"],
                         "origins": ["reason"]}) == ["a40", "old"]
    # a window excludes the undated antecedent and old problems
    assert matching(wh, {"type": "condition", "chapters": ["T"],
                         "window": {"months": 12}}) == ["a40"]
    assert matching(wh, {"type": "condition", "ranges": [{"from": "T89", "to": "T90"}]}) == [
        "a39", "a40", "dead", "kid"]


def test_occurrences_count_distinct_days_in_the_window(wh):
    two = {"type": "condition", "codes": ["T90"], "origins": ["result", "reason"],
           "window": {"days": 365}, "occurrences": {"min": 2}}
    assert matching(wh, two) == ["a40"]
    three = {**two, "occurrences": {"min": 3}}
    assert matching(wh, three) == []
    # "none in the last 6 months": every base patient without a T90 since 29/05/2026
    none = {"type": "condition", "codes": ["T90"], "origins": ["result", "reason"],
            "window": {"months": 6}, "occurrences": {"min": 0, "max": 0}}
    assert matching(wh, none) == ["a39", "kid"]


def test_lab_value_in_the_window_with_units(wh):
    hb = {"type": "lab", "exam": "HBA1C", "compare": {"op": ">", "value": 8},
          "window": {"months": 12}}
    assert matching(wh, hb) == ["a40"]
    # 64 mmol/mol = 8.006 %: the 8.4 % qualifies, the 8.0 % does not; the unconverted
    # mmol/mol value of `kid` is never compared with a percentage
    assert matching(wh, {**hb, "unit": "mmol/mol", "compare": {"op": ">", "value": 64}}) == [
        "a40"]
    assert matching(wh, {**hb, "which": "latest"}) == []
    assert matching(wh, {**hb, "compare": {"op": ">=", "value": 8}, "which": "latest"}) == [
        "old"]


def test_share_of_inr_outside_the_range(wh):
    inr = {"type": "lab", "exam": "INR", "compare": {"op": "outside", "low": 2, "high": 3},
           "which": "share", "min_share_percent": 30, "window": {"months": 6}}
    assert matching(wh, inr) == ["old"]
    assert matching(wh, {**inr, "min_share_percent": 25}) == ["a40", "old"]


def test_drug_prefix_and_prescribed_days(wh):
    assert matching(wh, {"type": "drug", "atc": ["A10BA"], "window": {"months": 12}}) == [
        "a40", "old"]
    assert matching(wh, {"type": "drug", "atc": ["A10"], "window": {"months": 12},
                         "min_days": 180}) == ["a40"]
    assert matching(wh, {"type": "drug", "atc": ["A10B"], "window": {"months": 12},
                         "occurrences": {"min": 2}}) == ["a40"]


def test_bmi_is_recomputed_from_same_day_weight_and_height(wh):
    obese = {"type": "biometric", "kind": "bmi", "compare": {"op": ">=", "value": 30}}
    assert matching(wh, obese) == ["a39"]  # a40's recorded 45 is ignored: 60 kg / 1.70² = 20.8
    assert matching(wh, {"type": "biometric", "kind": "systolic_bp",
                         "compare": {"op": ">=", "value": 140}}) == []
    assert matching(wh, {"type": "biometric", "kind": "systolic_bp", "which": "any",
                         "compare": {"op": ">=", "value": 140}}) == ["old"]


def test_vaccination_this_season_and_not(wh):
    flu = {"type": "vaccination", "valences": ["grippe"], "window": {"season": "grippe"}}
    assert matching(wh, flu) == ["old"]
    assert members(wh, {"type": "demographics", "age_min": 30},
                   {"type": "not", "rule": flu}) == ["a39", "a40"]
    assert matching(wh, {"type": "vaccination", "valences": ["d", "T", "P"]}) == ["a39"]


def test_history_mentions(wh):
    assert matching(wh, {"type": "history", "kind": "tobacco"}) == ["a39"]
    assert matching(wh, {"type": "history", "kind": "tobacco", "statuses": ["yes", "former"],
                         "label_contains": "FUMEUR"}) == ["a39", "old"]
    assert matching(wh, {"type": "history", "kind": "tobacco", "statuses": ["former"],
                         "window": {"months": 12}}) == []


def test_all_any_not_groups(wh):
    diab = {"type": "condition", "codes": ["T90"]}
    metf = {"type": "drug", "atc": ["A10BA"]}
    assert matching(wh, {"type": "all", "rules": [diab, metf]}) == ["a40"]
    assert matching(wh, {"type": "any", "rules": [diab, metf]}) == ["a40", "dead", "kid", "old"]
    assert matching(wh, {"type": "not", "rule": {"type": "any", "rules": [diab, metf]}}) == [
        "a39"]


def test_attrition_counts_patients_left_after_each_rule(wh):
    c = cohort({"type": "demographics", "age_min": 18},
               {"type": "condition", "codes": ["T90"], "origins": ["result", "reason"]},
               {"type": "drug", "atc": ["A10BA02"], "window": {"months": 12}})
    ex = evaluate(wh, c)
    assert [int((ex.steps >= i).sum()) for i in range(4)] == [4, 3, 2, 2]


def test_a_window_that_starts_after_the_index_date_is_refused(wh):
    c = cohort({"type": "drug", "atc": ["A10"], "window": {"from": "2027-01-01"}})
    with pytest.raises(CohortError, match="/rules/0/window"):
        attrition_frame(wh, c, INDEX)


def test_every_rule_compiles_for_spark_without_engine_specific_sql(wh):
    """The same expression compiles to Spark SQL (DESIGN.md: cohorts must run on Spark)."""
    c = cohort({"type": "demographics", "age_min": 40},
               {"type": "condition", "ranges": [{"from": "T89", "to": "T90"}],
                "window": {"days": 365}, "occurrences": {"min": 2}},
               {"type": "lab", "exam": "INR", "compare": {"op": "outside", "low": 2, "high": 3},
                "which": "share", "min_share_percent": 30},
               {"type": "drug", "atc": ["A10"], "min_days": 90},
               {"type": "biometric", "kind": "bmi", "compare": {"op": ">=", "value": 30}},
               {"type": "child_weight", "status": "obese"},
               {"type": "not", "rule": {"type": "vaccination", "valences": ["grippe"],
                                        "window": {"season": "grippe"}}},
               {"type": "any", "rules": [{"type": "history", "kind": "tobacco",
                                          "label_contains": "fum"},
                                         {"type": "condition", "codes": ["P17"],
                                          "occurrences": {"min": 0, "max": 0}}]})
    ibis.pyspark  # noqa: B018 - loading the backend registers its compiler options

    sql = ibis.to_sql(attrition_frame(wh, c, INDEX), dialect="pyspark")
    assert "SELECT" in sql


EVERY_KIND = [
    {"type": "demographics", "age_min": 30, "sex": "F"},
    {"type": "condition", "codes": ["T90"], "origins": ["result", "reason", "antecedent"]},
    {"type": "condition", "codes": ["T90"], "origins": ["result", "reason"],
     "window": {"days": 365}, "occurrences": {"min": 2}},
    {"type": "condition", "codes": ["T90"], "window": {"months": 6},
     "occurrences": {"min": 0, "max": 0}},
    {"type": "lab", "exam": "HBA1C", "compare": {"op": ">=", "value": 8}},
    {"type": "lab", "exam": "HBA1C", "compare": {"op": ">=", "value": 8}, "which": "latest"},
    {"type": "lab", "exam": "INR", "compare": {"op": "outside", "low": 2, "high": 3},
     "which": "share", "min_share_percent": 25},
    {"type": "drug", "atc": ["A10"], "min_days": 100},
    {"type": "drug", "atc": ["A10"], "occurrences": {"min": 2}},
    {"type": "biometric", "kind": "bmi", "compare": {"op": ">=", "value": 30}},
    {"type": "biometric", "kind": "systolic_bp", "which": "any",
     "compare": {"op": ">=", "value": 140}},
    {"type": "vaccination", "valences": ["grippe"], "occurrences": {"min": 0, "max": 0}},
    {"type": "history", "kind": "tobacco", "statuses": ["yes", "former"]},
    {"type": "not", "rule": {"type": "any", "rules": [
        {"type": "drug", "atc": ["B01"]}, {"type": "history", "kind": "tobacco"}]}},
]


@pytest.mark.parametrize("rule", EVERY_KIND, ids=lambda r: r["type"])
def test_counting_and_listing_select_the_same_patients(wh, rule):
    """Counts skip the per-patient facts; the GP's list computes them: same patients."""
    c = cohort(rule)
    got = {}
    for facts in (True, False):
        t = compile_rule(Context(wh, INDEX, facts=facts), c.rules[0], "/rules/0")
        got[facts] = sorted(wh.backend.to_pyarrow(t.select("patient_id"))["patient_id"]
                            .to_pylist())
    assert got[True] == got[False]
