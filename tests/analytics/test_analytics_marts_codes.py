"""Spec tests: rule codes as the coder writes them, and the analytics marts (same figures with
and without the stored marts, refreshed per source)."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import ibis
import pytest
from analytics_tables import PRACTICES, PRACTITIONERS, build_warehouse, central, patient

from p4dp.analytics.codes import exam_codes, icpc2_codes, valences
from p4dp.analytics.compile import Warehouse, run_indicator
from p4dp.analytics.library import get
from p4dp.analytics.model import Filters, Period, Scope
from p4dp.warehouse.marts import refresh_marts

D = dt.date
REF = D(2024, 6, 30)
AT_REF = Filters(period=Period(None, REF))


def rows(wh, name, filters=AT_REF, scope=Scope()):
    return run_indicator(wh, get(name), scope, filters)["rows"]


def lab(i, pid, date, code, value=1.0, source="arm"):
    return {"lab_result_id": f"l{i:02d}", "patient_id": pid, "date": date, "raw_label": code,
            "exam_code": code, "value": value, "source_id": source}


def bio(i, pid, date, kind, value):
    return {"biometric_id": f"b{i:02d}", "patient_id": pid, "date": date, "kind": kind,
            "value": value}


def vac(i, pid, date, vals):
    return {"vaccination_id": f"v{i:02d}", "patient_id": pid, "date": date, "raw_label": "x",
            "valences": vals}


def pb(i, pid, date, result=None, reason=None, procedure=None):
    return {"problem_id": f"pr{i}", "encounter_id": f"e{i}", "patient_id": pid,
            "practitioner_id": "arm_g1", "date": date, "result_code": result,
            "reason_code": reason, "procedure_code": procedure}


# --- codes ----------------------------------------------------------------------------------------


def test_codes_are_checked_against_the_terminology():
    assert exam_codes("INR", "HBA1C", "RAC") == ("INR", "HBA1C", "RAC")
    with pytest.raises(ValueError, match="labs_fr.csv"):
        exam_codes("inr")  # the lower-case spelling the rules once used: not a coder output
    with pytest.raises(ValueError, match="VALENCES"):
        valences("dT")
    with pytest.raises(ValueError, match="cisp2_fr.csv"):
        icpc2_codes("x41")


TABLES = {
    "practice": PRACTICES, "practitioner": PRACTITIONERS,
    "patient": [patient("i1", "F", 1950, 1), patient("i2", "M", 1960, 1),
                patient("t1", "F", 1960, 1), patient("t2", "M", 1955, 1),
                patient("c1", "F", 2014, 3), patient("c2", "M", 2012, 7),
                patient("v1", "F", 1990, 1), patient("v2", "M", 1990, 1),
                patient("v3", "F", 1990, 1),
                patient("m1", "M", 1980, 1, practice="p2", gp="med_g3")],
    "lab_result": [
        lab(1, "i1", D(2024, 1, 1), "INR", 2.5), lab(2, "i1", D(2024, 1, 11), "INR", 3.5),
        lab(3, "i1", D(2024, 1, 21), "INR", 2.5), lab(4, "i1", D(2024, 2, 10), "INR", 1.5),
        lab(5, "i2", D(2024, 1, 1), "inr", 2.5),    # not a code the coder writes: ignored
        lab(6, "i2", D(2024, 1, 10), "INR", 2.0), lab(7, "i2", D(2024, 1, 20), "INR", 2.0),
        lab(8, "t1", D(2024, 1, 10), "HBA1C", 7.1), lab(9, "t1", D(2024, 4, 10), "HBA1C", 6.9),
        lab(10, "t1", D(2024, 1, 10), "DFG", 80.0), lab(11, "t1", D(2024, 1, 10), "ALBU", 12.0),
        lab(12, "t2", D(2024, 1, 10), "HBA1C", 8.0), lab(13, "t2", D(2024, 1, 10), "CREAT", 80.0),
        lab(14, "m1", D(2024, 1, 1), "INR", 2.2, source="med"),
        lab(15, "m1", D(2024, 1, 15), "INR", 4.2, source="med"),
    ],
    "problem": [pb(1, "t1", D(2015, 1, 1), result="T90"),
                pb(2, "t2", D(2016, 1, 1), reason="P17"),    # tobacco, as a reason
                pb(3, "i1", D(2025, 1, 1), result="P15"),    # after the reference date
                # screening tests and a diabetic eye exam (`mart_dated_procedure`)
                pb(4, "t1", D(2023, 6, 1), procedure="X41"), pb(5, "i1", D(2021, 1, 1),
                                                               procedure="D36"),
                pb(6, "t1", D(2020, 5, 5), procedure="D40"), pb(7, "t1", D(2021, 3, 3),
                                                               procedure="F31"),
                pb(8, "v1", D(2022, 2, 2), procedure="X37")],
    "antecedent": [{"antecedent_id": "a1", "patient_id": "t2", "code": "T89",
                    "kind": "medical"}],                      # undated: counts at any date
    "biometric": [
        # c1, 10 years old on 2024-05-01: BMI 32.0 / 1.4² = 16.3 (below IOTF-25 ≈ 19.9)
        bio(1, "c1", D(2024, 5, 1), "weight", 32.0), bio(2, "c1", D(2024, 5, 1), "height", 140.0),
        # c2, 11 years old on 2024-03-01: BMI 45 / 1.45² = 21.4 (≥ IOTF-25 20.7 for boys at 11.6)
        bio(3, "c2", D(2024, 3, 1), "weight", 45.0), bio(4, "c2", D(2024, 3, 1), "height", 145.0),
        bio(5, "c2", D(2023, 3, 1), "weight", 30.0),  # no height that day: not a reading
    ],
    "encounter": [{"encounter_id": f"e{i}", "patient_id": pid, "practitioner_id": gp,
                   "date": d, "kind": kind}
                  for i, (pid, gp, d, kind) in enumerate([
                      ("i1", "arm_g1", D(2024, 1, 1), "cabinet"),
                      ("i1", "arm_g2", D(2024, 3, 4), None),
                      ("c2", "arm_g1", D(2023, 12, 31), "visite"),
                      ("m1", "med_g3", D(2024, 2, 1), "cabinet")])],
    "prescription": [{"prescription_id": f"rx{i}", "patient_id": pid,
                      "practitioner_id": "arm_g1", "date": d, "atc": atc, "drug_label": "x"}
                     for i, (pid, d, atc) in enumerate([
                         ("i1", D(2024, 1, 1), "B01AA03"), ("i1", D(2024, 3, 4), "b01aa03"),
                         ("t2", D(2024, 2, 2), "N02BE01"), ("t2", D(2024, 2, 2), None)])],
    "vaccination": [vac(1, "v1", D(2014, 1, 1), ["d", "T", "ca", "P"]),   # dTcaP at 24
                    vac(2, "v2", D(2014, 1, 1), ["D", "T", "Ca", "P"]),   # DTCaP at 24
                    vac(3, "v3", D(2014, 1, 1), ["d", "T"])],             # no polio: not dTP
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same warehouse twice: without marts (on-the-fly definitions) and with them stored."""
    folder = tmp_path_factory.mktemp("marts")
    plain = build_warehouse(folder / "plain.duckdb", TABLES)
    plain.backend.disconnect()
    shutil.copy(folder / "plain.duckdb", folder / "marts.duckdb")
    con = duckdb.connect(str(folder / "marts.duckdb"))
    con.execute("BEGIN")
    refresh_marts(con)
    con.execute("COMMIT")
    con.close()
    return (Warehouse(ibis.duckdb.connect(str(folder / "plain.duckdb"), read_only=True)),
            Warehouse(ibis.duckdb.connect(str(folder / "marts.duckdb"), read_only=True)))


