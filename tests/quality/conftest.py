"""Builders of small hand-made central tables for the quality tests."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from p4dp.cdm import table as cdm_table

AS_OF = dt.date(2026, 11, 1)
SRC = "arm"


def _table(name: str, rows: list[dict]) -> pa.Table:
    schema = cdm_table(name).arrow_schema("central")
    schema = pa.schema([f for f in schema if f.name != "batch_id"])
    data = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.Table.from_pydict(data, schema=schema)


def patient(pid: str, sex: str = "M", birth_year: int = 1980, birth_month: int | None = 6,
            death_date: dt.date | None = None, **kw) -> dict:
    return {"source_id": SRC, "patient_id": f"{SRC}_{pid}", "practice_id": "p1", "sex": sex,
            "birth_year": birth_year, "birth_month": birth_month, "death_date": death_date,
            "opposition": False, **kw}


def bio(bid: str, pid: str, date: dt.date, kind: str, value: float | None = None,
        raw: str | None = None, **kw) -> dict:
    return {"source_id": SRC, "biometric_id": f"{SRC}_b{bid}", "patient_id": f"{SRC}_{pid}",
            "date": date, "kind": kind, "value": value, "raw_value": raw, **kw}


def lab(lid: str, pid: str, date: dt.date, label: str, value: float | None = None,
        unit: str | None = None, raw: str | None = None, **kw) -> dict:
    return {"source_id": SRC, "lab_result_id": f"{SRC}_l{lid}", "patient_id": f"{SRC}_{pid}",
            "date": date, "raw_label": label, "value": value, "unit": unit, "raw_value": raw,
            **kw}


def encounter(eid: str, pid: str, date: dt.date, **kw) -> dict:
    return {"source_id": SRC, "encounter_id": f"{SRC}_e{eid}", "patient_id": f"{SRC}_{pid}",
            "practitioner_id": f"{SRC}_gp1", "date": date, "kind": "cabinet", **kw}


def build(**tables: list[dict]) -> dict[str, pa.Table]:
    return {name: _table(name, rows) for name, rows in tables.items()}


def run(**tables: list[dict]):
    from p4dp.quality import check_batch

    return check_batch(build(**tables), as_of=AS_OF, batch_id="b1", source_id=SRC)


class Builders:
    patient = staticmethod(patient)
    bio = staticmethod(bio)
    lab = staticmethod(lab)
    encounter = staticmethod(encounter)
    build = staticmethod(build)
    run = staticmethod(run)
    AS_OF = AS_OF
    SRC = SRC


@pytest.fixture
def qb() -> type[Builders]:
    return Builders


def valid_row(name: str, pid: str = "p1") -> dict:
    """One row of `name` that passes every check (patient `pid` born 1980-06)."""
    d = dt.date(2024, 3, 1)
    p = f"{SRC}_{pid}"
    rows = {
        "practice": {"source_id": SRC, "practice_id": "pr1", "region_code": "93",
                     "departement_code": "06", "kind": "cabinet", "vendor_format": "csv-fr"},
        "practitioner": {"source_id": SRC, "practitioner_id": f"{SRC}_gp1", "practice_id": "pr1",
                         "sex": "F", "birth_year": 1975, "role": "gp", "participation": "active"},
        "patient": patient(pid),
        "encounter": encounter("1", pid, d),
        "problem": {"source_id": SRC, "problem_id": f"{SRC}_pb1", "encounter_id": f"{SRC}_e1",
                    "patient_id": p, "practitioner_id": f"{SRC}_gp1", "date": d, "rank": 1,
                    "reason_text": "toux", "reason_code": "R05", "reason_code_origin": "source"},
        "biometric": bio("1", pid, d, "weight", 70.0),
        "lab_result": lab("1", pid, d, "INR", 2.4),
        "antecedent": {"source_id": SRC, "antecedent_id": f"{SRC}_a1", "patient_id": p,
                       "kind": "medical", "date": d, "text": "HTA", "code_origin": "none"},
        "history": {"source_id": SRC, "history_id": f"{SRC}_h1", "patient_id": p, "date": d,
                    "kind": "tobacco", "label": "tabac", "status": "yes"},
        "vaccination": {"source_id": SRC, "vaccination_id": f"{SRC}_v1", "patient_id": p,
                        "date": d, "raw_label": "REVAXIS"},
        "prescription": {"source_id": SRC, "prescription_id": f"{SRC}_rx1", "patient_id": p,
                         "practitioner_id": f"{SRC}_gp1", "date": d, "drug_label": "DOLIPRANE"},
    }
    return dict(rows[name])


Builders.valid_row = staticmethod(valid_row)
Builders.table = staticmethod(_table)
