"""Spec tests: Vaccination (dTP booster), Historique, Dépendance, Polymédication.

Statuses are judged at the reference date = the end of the date range (30 June 2024 here).
"""

from __future__ import annotations

import datetime as dt

import pytest
from analytics_tables import PRACTICES, PRACTITIONERS, patient

from p4dp.analytics.compile import run_indicator
from p4dp.analytics.library import get
from p4dp.analytics.model import Filters, Period, Scope

D = dt.date
REF = D(2024, 6, 30)
AT_REF = Filters(period=Period(None, REF))


def rows(wh, name, scope=Scope(), filters=AT_REF):
    return run_indicator(wh, get(name), scope, filters)["rows"]


def vac(i, pid, date, label, valences):
    return {"vaccination_id": f"v{i:02d}", "patient_id": pid, "date": date, "raw_label": label,
            "valences": valences}


DTP = ["d", "T", "P"]


@pytest.fixture(scope="module")
def vaccines(tmp_path_factory):
    from analytics_tables import build_warehouse

    dead = patient("v7", "F", 1960, 1)
    dead["death_date"] = D(2020, 1, 1)
    return build_warehouse(tmp_path_factory.mktemp("vac") / "wh.duckdb", {
        "practice": PRACTICES, "practitioner": PRACTITIONERS,
        "patient": [patient("v1", "F", 1990, 1), patient("v2", "M", 1970, 6),
                    patient("v3", "F", 1950, 1), patient("v4", "M", 1940, 1),
                    patient("v5", "F", 1999, 6), patient("v6", "M", 1980, 1), dead,
                    patient("v8", "F", 1998, 6)],
        "vaccination": [
            vac(1, "v1", D(2012, 3, 1), "REVAXIS", DTP),         # at 22, counts for 25
            vac(2, "v2", D(2005, 3, 1), "DTP", DTP),             # at 34: misses the 45 booster
            vac(3, "v2", D(2023, 10, 1), "grippe", ["grippe"]),  # not dTP
            vac(4, "v3", D(2012, 1, 1), "DTCP", ["D", "T", "Ca", "P"]),  # at 61, counts for 65
            vac(5, "v4", D(2005, 6, 1), "REVAXIS", DTP),         # at 65: misses the 75 booster
            vac(6, "v6", D(2025, 1, 1), "REVAXIS", DTP),         # after the reference date
            vac(7, "v8", D(2020, 1, 1), "3 covid et dtp à 25 ans", DTP),  # at 21, for 25
        ],
    })


def test_dtp_up_to_date_among_adults_over_25(vaccines):
    # v5 is 25 on the reference date (not > 25), v7 died; v1, v3, v8 up to date of 6
    assert rows(vaccines, "vaccination_dtp_up_to_date") == [[6, 5, 3, 50.0]]


def test_dtp_coverage_by_age_band(vaccines):
    assert rows(vaccines, "vaccination_dtp_by_age") == [
        ["26-44", 3, 2, 66.7], ["45-64", 1, 0, 0.0], ["65-74", 1, 1, 100.0],
        ["75 et plus", 1, 0, 0.0]]


def test_dtp_overdue_line_list_for_the_gp(vaccines):
    assert rows(vaccines, "vaccination_dtp_overdue", Scope("practitioner", "arm_g1")) == [
        ["v2", 54, "2005-03-01", "DTP", 34, 45],
        ["v4", 84, "2005-06-01", "REVAXIS", 65, 75],
        ["v6", 44, None, None, None, 25],
    ]


def test_the_reference_date_moves_the_status(vaccines):
    # on 1 January 2016: v1 is still 25 and v8 17 (excluded); v7 is alive (55, no dose); v2 (45)
    # and v4 (75) have passed a booster age without a dose; v6's dose is in the future
    r = rows(vaccines, "vaccination_dtp_up_to_date",
             filters=Filters(period=Period(None, D(2016, 1, 1))))
    assert r == [[5, 3, 1, 20.0]]


def test_doses_by_valence(vaccines):
    assert rows(vaccines, "vaccination_by_valence", filters=Filters()) == [
        ["Ca", 1, 1], ["D", 1, 1], ["P", 6, 6], ["T", 6, 6], ["d", 5, 5], ["grippe", 1, 1]]


# --- Historique and Dépendance -----------------------------------------------------------------


def hist(i, pid, date, kind, label, status):
    return {"history_id": f"h{i:02d}", "patient_id": pid, "date": date, "kind": kind,
            "label": label, "status": status}


def prob(i, pid, date, result=None, reason=None):
    return {"problem_id": f"pb{i}", "encounter_id": f"e{i}", "patient_id": pid,
            "practitioner_id": "arm_g1", "date": date, "result_code": result,
            "reason_code": reason}