def test_inr_reads_upper_case_codes_only(pair):
    plain, _ = pair
    # i1: 4 INRs, 2 outside 2–3 (3.5, 1.5); i2: the lower-case row is not an INR; m1: 2
    assert rows(plain, "examen_inr_out_of_range") == [[3, 2, 66.7, 8]]


def test_kidney_screening_accepts_egfr_and_albuminuria(pair):
    plain, _ = pair
    # t1: DFG + ALBU → kidney ok, 2 HbA1c; t2 (T89 undated antecedent): creatinine only
    assert rows(plain, "diabete_suivi") == [[2, 1, 0, 1, 0, 50.0, 0.0, 50.0, 0.0]]


def test_dtp_counts_adult_and_child_strength_diphtheria(pair):
    plain, _ = pair
    got = rows(plain, "vaccination_dtp_up_to_date", Filters(period=Period(None, REF),
                                                              patient_id=None))
    # over 25: i1, i2, t1, t2, v1, v2, v3, m1 = 8; dTP: v1 (d…ca) and v2 (D…Ca), not v3 (no P)
    assert got[0][:3] == [8, 2, 2]


def test_child_bmi_uses_same_day_pairs(pair):
    plain, _ = pair
    assert rows(plain, "surpoids_children") == [[2, 1, 0, 50.0, 0.0]]


