"""Calibration of the clinical follow-up the dashboards read (demo preset, seed 42): organised
cancer screening, diabetic follow-up, statins, polymedication of the elderly, child overweight.

Shares are computed here from the staging tables and the ground truth (true procedure codes), the
way the analytics rules count them, with bounds around the national figures the generator
targets (docs/synth.md, "Calibration")."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pyarrow.csv as pacsv
import pytest

from p4dp.reference import path as reference_path

#: The demo fixture's run date (tests/synth/conftest.py).
TODAY = date(2026, 11, 29)
REF = f"DATE '{TODAY.isoformat()}'"
AGE = f"(date_diff('day', pa.birth_date, {REF}) / 365.25)"
ALIVE = f"pa.death_date IS NULL AND pa.registered_on <= {REF}"


@pytest.fixture(scope="module")
def con(demo):
    assert demo.today == TODAY
    c = duckdb.connect()
    for name in ("patient", "problem", "prescription", "lab_result", "biometric"):
        c.register(name, demo.tables[name])
    c.register("truth", demo.ground_truth["problem_codes"])
    c.execute("""CREATE TABLE proc AS SELECT p.source_id, p.patient_id, p.date, t.code,
                 p.procedure_code FROM problem p JOIN truth t ON t.source_id = p.source_id
                 AND t.problem_id = p.problem_id AND t.field = 'procedure'""")
    c.execute(f"""CREATE TABLE diab AS SELECT DISTINCT p.source_id, p.patient_id FROM problem p
                  JOIN truth t ON t.source_id = p.source_id AND t.problem_id = p.problem_id
                  AND t.field = 'result' AND t.code IN ('T89', 'T90')
                  JOIN patient pa ON pa.source_id = p.source_id
                  AND pa.patient_id = p.patient_id WHERE {ALIVE}""")
    return c


def _one(con, sql: str) -> float:
    return float(con.execute(sql).fetchone()[0])


def _screened(con, codes: str, sex: str, lo: int, hi: int, years: str) -> float:
    """Share up to date among eligible living patients seen in the last 2 years."""
    return _one(con, f"""
        SELECT avg(CASE WHEN EXISTS (SELECT 1 FROM proc WHERE proc.source_id = pa.source_id
                   AND proc.patient_id = pa.patient_id AND proc.code IN {codes}
                   AND proc.date <= {REF}
                   AND date_diff('day', proc.date, {REF}) <= 365.25 * ({years}))
                   THEN 1 ELSE 0 END)
        FROM patient pa WHERE {ALIVE} AND {sex} AND floor({AGE}) BETWEEN {lo} AND {hi}
        AND pa.patient_id IN (SELECT patient_id FROM problem q WHERE q.source_id = pa.source_id
                              AND q.date > {REF} - INTERVAL 2 YEAR)""")


def test_breast_screening_coverage(con):
    assert 0.40 <= _screened(con, "('X41')", "pa.sex = 'F'", 50, 74, "2") <= 0.55


def test_colorectal_screening_coverage(con):
    assert 0.27 <= _screened(con, "('D36')", "TRUE", 50, 74, "2") <= 0.38


def test_cervical_screening_coverage(con):
    years = f"CASE WHEN floor({AGE}) <= 29 THEN 3 ELSE 5 END"
    assert 0.52 <= _screened(con, "('X37')", "pa.sex = 'F'", 25, 65, years) <= 0.66


def test_screening_only_in_eligible_ages_and_sex(con):
    bad = _one(con, f"""SELECT count(*) FROM proc JOIN patient pa USING (source_id, patient_id)
        WHERE (proc.code = 'X41' AND (pa.sex = 'M'
               OR date_diff('day', pa.birth_date, proc.date) / 365.25 NOT BETWEEN 50 AND 75))
           OR (proc.code = 'X37' AND pa.sex = 'M')""")
    assert bad == 0


def test_procedures_mostly_free_text_with_some_source_codes(con):
    coded = _one(con, """SELECT avg(CASE WHEN procedure_code IS NOT NULL THEN 1 ELSE 0 END)
                         FROM proc
                         WHERE code IN ('X41', 'D36', 'X37', 'F30', 'F31', 'F41', 'F67')""")
    assert 0.03 < coded < 0.5


def test_diabetic_follow_up_shares(con):
    n = _one(con, "SELECT count(*) FROM diab")
    assert n > 500
    hba1c = _one(con, f"""SELECT avg(CASE WHEN coalesce(k, 0) >= 2 THEN 1 ELSE 0 END) FROM diab
        LEFT JOIN (SELECT source_id, patient_id, count(*) k FROM lab_result
                   WHERE (lower(raw_label) LIKE '%a1c%' OR lower(raw_label) LIKE '%glyqu%')
                   AND date > {REF} - INTERVAL 365 DAY AND date <= {REF} GROUP BY ALL) x
        USING (source_id, patient_id)""")
    assert 0.58 <= hba1c <= 0.75
    eye = _one(con, f"""SELECT avg(CASE WHEN EXISTS (SELECT 1 FROM proc WHERE
        proc.source_id = d.source_id AND proc.patient_id = d.patient_id
        AND proc.code IN ('F30', 'F31', 'F41', 'F67') AND proc.date <= {REF}
        AND date_diff('day', proc.date, {REF}) <= 730) THEN 1 ELSE 0 END) FROM diab d""")
    assert 0.52 <= eye <= 0.68
    uacr = _one(con, f"""SELECT avg(CASE WHEN x.patient_id IS NOT NULL THEN 1 ELSE 0 END)
        FROM diab d LEFT JOIN (SELECT DISTINCT source_id, patient_id FROM lab_result
            WHERE (lower(raw_label) LIKE '%albu%' OR raw_label = 'RAC')
            AND date > {REF} - INTERVAL 365 DAY AND date <= {REF}) x
        USING (source_id, patient_id)""")
    assert 0.28 <= uacr <= 0.42


def test_statin_share_among_diabetics(con):
    statin = _one(con, f"""SELECT avg(CASE WHEN x.patient_id IS NOT NULL THEN 1 ELSE 0 END)
        FROM diab d LEFT JOIN (SELECT DISTINCT source_id, patient_id FROM prescription
            WHERE (atc LIKE 'C10AA%' OR atc LIKE 'C10B%')
            AND date > {REF} - INTERVAL 365 DAY AND date <= {REF}) x
        USING (source_id, patient_id)""")
    assert 0.38 <= statin <= 0.55


def test_polymedication_of_the_elderly(con):
    poly, n = con.execute(f"""SELECT avg(CASE WHEN k >= 5 THEN 1 ELSE 0 END), count(*) FROM (
        SELECT r.source_id, r.patient_id, count(DISTINCT r.atc) k FROM prescription r
        JOIN patient pa USING (source_id, patient_id) WHERE {ALIVE} AND {AGE} >= 75
        AND length(r.atc) = 7 AND r.date > {REF} - INTERVAL 91 DAY AND r.date <= {REF}
        GROUP BY ALL)""").fetchone()
    assert n > 500
    assert 0.37 <= poly <= 0.55


def test_child_overweight_and_obesity_iotf(con):
    rows = con.execute("""
        WITH w AS (SELECT source_id, patient_id, date, value w FROM biometric
                   WHERE kind = 'weight'),
             h AS (SELECT source_id, patient_id, date, value h FROM biometric
                   WHERE kind = 'height')
        SELECT w.source_id, w.patient_id, w.date, w.w, h.h,
               date_diff('day', pa.birth_date, w.date) / 365.25 a, pa.sex = 'M' boy
        FROM w JOIN h USING (source_id, patient_id, date)
        JOIN patient pa USING (source_id, patient_id)
        WHERE date_diff('day', pa.birth_date, w.date) / 365.25 >= 6
          AND date_diff('day', pa.birth_date, w.date) / 365.25 < 16
          AND w.date > DATE '2016-01-01'
        ORDER BY w.source_id, w.patient_id, w.date DESC""").fetchnumpy()
    key = np.char.add(rows["source_id"].astype(str), rows["patient_id"].astype(str))
    _, first = np.unique(key, return_index=True)  # latest reading per child (sorted desc)
    w, h, a, boy = (np.asarray(rows[k])[first] for k in ("w", "h", "a", "boy"))
    # Injected errors (weight / 10, adult heights, grams) are the quality step's business.
    ok = (h > 90) & (h < 200) & (w > 12) & (w < 120)
    bmi = w[ok] / (h[ok] / 100) ** 2
    io = pacsv.read_csv(reference_path("iotf_bmi_cutoffs_cole2000.csv"))
    ages = io.column("age_years").to_numpy()

    def cut(col: str) -> np.ndarray:
        return np.where(boy[ok], np.interp(a[ok], ages, io.column(f"{col}_boys").to_numpy()),
                        np.interp(a[ok], ages, io.column(f"{col}_girls").to_numpy()))

    assert ok.sum() > 2000
    overweight = float(np.mean(bmi >= cut("overweight")))
    obese = float(np.mean(bmi >= cut("obese")))
    assert 0.13 <= overweight <= 0.20
    assert 0.025 <= obese <= 0.05


def test_child_weights_stay_within_who_plausibility(con):
    """The heavier subgroup must not push children's weight-for-age z beyond about ±3 (growth
    reference of the generator; the quality step's WHO limits are wider)."""
    from p4dp.synth._data import growth_reference
    from p4dp.synth.biometrics import _interp

    r = con.execute("""SELECT date_diff('day', pa.birth_date, b.date) / 365.25 a,
                              (pa.sex = 'M')::INT sex, b.value w
                       FROM biometric b JOIN patient pa USING (source_id, patient_id)
                       WHERE b.kind = 'weight' AND b.value > 0
                         AND date_diff('day', pa.birth_date, b.date) BETWEEN 0 AND 15.9 * 365.25
                       """).fetchnumpy()
    ref = growth_reference()
    a, sex, w = (np.asarray(r[k], dtype=float) for k in ("a", "sex", "w"))
    z_all = (np.log(w) - np.log(_interp(ref, sex, a, "w"))) / _interp(ref, sex, a, "w_lsd")
    a = a[np.abs(z_all) < 10]
    z = z_all[np.abs(z_all) < 10]  # injected unit errors (÷ 10, × 1000) are far out, and rare
    assert len(z) > 10_000
    assert np.mean(z > 3) < 0.02
    assert np.mean(np.abs(z) <= 3) > 0.97
    assert 0.05 < np.mean(z) < 0.4  # the heavier subgroup shifts the mean a little
    # The excess builds up from 2 to 6 years: infants stay on the reference (heavy infants gave
    # implausible weight-for-length pairs that the quality step quarantined as errors).
    infant = a < 2
    assert infant.sum() > 1000
    assert np.mean(z[infant] > 2.5) < 0.01