@pytest.fixture(scope="module")
def habits(tmp_path_factory):
    from analytics_tables import build_warehouse

    return build_warehouse(tmp_path_factory.mktemp("hist") / "wh.duckdb", {
        "practice": PRACTICES, "practitioner": PRACTITIONERS,
        "patient": [patient("h1", "F", 1994, 1), patient("h2", "M", 1954, 1),
                    patient("h3", "F", 2014, 1), patient("h4", "M", 1984, 1),
                    patient("d1", "M", 1974, 1), patient("d2", "F", 1994, 1),
                    patient("d3", "M", 1954, 1), patient("d4", "F", 2004, 1)],
        "history": [
            hist(1, "h1", D(2020, 1, 1), "tobacco", "Tabac", "yes"),
            hist(2, "h1", D(2023, 1, 1), "tobacco", " tabac ", "no"),   # latest: no longer
            hist(3, "h1", D(2022, 1, 1), "alcohol", "Alcool", "yes"),
            hist(4, "h2", None, "tobacco", "tabac", "yes"),              # undated: after dated
            hist(5, "h2", D(2010, 1, 1), "tobacco", "Ancien fumeur", "former"),
            hist(6, "h4", D(2025, 1, 1), "drugs", "cannabis", "yes"),    # after the reference
            hist(7, "d3", D(2019, 1, 1), "drugs", "cannabis", "yes"),
        ],
        "problem": [prob(1, "d1", D(2020, 5, 5), result="P17"),
                    prob(2, "d3", D(2025, 1, 1), reason="P16")],          # after the reference
        "antecedent": [{"antecedent_id": "a1", "patient_id": "d2", "code": "P15",
                        "kind": "medical"}],
    })


def test_substance_use_mentions_by_age_band_and_sex(habits):
    r = {(x[0], x[1]): x[2:] for x in rows(habits, "historique_substance_use")}
    assert r[("0-15", "F")] == [1, 0, 0, 0, 0, 0.0, 0.0, 0.0]                  # h3
    assert r[("16-60", "F")] == [3, 1, 0, 1, 0, 0.0, 33.3, 0.0]                 # h1, d2, d4
    assert r[("16-60", "M")] == [2, 0, 0, 0, 0, 0.0, 0.0, 0.0]                  # h4, d1
    assert r[("60 et plus", "M")] == [2, 2, 0, 0, 1, 0.0, 0.0, 50.0]            # h2, d3


def test_top_history_labels(habits):
    assert rows(habits, "historique_top_labels", filters=Filters()) == [
        [1, "tobacco", "tabac", 3, 2], [2, "drugs", "cannabis", 2, 2],
        [3, "alcohol", "alcool", 1, 1], [4, "tobacco", "ancien fumeur", 1, 1]]


def test_dependence_from_codes_and_history(habits):
    r = {(x[0], x[1]): x[2:] for x in rows(habits, "dependance_by_age_sex")}
    # d2: antecedent P15 (alcohol); h1: current alcohol mention; d4 nothing
    assert r[("16-60", "F")] == [3, 0, 2, 0, 2, 66.7]
    # d1: problem P17; h4's drug mention is after the reference date
    assert r[("16-60", "M")] == [2, 1, 0, 0, 1, 50.0]
    # d3: drug mention (P16 after the reference date ignored); h2 latest tobacco is "former"
    assert r[("60 et plus", "M")] == [2, 0, 0, 1, 1, 50.0]


# --- Polymédication ----------------------------------------------------------------------------


def rx(pid, date, atc, n=[0]):
    n[0] += 1
    return {"prescription_id": f"rx{n[0]}", "patient_id": pid, "date": date,
            "drug_label": atc or "x", "atc": atc}


IN = D(2024, 5, 1)   # inside the 91 days up to 30 June 2024
ATCS = ["A10BA02", "B01AA03", "C07AB02", "C10AA05", "N02BE01", "A02BC01", "C03CA01", "N05CF01",
        "R03AC02", "H03AA01"]


@pytest.fixture(scope="module")
def drugs(tmp_path_factory):
    from analytics_tables import build_warehouse

    return build_warehouse(tmp_path_factory.mktemp("poly") / "wh.duckdb", {
        "practice": PRACTICES, "practitioner": PRACTITIONERS,
        "patient": [patient("m1", "F", 1944, 1), patient("m2", "M", 1934, 1),
                    patient("m3", "F", 1947, 1), patient("m4", "M", 1964, 1),
                    patient("m5", "F", 1946, 1)],
        "prescription": (
            [rx("m1", IN, a) for a in ATCS[:5]] + [rx("m1", IN, ATCS[0].lower()),
                                                   rx("m1", D(2024, 1, 1), ATCS[5])]
            + [rx("m2", IN, a) for a in ATCS]
            + [rx("m3", IN, a) for a in ATCS[:2]] + [rx("m3", IN, "C10AA"), rx("m3", IN, None)]
            + [rx("m4", IN, a) for a in ATCS[:6]]
            + [rx("m5", D(2024, 3, 31), a) for a in ATCS]),   # just outside the window
    })


def test_polymedication_over_75_cumulative_over_3_months(drugs):
    assert rows(drugs, "polymedication_75") == [[3, 2, 1, 66.7, 33.3, 5.0]]