def test_ttr_interval_crossing_the_period_start_is_not_counted(pair):
    plain, stored = pair
    # from 2024-01-05: i1 keeps 3.5 (01-11) → 2.5 (01-21) → 1.5 (02-10), not 2.5 → 3.5 before
    since = Filters(period=Period(D(2024, 1, 5), REF))
    want = rows(plain, "examen_inr_line_list", since, Scope("practitioner", "arm_g1"))
    i1 = [r for r in want if r[0] == "i1"][0]
    # 10 days from 3.5 to 2.5: 5 in range; 20 days from 2.5 to 1.5: 10 in range → 15 / 30
    assert i1[5] == 50.0
    assert rows(stored, "examen_inr_line_list", since, Scope("practitioner", "arm_g1")) == want


CASES = [(Scope(), AT_REF), (Scope(), Filters(period=Period(D(2024, 1, 5), REF), sex="F")),
         (Scope("practitioner", "arm_g1"), AT_REF), (Scope("practice", "p2"), AT_REF)]
READERS = ["surpoids_children", "surpoids_by_age_sex", "surpoids_line_list", "examen_inr_bands",
           "examen_inr_out_of_range", "examen_ttr", "examen_inr_line_list", "diabete_suivi",
           "diabete_hba1c_distribution", "dependance_by_age_sex", "vaccination_dtp_up_to_date",
           "vaccination_dtp_by_age", "vaccination_dtp_overdue", "depistage_sein",
           "depistage_colorectal", "depistage_col_uterus",
           # the frames stored with their patient context (`mart_frame_*`)
           "general_consultations_per_type", "general_exams_by_type", "general_reasons",
           "general_biometrics_by_kind", "general_vaccinations_by_type",
           "activite_consultations_per_week", "activite_top_prescriptions",
           "motifs_top_diagnoses_personal", "vaccination_top_labels", "examen_top_exams"]


@pytest.mark.parametrize("name", READERS)
def test_stored_marts_give_the_same_figures(pair, name):
    plain, stored = pair
    assert "mart_inr" in stored._stored and "mart_inr" not in plain._stored
    assert "mart_frame_encounters" in stored._stored
    answered = 0
    for scope, filters in CASES:
        ind = get(name)
        if (ind.is_line_list or ind.scope_policy == "practitioner") and \
                scope.kind != "practitioner":
            continue
        got = rows(stored, name, filters, scope)
        assert got == rows(plain, name, filters, scope)
        answered += bool(got)
    assert answered  # the comparison saw figures, not only empty results


@pytest.mark.parametrize("theme", ["surpoids", "examen", "diabete", "vaccination",
                                   "polymedication", "depistage", "activite", "general",
                                   "motifs", "historique", "dependance", "sentinelle"])
def test_a_dashboard_run_together_gives_each_indicator_its_own_answer(pair, theme):
    """`run_indicators` computes a shared frame once per request (a temporary table) for the
    indicators that read it, and the counts of one frame under several groupings in one
    GROUPING SETS query: the payloads are those of the indicators run one by one."""
    from p4dp.analytics.compile import IndicatorError, run_indicators
    from p4dp.analytics.library import by_theme

    inds = list(by_theme(theme))
    for wh in pair[1:]:
        for scope, filters in CASES[1:3]:
            together = run_indicators(wh, inds, scope, filters)
            for ind, got in zip(inds, together):
                try:
                    alone = run_indicator(wh, ind, scope, filters)
                except IndicatorError as e:
                    assert isinstance(got, IndicatorError) and str(got) == str(e)
                    continue
                assert {**got, "generated_at": None} == {**alone, "generated_at": None}, ind.name
        if any(i.frame.materialize for i in inds):
            assert any(k[0] == "frame" for k in wh.sql_cache)  # the shared path was taken
        if theme == "general":  # 16 counts of 9 frames: 9 queries, 6 of them grouped (per
            # scope kind: base and practitioner here)
            assert sum(k[0] == "grouped" for k in wh.sql_cache) == 6 * 2


def test_dependence_reads_codes_up_to_the_reference_date(pair):
    plain, _ = pair
    got = {(r[0], r[1]): r[2:] for r in rows(plain, "dependance_by_age_sex")}
    # t2 (M, 69): tobacco as a reason; i1's P15 is after the reference date
    assert got[("60 et plus", "M")][:2] == [2, 1]
    assert got[("60 et plus", "F")][2] == 0


def test_refresh_one_source_leaves_the_others(tmp_path):
    wh = build_warehouse(tmp_path / "w.duckdb", TABLES)
    wh.backend.disconnect()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    refresh_marts(con)
    before = con.execute("SELECT source_id, count(*) FROM mart_inr GROUP BY 1 ORDER BY 1").fetchall()
    assert before == [("arm", 6), ("med", 2)]
    con.execute("DELETE FROM lab_result WHERE lab_result_id IN ('l14', 'l01')")
    refresh_marts(con, ["med"])  # only med is recomputed: arm keeps its (now stale) row
    after = con.execute("SELECT source_id, count(*) FROM mart_inr GROUP BY 1 ORDER BY 1").fetchall()
    assert after == [("arm", 6), ("med", 1)]
    prev = con.execute("SELECT prev_date FROM mart_inr WHERE lab_result_id = 'l15'").fetchone()
    assert prev == (None,)
    con.close()


