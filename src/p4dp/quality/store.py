"""Quality reports in the warehouse (`quality_report`) and their trends across loads.

The table is created here when missing (it is not a clinical table of the CDM): one row per batch,
the report as JSON text. `save_report` runs inside the caller's transaction, so a batch's report
is committed with the batch or not at all.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb

TABLE = "quality_report"
DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    batch_id VARCHAR PRIMARY KEY,
    source_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    report VARCHAR NOT NULL
);"""


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def save_report(con: duckdb.DuckDBPyConnection, report: dict) -> None:
    """Store (or replace, for a re-run of the same batch) the report of one batch."""
    for key in ("batch_id", "source_id", "created_at"):
        if not report.get(key):
            raise ValueError(f"rapport qualité sans « {key} » : passez le rapport produit par "
                             "p4dp.quality.check_batch, sans le modifier")
    ensure_table(con)
    con.execute(
        f"INSERT OR REPLACE INTO {TABLE} (batch_id, source_id, created_at, report) "
        "VALUES (?, ?, ?, ?)",
        [report["batch_id"], report["source_id"],
         dt.datetime.fromisoformat(report["created_at"]),
         json.dumps(report, ensure_ascii=False)],
    )


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [TABLE]
    ).fetchone()[0])


def load_reports(con: duckdb.DuckDBPyConnection, source_id: str | None = None,
                 batch_id: str | None = None) -> list[dict]:
    """Stored reports, oldest first (optionally of one source or one batch)."""
    if not _exists(con):
        return []
    where, params = [], []
    if source_id is not None:
        where.append("source_id = ?")
        params.append(source_id)
    if batch_id is not None:
        where.append("batch_id = ?")
        params.append(batch_id)
    sql = f"SELECT report FROM {TABLE}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at, batch_id"
    return [json.loads(r[0]) for r in con.execute(sql, params).fetchall()]


def trends_from_reports(reports: list[dict]) -> dict[str, list[dict]]:
    """Per check id, its violation % over the given reports (in their order)."""
    out: dict[str, list[dict]] = {}
    for r in reports:
        for check_id, s in r.get("checks", {}).items():
            out.setdefault(check_id, []).append({
                "batch_id": r["batch_id"], "created_at": r["created_at"], "pct": s["pct"],
                "violations": s["violations"], "rows_checked": s["rows_checked"],
                "passed": s["passed"],
            })
    return out


def trends(con: duckdb.DuckDBPyConnection, source_id: str) -> dict[str, list[dict]]:
    """Per check id, the violation % of each successive batch of `source_id`."""
    return trends_from_reports(load_reports(con, source_id=source_id))


def purge_examples(con: duckdb.DuckDBPyConnection, pseudonyms: list[str]) -> int:
    """Remove from the stored reports every example that names one of `pseudonyms` (as patient,
    row key or shown value); return how many examples went.

    Reports keep up to five example rows per check with their patient pseudonym: a patient's
    objection or a GP's withdrawal must remove those too (issue 3: purge every row that came
    from them). Call it inside the withdrawal's transaction with the withdrawn pseudonym and, for
    a GP, the pseudonyms of the patients whose rows were purged.
    """
    gone = {p for p in pseudonyms if p}
    if not gone or not _exists(con):
        return 0
    removed = 0
    for batch_id, text in con.execute(f"SELECT batch_id, report FROM {TABLE}").fetchall():
        if not any(p in text for p in gone):
            continue
        report = json.loads(text)
        for s in report.get("checks", {}).values():
            examples = s.get("examples", [])
            kept = [e for e in examples if not ({e.get("patient_id"), e.get("row_key"),
                                                 e.get("value")} & gone)]
            removed += len(examples) - len(kept)
            s["examples"] = kept
        con.execute(f"UPDATE {TABLE} SET report = ? WHERE batch_id = ?",
                    [json.dumps(report, ensure_ascii=False), batch_id])
    return removed


def purge_patient(con: duckdb.DuckDBPyConnection, pseudonym: str) -> int:
    """`purge_examples` for one patient."""
    return purge_examples(con, [pseudonym])
