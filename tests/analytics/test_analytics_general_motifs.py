"""Spec tests: general statistics, Motifs, and the compiler's scopes and filters."""

from __future__ import annotations

import datetime as dt

import pytest
from analytics_tables import PRACTICES, PRACTITIONERS, patient

from p4dp.analytics.compile import IndicatorError, run_indicator
from p4dp.analytics.library import get
from p4dp.analytics.model import Filters, Period, Scope

D = dt.date
AS_OF = D(2024, 6, 30)


def enc(eid, pid, gp, date, kind="cabinet"):
    return {"encounter_id": eid, "patient_id": pid, "practitioner_id": gp, "date": date,
            "kind": kind}


def prob(i, pid, gp, date, result=None, reason=None, reason_text=None):
    return {"problem_id": f"pb{i}", "encounter_id": f"e{i}", "patient_id": pid,
            "practitioner_id": gp, "date": date, "result_code": result, "reason_code": reason,
            "reason_text": reason_text}


@pytest.fixture(scope="module")
def wh(make_wh_mod):
    make_wh = make_wh_mod
    return make_wh(
        practice=PRACTICES,
        practitioner=PRACTITIONERS,
        patient=[
            patient("a", "F", 1950, 3),                       # 74 on AS_OF
            patient("b", "M", 2010, 6),                       # turns 14 on 15 June 2024
            patient("c", "F", 1990, 1, practice="p2", gp="med_g3"),
            patient("x", "M", 1980, 1, opposition=True),      # objected: never counted
        ],
        encounter=[
            enc("e1", "a", "arm_g1", D(2023, 1, 10)),
            enc("e2", "a", "arm_g1", D(2024, 2, 1), "visite"),
            enc("e3", "b", "arm_g2", D(2024, 6, 14)),
            enc("e4", "c", "med_g3", D(2024, 3, 3), None),
            enc("e5", "x", "arm_g1", D(2024, 3, 3)),
            enc("e6", "c", "arm_g1", D(2024, 4, 4)),          # c saw g1 once: g1's patient
        ],
        problem=[
            prob(1, "a", "arm_g1", D(2023, 1, 10), "K86", "K86"),
            prob(2, "a", "arm_g1", D(2024, 2, 1), "R74", None, "toux"),
            prob(3, "b", "arm_g2", D(2024, 6, 14), "R74"),
            prob(4, "c", "med_g3", D(2024, 3, 3), None),
            prob(5, "c", "med_g3", D(2024, 3, 3), "K86"),
            prob(6, "c", "arm_g1", D(2024, 4, 4), "", "R05"),
            prob(7, "x", "arm_g1", D(2024, 3, 3), "T90"),
        ],
        history=[
            hist(1, "a", D(2023, 5, 1), "tobacco"),
            hist(2, "a", None, "alcohol"),                     # undated
            hist(3, "c", D(2024, 1, 1), None),                # kind not given
            hist(4, "x", D(2024, 1, 1), "tobacco"),             # objected
        ],
    )


def hist(i, pid, date, kind):
    return {"history_id": f"h{i}", "patient_id": pid, "date": date, "kind": kind,
            "label": "x", "status": "yes"}


def rows(payload):
    return [tuple(r) for r in payload["rows"]]


def test_consultations_exclude_patients_who_objected(wh):
    p = run_indicator(wh, get("general_consultations"), filters=Filters(as_of=AS_OF))
    assert rows(p) == [(5, 3)]


def test_consultations_per_year_in_one_grouped_query(wh):
    p = run_indicator(wh, get("general_consultations_per_year"))
    assert rows(p) == [(2023, 1, 1), (2024, 4, 3)]
    assert [c["name"] for c in p["columns"]] == ["year", "n", "patients"]


def test_consultations_per_type_names_missing_kinds_autre(wh):
    p = run_indicator(wh, get("general_consultations_per_type"))
    assert rows(p) == [("autre", 1, 1), ("cabinet", 3, 3), ("visite", 1, 1)]


def test_practice_and_region_scopes(wh):
    ind = get("general_consultations")
    assert rows(run_indicator(wh, ind, Scope("practice", "p2"))) == [(2, 1)]
    assert rows(run_indicator(wh, ind, Scope("region", "93"))) == [(3, 2)]


def test_gp_scope_keeps_the_gps_own_consultations_of_their_patients(wh):
    p = run_indicator(wh, get("general_consultations"), Scope("practitioner", "arm_g1"))
    # e1, e2 (a), e6 (c seen once by g1); not e3 (g2), e4 (g3), e5 (objected)
    assert rows(p) == [(3, 2)]


def test_sex_age_and_date_filters(wh):
    ind = get("general_consultations")
    assert rows(run_indicator(wh, ind, filters=Filters(sex="F"))) == [(4, 2)]
    both = Filters(period=Period(D(2024, 1, 1), D(2024, 3, 31)))
    assert rows(run_indicator(wh, ind, filters=both)) == [(2, 2)]
    # b is 13 at the event (14 June, the day before the assumed 15 June birthday), 14 today
    kids_at_event = Filters(age_min=13, age_max=13)
    assert rows(run_indicator(wh, ind, filters=kids_at_event)) == [(1, 1)]
    kids_today = Filters(age_min=13, age_max=13, age_at="today", as_of=AS_OF)
    assert rows(run_indicator(wh, ind, filters=kids_today)) == [(0, 0)]
    assert rows(run_indicator(wh, ind, filters=Filters(patient_id="a"))) == [(2, 1)]


