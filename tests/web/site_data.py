"""A small, deterministic warehouse for the web tests (built in a second, no pipeline run).

Two practices in two regions, three GPs (arm_g1 has an intern), 400 patients with encounters,
coded problems, children's biometrics, vaccinations, history and prescriptions — enough for every
tab to show figures, with small cells (home visits, teleconsultations) that a researcher must see
suppressed where the GP sees them exactly. A uniquely named module, shared by tests/browser.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pyarrow as pa

from p4dp.cdm import ALL_TABLES, table

TODAY = dt.date(2026, 11, 29)
GP1, GP2, GP3, INTERN = "arm_g1", "arm_g2", "med_g3", "arm_i1"
REGION1, REGION2 = "93", "28"
CODES = ["R74", "K86", "T90", "A62", "R05", "P76", "L03", "H71", "D73", "R80", "R81", "R76"]


def _central(name: str, rows: list[dict]) -> pa.Table:
    schema = table(name).arrow_schema("central")
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], type=f.type)
                     for f in schema})


def build_site_warehouse(path: Path) -> Path:
    rng = random.Random(11)
    t: dict[str, list[dict]] = {k: [] for k in ("practice", "practitioner", "patient",
                                                "encounter", "problem", "biometric",
                                                "vaccination", "history", "prescription",
                                                "lab_result")}
    t["practice"] = [
        {"practice_id": "p1", "region_code": REGION1, "departement_code": "06", "kind": "msp"},
        {"practice_id": "p2", "region_code": REGION2, "departement_code": "76",
         "kind": "cabinet"}]
    t["practitioner"] = [
        {"practitioner_id": GP1, "practice_id": "p1", "sex": "F", "birth_year": 1975,
         "role": "gp", "participation": "active"},
        {"practitioner_id": GP2, "practice_id": "p1", "sex": "M", "birth_year": 1968,
         "role": "gp", "participation": "active"},
        {"practitioner_id": GP3, "practice_id": "p2", "sex": "F", "birth_year": 1980,
         "role": "gp", "participation": "active"},
        {"practitioner_id": INTERN, "practice_id": "p1", "sex": "M", "birth_year": 1998,
         "role": "intern", "supervisor_id": GP1, "participation": "active"}]
    n = 0
    for gp, practice, count in ((GP1, "p1", 160), (GP2, "p1", 100), (GP3, "p2", 140)):
        for _ in range(count):
            n += 1
            pid = f"{gp[:3]}_pat{n:04d}"
            by = rng.choice([rng.randint(2008, 2019), rng.randint(1935, 2005)])
            sex = rng.choice("FM")
            t["patient"].append({"patient_id": pid, "practice_id": practice, "gp_id": gp,
                                 "sex": sex, "birth_year": by, "birth_month": rng.randint(1, 12),
                                 "opposition": False})
            for k in range(rng.randint(3, 12)):
                date = TODAY - dt.timedelta(days=rng.randint(1, 6 * 365))
                eid = f"{pid}_e{k}"
                kind = rng.choices(["cabinet", "visite", "teleconsultation"], [90, 7, 3])[0]
                doctor = INTERN if gp == GP1 and rng.random() < 0.1 else gp
                t["encounter"].append({"encounter_id": eid, "patient_id": pid,
                                       "practitioner_id": doctor, "date": date, "kind": kind})
                code = rng.choice(CODES)
                t["problem"].append({
                    "problem_id": eid + "_p", "encounter_id": eid, "patient_id": pid,
                    "practitioner_id": doctor, "date": date, "rank": 1,
                    "reason_code": code, "reason_code_origin": "source", "result_code": code,
                    "result_code_origin": "source", "procedure_code_origin": "none"})
                age = date.year - by
                if 6 <= age <= 15 and k < 2:
                    height = 110 + (age - 6) * 6 + rng.uniform(-5, 5)
                    bmi = rng.uniform(14, 27)
                    for kind_, value, unit in (("height", round(height, 1), "cm"),
                                               ("weight", round(bmi * (height / 100) ** 2, 1),
                                                "kg")):
                        t["biometric"].append({"biometric_id": f"{eid}_{kind_}",
                                               "patient_id": pid, "encounter_id": eid,
                                               "date": date, "kind": kind_, "value": value,
                                               "unit": unit})
                if k == 0 and rng.random() < 0.5:
                    t["prescription"].append({
                        "prescription_id": eid + "_rx", "patient_id": pid, "encounter_id": eid,
                        "practitioner_id": doctor, "date": date, "drug_label": "paracétamol",
                        "atc": "N02BE01", "chronic": False})
            if by < 2000 and rng.random() < 0.6:
                t["vaccination"].append({"vaccination_id": f"{pid}_v", "patient_id": pid,
                                         "date": TODAY - dt.timedelta(days=rng.randint(30, 4000)),
                                         "raw_label": rng.choice(["DTCP", "REVAXIS", "dTP"]),
                                         "product": "REVAXIS", "valences": ["d", "T", "P"]})
            if rng.random() < 0.7:
                t["history"].append({"history_id": f"{pid}_h", "patient_id": pid,
                                     "date": TODAY - dt.timedelta(days=rng.randint(30, 900)),
                                     "kind": "tobacco",
                                     "label": rng.choice(["fumeur", "non fumeur"]),
                                     "status": rng.choice(["yes", "no"])})
    con = duckdb.connect(str(path))
    for tab in ALL_TABLES:
        con.execute(tab.duckdb_ddl())
    for name, rows in t.items():
        arrow = _central(name, [{"source_id": r.get("source_id", "arm"), "batch_id": "b1",
                                 **r} for r in rows])  # noqa: F841 - read by DuckDB
        con.execute(f"INSERT INTO {name} SELECT * FROM arrow")
    con.close()
    return path
