"""Patients' right to object and GPs' right to withdraw (DOMAIN.md §4).

A withdrawal purges every row that came from the person — every clinical table, the quarantine,
the marts — in one transaction, records who asked, when and how many rows went, and blocks future
loads of their data.

What "came from" means:

* a **patient**: every row whose `patient_id` is theirs, and quarantined rows that mention them;
* a **practitioner** (GP or intern): their own row, every encounter, problem and prescription they
  recorded or supervised, the rows attached to those encounters (biometrics), and the records of
  the patients who declared them as treating GP (`gp_id`): those records were exported under
  that GP's authority. Patients of the same practice followed by another GP stay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import CLINICAL_TABLES, TABLES

KINDS = ("patient", "practitioner")


@dataclass(frozen=True)
class WithdrawalResult:
    pseudonym: str
    kind: str
    requested_by: str
    rows_deleted: int
    detail: dict[str, int]


class WithdrawalError(ValueError):
    pass


def _patients_of(con: duckdb.DuckDBPyConnection, practitioner: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT patient_id FROM patient WHERE gp_id = ?", [practitioner]).fetchall()]


def _delete_where(con: duckdb.DuckDBPyConnection, table: str, where: str, params: list) -> int:
    n = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]
    if n:
        con.execute(f"DELETE FROM {table} WHERE {where}", params)
    return n


def _purge(
    con: duckdb.DuckDBPyConnection, patients: list[str], practitioner: str | None = None
) -> dict[str, int]:
    """Delete every row of `patients` and, for a practitioner, what they recorded or supervised.
    Returns rows deleted per table. Runs in the caller's transaction."""
    detail: dict[str, int] = {}
    gone = pa.table({"patient_id": pa.array(patients, pa.string())})
    con.register("_gone_arrow", gone)
    con.execute("CREATE OR REPLACE TEMP TABLE _gone_patients AS SELECT * FROM _gone_arrow")
    con.unregister("_gone_arrow")
    if practitioner:
        # Encounters they saw or supervised, before the encounter rows themselves go.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _gone_encounters AS SELECT encounter_id FROM encounter "
            "WHERE practitioner_id = ? OR supervisor_id = ?", [practitioner, practitioner])
    for t in reversed(CLINICAL_TABLES):
        conditions, params = [], []
        if t.patient_column:
            conditions.append(f"{t.patient_column} IN (SELECT patient_id FROM _gone_patients)")
        if practitioner:
            for col in t.practitioner_columns:
                conditions.append(f"{col} = ?")
                params.append(practitioner)
            if "encounter_id" in t.column_names and t.name != "encounter":
                conditions.append("encounter_id IN (SELECT encounter_id FROM _gone_encounters)")
        if not conditions:
            continue
        n = _delete_where(con, t.name, " OR ".join(conditions), params)
        if n:
            detail[t.name] = n
    named = [p for p in (practitioner, *patients) if p]
    named_arrow = pa.table({"pseudonym": pa.array(named, pa.string())})
    con.register("_named", named_arrow)
    n = _delete_where(
        con, "quarantine",
        "patient_id IN (SELECT patient_id FROM _gone_patients) OR "
        "EXISTS (SELECT 1 FROM _named WHERE contains(quarantine.record, _named.pseudonym))",
        [],
    )
    con.unregister("_named")
    if n:
        detail["quarantine"] = n
    from p4dp.quality import purge_examples

    n = purge_examples(con, named)
    if n:
        detail["quality_report_examples"] = n
    con.execute("DROP TABLE IF EXISTS _gone_patients")
    con.execute("DROP TABLE IF EXISTS _gone_encounters")
    return detail


def withdraw(
    con: duckdb.DuckDBPyConnection, kind: str, pseudonym: str, requested_by: str
) -> WithdrawalResult:
    """Purge everything from `pseudonym` and block it; atomic."""
    from p4dp.warehouse.marts import refresh_marts

    if kind not in KINDS:
        raise WithdrawalError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if not pseudonym or "_" not in pseudonym:
        raise WithdrawalError(
            f"{pseudonym!r} is not a P4DP pseudonym (expected `<source>_<hash>`, e.g. arm_3f2a…)")
    known = con.execute("SELECT count(*) FROM withdrawal WHERE pseudonym = ?",
                        [pseudonym]).fetchone()[0]
    con.execute("BEGIN TRANSACTION")
    try:
        sources = [r[0] for r in con.execute(
            "SELECT DISTINCT source_id FROM patient WHERE patient_id = ? OR gp_id = ? "
            "UNION SELECT DISTINCT source_id FROM practitioner WHERE practitioner_id = ?",
            [pseudonym, pseudonym, pseudonym]).fetchall()]
        detail = (_purge(con, [pseudonym]) if kind == "patient"
                  else _purge(con, _patients_of(con, pseudonym), pseudonym))
        total = sum(detail.values())
        if known:
            con.execute(
                "UPDATE withdrawal SET rows_deleted = rows_deleted + ?, requested_at = ? "
                "WHERE pseudonym = ?", [total, datetime.now(), pseudonym])
        else:
            con.execute(
                "INSERT INTO withdrawal VALUES (?, ?, ?, ?, ?, ?)",
                [pseudonym, kind, requested_by, datetime.now(), total, json.dumps(detail)])
        if sources:
            refresh_marts(con, sources)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return WithdrawalResult(pseudonym, kind, requested_by, total, detail)