def test_a_mart_stored_by_an_earlier_version_is_rebuilt_whole(tmp_path):
    """After an upgrade that changes a mart's columns, the next per-source refresh rebuilds it
    for every source instead of inserting rows of the new shape into the old table."""
    wh = build_warehouse(tmp_path / "w.duckdb", TABLES)
    wh.backend.disconnect()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    refresh_marts(con)
    expected = con.execute("SELECT * FROM mart_frame_encounters ORDER BY ALL").fetchall()
    # as an earlier version stored it: one more column, one fewer, rows of one source only
    con.execute("CREATE OR REPLACE TABLE mart_frame_encounters AS SELECT 'x' AS encounter_id, "
                "* EXCLUDE (event_month) FROM mart_frame_encounters WHERE source_id = 'arm'")
    refresh_marts(con, ["med"])
    assert con.execute("SELECT * FROM mart_frame_encounters ORDER BY ALL").fetchall() == expected
    con.close()


def test_patient_keys_are_given_once_and_never_renumbered(tmp_path):
    """Distinct patients are counted as a bitmap of integer keys: a key is given to a new
    pseudonym only, other patients keep theirs (the marts of other sources hold them), and the
    key of a deleted patient goes."""
    wh = build_warehouse(tmp_path / "w.duckdb", TABLES)
    wh.backend.disconnect()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    refresh_marts(con)
    keys = dict(con.execute("SELECT patient_id, patient_key FROM patient_key").fetchall())
    assert sorted(keys.values()) == list(range(1, len(TABLES["patient"]) + 1))
    new = central("patient", [{**patient("a0", "F", 1970, 1), "source_id": "arm",
                               "batch_id": "b2", "opposition": False}])  # noqa: F841
    con.execute("INSERT INTO patient SELECT * FROM new")
    con.execute("DELETE FROM patient WHERE patient_id = 'm1'")
    refresh_marts(con, ["arm"])
    after = dict(con.execute("SELECT patient_id, patient_key FROM patient_key").fetchall())
    assert after == {**{p: k for p, k in keys.items() if p != "m1"}, "a0": max(keys.values()) + 1}
    assert con.execute("SELECT count(*) FROM mart_frame_encounters WHERE patient_key IS NULL"
                       ).fetchone() == (0,)
    con.close()


@pytest.mark.parametrize("theme", ["general", "activite", "depistage", "vaccination", "diabete"])
def test_distinct_patients_as_a_bitmap_of_keys_equal_count_distinct(pair, theme):
    from p4dp.analytics.compile import run_indicators
    from p4dp.analytics.library import by_theme

    inds = list(by_theme(theme))
    for stored in pair:
        wh = Warehouse(stored.backend)  # fresh SQL caches, checked below
        assert wh.key_range is not None  # stored keys, or numbered on the fly (no marts)
        hashed = Warehouse(stored.backend)
        hashed.__dict__["key_range"] = None  # count(DISTINCT patient_id)
        for scope, filters in CASES:
            keyed = run_indicators(wh, inds, scope, filters)
            plain = run_indicators(hashed, inds, scope, filters)
            for ind, a, b in zip(inds, keyed, plain):
                if isinstance(a, Exception):
                    assert str(a) == str(b)
                    continue
                assert {**a, "generated_at": None} == {**b, "generated_at": None}, ind.name
        def bitmaps(w: Warehouse) -> bool:
            return any("bitstring_agg" in str(e.get("sql")).lower() for e in w.sql_cache.values())

        assert bitmaps(wh) and not bitmaps(hashed)


def test_many_small_groups_count_distinct_patients_without_bitmaps(pair):
    """A bitmap per group pays for a few large groups only: the weekly series per syndrome
    (`MAX_BITMAP_GROUPS`) counts with count(DISTINCT), the weekly series alone with bitmaps."""
    from p4dp.analytics.compile import run_indicators
    from p4dp.analytics.library import get

    for stored in pair:
        for name, bitmap in (("sentinelle_weekly_network", False),
                             ("activite_consultations_per_week", True)):
            wh = Warehouse(stored.backend)
            run_indicators(wh, [get(name)])
            (entry,) = wh.sql_cache.values()
            assert ("bitstring_agg" in entry["sql"].lower()) is bitmap, name
            assert ("count(distinct" in entry["sql"].lower()) is not bitmap, name