def test_polymedication_by_age_and_sex(drugs):
    assert rows(drugs, "polymedication_by_age_sex") == [
        ["75-84", "F", 2, 1, 0, 50.0, 0.0, 3.5], ["85 et plus", "M", 1, 1, 1, 100.0, 100.0, 10.0]]


# --- Diabète and Dépistage cancer -------------------------------------------------------------


def lab(i, pid, date, code, value=1.0):
    return {"lab_result_id": f"l{i:02d}", "patient_id": pid, "date": date, "raw_label": code,
            "exam_code": code, "value": value}


def proc(i, pid, date, code=None, result=None):
    return {"problem_id": f"pr{i}", "encounter_id": f"e{i}", "patient_id": pid,
            "practitioner_id": "arm_g1", "date": date, "procedure_code": code,
            "result_code": result}


@pytest.fixture(scope="module")
def followup(tmp_path_factory):
    from analytics_tables import build_warehouse

    dead = patient("t4", "M", 1945, 1)
    dead["death_date"] = D(2023, 1, 1)
    return build_warehouse(tmp_path_factory.mktemp("diab") / "wh.duckdb", {
        "practice": PRACTICES, "practitioner": PRACTITIONERS,
        "patient": [patient("t1", "F", 1960, 1), patient("t2", "M", 1950, 1),
                    patient("t3", "F", 1970, 1), dead, patient("t5", "M", 1980, 1),
                    patient("s1", "F", 1960, 1), patient("s2", "F", 1997, 1),
                    patient("s3", "M", 1970, 1), patient("s4", "F", 1945, 1),
                    patient("s5", "F", 1972, 1)],
        "problem": [
            proc(1, "t1", D(2015, 1, 1), result="T90"),
            proc(2, "t1", D(2023, 1, 1), code="F31"),       # eye exam 546 days before
            proc(3, "t2", D(2021, 1, 1), code="F67"),       # referral > 2 years before
            proc(4, "t3", D(2025, 1, 1), result="T90"),     # diagnosed after the reference
            proc(5, "t4", D(2015, 1, 1), result="T90"),     # died before the reference
            proc(10, "s1", D(2023, 1, 1), code="X41"),      # mammography 1.5 years before
            proc(11, "s1", D(2021, 1, 1), code="D36"),      # FIT 3.5 years before: too old
            proc(12, "s1", D(2020, 1, 1), code="D40"),      # colonoscopy 4.5 years: covers
            proc(13, "s1", D(2020, 6, 1), code="X37"),      # 4.1 years, HPV age: covers
            proc(14, "s2", D(2021, 1, 1), code="X37"),      # 3.5 years at 27: too old
            proc(15, "s5", D(2021, 6, 1), code="X41"),      # 3.1 years: too old
            proc(16, "s5", D(2023, 6, 1), code="D36"),
        ],
        "antecedent": [{"antecedent_id": "a1", "patient_id": "t2", "code": "T89",
                        "kind": "medical"}],
        "lab_result": [
            lab(1, "t1", D(2023, 9, 1), "HBA1C", 7.5), lab(2, "t1", D(2024, 3, 1), "HBA1C", 6.8),
            lab(3, "t1", D(2024, 1, 10), "CREAT", 80.0), lab(4, "t1", D(2024, 1, 10), "RAC", 2.0),
            lab(5, "t2", D(2023, 5, 1), "HBA1C", 9.2),     # outside the year
            lab(6, "t2", D(2024, 5, 1), "HBA1C", 8.4), lab(7, "t2", D(2024, 5, 1), "CREAT", 90.0),
            lab(8, "t5", D(2024, 5, 1), "HBA1C", 5.5),     # not diabetic
        ],
        "prescription": [rx("t1", D(2024, 2, 1), "C10AA05"), rx("t2", D(2024, 2, 1), "C10BA02"),
                         rx("t5", D(2024, 2, 1), "C10AA01")],
    })


def test_diabetes_follow_up(followup):
    # t1: all four; t2: one HbA1c in the year, no urine test, statin combination, old referral
    assert rows(followup, "diabete_suivi") == [[2, 1, 1, 1, 2, 50.0, 50.0, 50.0, 100.0]]


def test_hba1c_distribution_uses_the_latest_value_of_the_year(followup):
    assert rows(followup, "diabete_hba1c_distribution") == [["8-9 %", 1], ["< 7 %", 1]]


def test_breast_screening(followup):
    # women 50–74: t1, t3, s1, s5 (t4 dead, s4 79); s1 only has a recent mammography
    assert rows(followup, "depistage_sein") == [[4, 1, 25.0]]


def test_colorectal_screening_counts_a_colonoscopy_for_5_years(followup):
    # 50–74: t1, t2 (74), t3, s1, s3, s5; s1 (colonoscopy) and s5 (recent FIT) up to date
    assert rows(followup, "depistage_colorectal") == [[6, 2, 33.3]]


def test_cervical_screening_interval_depends_on_age(followup):
    # women 25–65: t1, t3, s1, s2, s5; s1 (4.1 years at 64) yes, s2 (3.5 years at 27) no
    assert rows(followup, "depistage_col_uterus") == [[5, 1, 20.0]]