def record_objections(
    con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], requested_by: str
) -> int:
    """Carry out the objections an agent reports: incoming patient rows flagged `opposition`.

    The agent sends only the pseudonym and the flag of a patient who objected (no other row of
    theirs leaves the practice); here every row already loaded from them is purged and they are
    recorded as withdrawn, which blocks their data in this and later loads. Returns how many new
    objections were carried out.
    """
    from p4dp.warehouse.marts import refresh_marts

    patients = tables.get("patient")
    if patients is None or patients.num_rows == 0:
        return 0
    flagged = patients.filter(pc.fill_null(patients.column("opposition"), False))
    known = {r[0] for r in con.execute("SELECT pseudonym FROM withdrawal").fetchall()}
    new = sorted(set(flagged.column("patient_id").to_pylist()) - known)
    if not new:
        return 0
    con.execute("BEGIN TRANSACTION")
    try:
        detail = _purge(con, new)
        now = datetime.now()
        con.executemany(
            "INSERT INTO withdrawal VALUES (?, 'patient', ?, ?, NULL, ?)",
            [[p, requested_by, now, json.dumps({"batch_objection": len(new), **detail})]
             for p in new])
        if any(t.name in detail for t in CLINICAL_TABLES):  # the marts hold only stored rows:
            # patients objecting before their first load (the usual case) leave them as they are
            refresh_marts(con, sorted(set(flagged.column("source_id").to_pylist())))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(new)


def blocked_filter(
    con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]
) -> tuple[dict[str, pa.Table], int]:
    """Drop incoming rows of withdrawn patients and practitioners; return (tables, rows dropped)."""
    rows = con.execute("SELECT pseudonym, kind FROM withdrawal").fetchall()
    if not rows:
        return tables, 0
    practitioners = pa.array([p for p, k in rows if k == "practitioner"], pa.string())
    patients = [p for p, k in rows if k == "patient"]
    incoming_patients = tables.get("patient")
    if incoming_patients is not None and len(practitioners):
        of_gp = pc.is_in(incoming_patients.column("gp_id"), value_set=practitioners)
        patients += incoming_patients.filter(pc.fill_null(of_gp, False)).column(
            "patient_id").to_pylist()
    patients_arr = pa.array(patients, pa.string())
    gone_encounters = pa.array([], pa.string())
    enc = tables.get("encounter")
    if enc is not None and len(practitioners):
        by_gp = pc.or_(
            pc.fill_null(pc.is_in(enc.column("practitioner_id"), value_set=practitioners), False),
            pc.fill_null(pc.is_in(enc.column("supervisor_id"), value_set=practitioners), False),
        )
        gone_encounters = enc.filter(by_gp).column("encounter_id").combine_chunks()
    out, dropped = {}, 0
    for name, t in tables.items():
        spec = TABLES.get(name)
        mask = pa.array(np.zeros(t.num_rows, dtype=bool))
        if spec is not None:
            if spec.patient_column and spec.patient_column in t.column_names:
                mask = pc.or_(mask, pc.fill_null(
                    pc.is_in(t.column(spec.patient_column), value_set=patients_arr), False))
            for col in spec.practitioner_columns:
                if col in t.column_names:
                    mask = pc.or_(mask, pc.fill_null(
                        pc.is_in(t.column(col), value_set=practitioners), False))
            if "encounter_id" in t.column_names and name != "encounter" and len(gone_encounters):
                mask = pc.or_(mask, pc.fill_null(
                    pc.is_in(t.column("encounter_id"), value_set=gone_encounters), False))
        keep = pc.invert(mask)
        out[name] = t.filter(keep)
        dropped += t.num_rows - out[name].num_rows
    return out, dropped
