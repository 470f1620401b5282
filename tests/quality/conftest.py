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