def test_no_clean_vaccination_before_birth_or_six_months_of_flu(tiny):
    """Only injected ``before_birth`` errors may date a vaccination before birth; flu doses of
    risk children start at 6 months (the quality step quarantines doses before birth)."""
    con = duckdb.connect()
    con.register("vac", tiny.tables["vaccination"])
    con.register("patient", tiny.tables["patient"])
    con.register("errors", tiny.ground_truth["errors"])
    bad = con.execute("""SELECT count(*) FROM vac v JOIN patient p USING (source_id, patient_id)
        WHERE v.date < p.birth_date AND NOT EXISTS (
            SELECT 1 FROM errors e WHERE e."table" = 'vaccination'
            AND e.source_id = v.source_id AND e.row_key = v.vaccination_id)""").fetchone()[0]
    assert bad == 0


def test_no_identical_clean_vaccinations(tiny):
    """One injection is one row: no two vaccinations of a patient share date and label, apart
    from the injected duplicate rows (same id)."""
    t = tiny.tables["vaccination"]
    con = duckdb.connect()
    con.register("vac", t)
    dup = con.execute("""SELECT count(*) FROM (SELECT source_id, patient_id, date, raw_label,
        count(DISTINCT vaccination_id) k FROM vac GROUP BY ALL) WHERE k > 1""").fetchone()[0]
    assert dup == 0
