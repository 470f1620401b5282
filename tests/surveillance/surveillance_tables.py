"""Tiny hand-made warehouses for the surveillance tests (a uniquely named module, not conftest,
so that `from surveillance_tables import …` never picks another folder's helpers)."""

from __future__ import annotations

import datetime as dt

import duckdb
import ibis
import pyarrow as pa

from p4dp.analytics.compile import Warehouse
from p4dp.cdm import ALL_TABLES, table

D = dt.date

PRACTICES = [
    {"practice_id": "p1", "region_code": "93", "departement_code": "06", "kind": "cabinet"},
    {"practice_id": "p2", "region_code": "28", "departement_code": "76", "kind": "msp",
     "source_id": "med"},
]


def central(name: str, rows: list[dict]) -> pa.Table:
    schema = table(name).arrow_schema("central")
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], type=f.type)
                     for f in schema})


def build(path, tables: dict[str, list[dict]], read_only: bool = True) -> Warehouse:
    con = duckdb.connect(str(path))
    for t in ALL_TABLES:
        con.execute(t.duckdb_ddl())
    for name, rows in tables.items():
        defaults = {"source_id": "arm", "batch_id": "b1"}
        if name == "patient":
            defaults["opposition"] = False
        arrow = central(name, [{**defaults, **r} for r in rows])  # noqa: F841 - read by DuckDB
        con.execute(f"INSERT INTO {name} SELECT * FROM arrow")
    con.close()
    return Warehouse(ibis.duckdb.connect(str(path), read_only=read_only))


def patient(pid: str, by: int = 1980, bm: int = 6, practice: str = "p1", **kw) -> dict:
    return {"patient_id": pid, "sex": "F", "birth_year": by, "birth_month": bm,
            "practice_id": practice, **kw}


_n = iter(range(10**6))


def encounter(pid: str, day: dt.date) -> dict:
    return {"encounter_id": f"e{next(_n)}", "patient_id": pid, "practitioner_id": "g1",
            "date": day, "kind": "cabinet"}


def problem(pid: str, day: dt.date, result: str | None = None, reason: str | None = None,
            result_text: str | None = None, reason_text: str | None = None) -> dict:
    n = next(_n)
    return {"problem_id": f"pb{n}", "encounter_id": f"e{n}", "patient_id": pid,
            "practitioner_id": "g1", "date": day, "result_code": result, "reason_code": reason,
            "result_text": result_text, "reason_text": reason_text,
            "result_code_origin": "auto" if result else "none",
            "reason_code_origin": "source" if reason else "none"}


def seasonal_tables(years: int = 7, seed: int = 1) -> dict[str, list[dict]]:
    """Two practices (regions 93 and 28) of 400 patients each, who all consult every 26 weeks,
    with influenza-like illness following a winter wave (peak ≈ 30 cases a week in 93, 8 in 28)
    and rare chickenpox: enough for thresholds, small cells in region 28."""
    import numpy as np

    rng = np.random.default_rng(seed)
    first = D(2017, 1, 2)
    n_weeks = 52 * years
    pats, enc, pbs = [], [], []
    for practice, size, scale in (("p1", 400, 30.0), ("p2", 400, 8.0)):
        ids = [f"{practice}_{i}" for i in range(size)]
        pats += [patient(pid, by=1950 + i % 60, practice=practice) for i, pid in enumerate(ids)]
        for i, pid in enumerate(ids):
            for w in range(i % 26, n_weeks, 26):
                enc.append(encounter(pid, first + dt.timedelta(weeks=w)))
        for w in range(n_weeks):
            day = first + dt.timedelta(weeks=w)
            wave = max(0.0, np.cos(2 * np.pi * (day.timetuple().tm_yday - 35) / 365.25)) ** 8
            for _ in range(rng.poisson(1 + scale * wave)):
                pbs.append(problem(ids[rng.integers(size)], day, result="R80"))
            if rng.random() < 0.05:
                pbs.append(problem(ids[rng.integers(size)], day, result="A72"))
    return {"practice": PRACTICES, "patient": pats, "encounter": enc, "problem": pbs,
            "load_batch": [{"batch_id": "b1", "source_id": "arm", "bundle_sha256": "x",
                            "status": "loaded",
                            "finished_at": dt.datetime(2024, 1, 1, 12, 0)}]}