def test_undated_frames_report_the_ignored_date_filter(wh):
    p = run_indicator(wh, get("general_patients"),
                      filters=Filters(period=Period(D(2024, 1, 1), None)))
    assert rows(p) == [(3,)]
    assert p["ignored_filters"] == ["date"]


def test_doctors_by_sex_and_by_practice_scope(wh):
    assert rows(run_indicator(wh, get("general_doctors_by_sex"))) == [("F", 2), ("M", 1)]
    p = run_indicator(wh, get("general_doctors"), Scope("practice", "p1"),
                      Filters(sex="F"))
    assert rows(p) == [(2,)]
    assert p["ignored_filters"] == ["sex"]


def test_reasons_count_coded_or_typed_reasons(wh):
    assert rows(run_indicator(wh, get("general_reasons"))) == [(3, 2)]


def test_history_items_counted_and_by_kind_undated_only_without_a_date_range(wh):
    assert rows(run_indicator(wh, get("general_history"))) == [(3, 2)]
    assert rows(run_indicator(wh, get("general_history_by_type"))) == [
        ("alcohol", 1, 1), ("inconnu", 1, 1), ("tobacco", 1, 1)]
    in_2024 = Filters(period=Period(D(2024, 1, 1), D(2024, 12, 31)))
    assert rows(run_indicator(wh, get("general_history_by_type"), filters=in_2024)) == [
        ("inconnu", 1, 1)]


def test_top_reasons_personal_are_the_gps_own_problems_with_typed_reasons_as_no_code(wh):
    p = run_indicator(wh, get("motifs_top_reasons_personal"), Scope("practitioner", "arm_g1"))
    # pb1 K86 (a), pb2 typed "toux" without a code (a), pb6 R05 (c); x objected
    assert rows(p) == [(1, "K86 - Hypertension non compliquée", 1), (2, "R05 - Toux", 1),
                       (3, "_ - Pas de code attribué", 1)]


def test_top_diagnoses_of_the_base_rank_by_count_then_code_with_no_code_row(wh):
    p = run_indicator(wh, get("motifs_top_diagnoses_base"), Scope("practitioner", "arm_g1"))
    assert p["scope"] == {"kind": "base", "value": None}
    assert rows(p) == [
        (1, "K86 - Hypertension non compliquée", 2),
        (2, "R74 - Infection aiguë des voies respiratoires supérieures", 2),
        (3, "_ - Pas de code attribué", 2),
    ]


def test_top_diagnoses_personal_are_the_gps_own_problems(wh):
    p = run_indicator(wh, get("motifs_top_diagnoses_personal"), Scope("practitioner", "arm_g1"))
    assert rows(p) == [
        (1, "K86 - Hypertension non compliquée", 1),
        (2, "R74 - Infection aiguë des voies respiratoires supérieures", 1),
        (3, "_ - Pas de code attribué", 1),
    ]


def test_personal_top_refuses_a_scope_that_is_not_a_gp(wh):
    with pytest.raises(IndicatorError, match="--practitioner"):
        run_indicator(wh, get("motifs_top_diagnoses_personal"), Scope("practice", "p1"))


def test_top_keeps_only_n_rows(wh):
    from dataclasses import replace

    ind = replace(get("motifs_top_reasons_base"), top=1)
    assert rows(run_indicator(wh, ind)) == [(1, "_ - Pas de code attribué", 4)]


def test_payload_is_json_serialisable(wh):
    import json

    p = run_indicator(wh, get("general_consultations_per_type"))
    assert json.loads(json.dumps(p))["indicator"] == "general_consultations_per_type"
    assert set(p) >= {"indicator", "title_fr", "filters", "scope", "columns", "rows",
                      "generated_at"}


@pytest.mark.parametrize("name", ["general_consultations_per_year", "motifs_top_reasons_base",
                                  "general_doctors_by_sex", "motifs_top_diagnoses_personal"])
def test_cached_prepared_sql_gives_the_same_rows_as_the_ibis_expression(wh, name):
    from p4dp.analytics.compile import Warehouse

    plain = Warehouse(wh.backend, use_sql_cache=False)
    requests = [
        (Scope("practitioner", "arm_g1"), Filters(as_of=AS_OF)),
        (Scope("practitioner", "arm_g2"), Filters(sex="M", age_min=10, age_max=20)),
        (Scope("practitioner", "arm_g1"), Filters(sex="F", age_min=70, age_max=80,
                                                  age_at="today", as_of=AS_OF)),
        (Scope("practitioner", "med_g3"), Filters(period=Period(D(2024, 3, 1), D(2024, 3, 31)),
                                                  patient_id="c")),
        (Scope("practitioner", "arm_g1"), Filters(period=Period(D(2024, 1, 1), None))),
    ]
    for scope, filters in requests:
        for s in (scope, Scope("practice", "p1"), Scope()):
            try:
                expected = run_indicator(plain, get(name), s, filters)["rows"]
            except IndicatorError:
                continue
            assert run_indicator(wh, get(name), s, filters)["rows"] == expected, (s, filters)
    assert wh.sql_cache  # the cached path was taken
