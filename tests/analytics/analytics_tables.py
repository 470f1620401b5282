"""Tiny hand-made warehouses for the analytics spec tests: a few rows per table, the rest null.

A uniquely named module (not conftest) so that `from analytics_tables import …` can never pick
another folder's conftest."""

from __future__ import annotations

import datetime as dt

import duckdb
import ibis
import pyarrow as pa

from p4dp.analytics.compile import Warehouse
from p4dp.cdm import ALL_TABLES, table

D = dt.date


def central(name: str, rows: list[dict]) -> pa.Table:
    schema = table(name).arrow_schema("central")
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in schema})


def build_warehouse(path, tables: dict[str, list[dict]]) -> Warehouse:
    con = duckdb.connect(str(path))
    for t in ALL_TABLES:
        con.execute(t.duckdb_ddl())
    for name, rows in tables.items():
        defaults = {"source_id": "arm", "batch_id": "b1"}
        if name == "patient":
            defaults["opposition"] = False
        arrow = central(name, [{**defaults, **r} for r in rows])  # noqa: F841 - used by DuckDB
        con.execute(f"INSERT INTO {name} SELECT * FROM arrow")
    con.close()
    return Warehouse(ibis.duckdb.connect(str(path), read_only=True))


#: Two practices in two regions, three GPs.
PRACTICES = [
    {"practice_id": "p1", "region_code": "93", "departement_code": "06", "kind": "cabinet"},
    {"practice_id": "p2", "region_code": "28", "departement_code": "76", "kind": "msp"},
]
PRACTITIONERS = [
    {"practitioner_id": "arm_g1", "practice_id": "p1", "sex": "F", "role": "gp",
     "participation": "active"},
    {"practitioner_id": "arm_g2", "practice_id": "p1", "sex": "M", "role": "gp",
     "participation": "active"},
    {"practitioner_id": "med_g3", "practice_id": "p2", "sex": "F", "role": "gp",
     "participation": "active", "source_id": "med"},
]


def patient(pid: str, sex: str, by: int, bm: int | None, practice: str = "p1",
            gp: str | None = "arm_g1", opposition: bool = False) -> dict:
    return {"patient_id": pid, "sex": sex, "birth_year": by, "birth_month": bm,
            "practice_id": practice, "gp_id": gp, "opposition": opposition}
