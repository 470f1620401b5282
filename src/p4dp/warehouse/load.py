"""Load one pseudonymised bundle into the warehouse: atomically and idempotently.

A batch loads entirely or not at all: every write happens inside one DuckDB transaction, so a
crash (even a killed process) leaves the warehouse as it was before the batch. Re-sending the same
bundle adds nothing (its manifest hash is the idempotence key); a later export of the same
practice replaces rows by primary key (ids are deterministic pseudonyms) and adds new ones.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import CLINICAL_TABLES, table
from p4dp.cdm.model import Table
from p4dp.privacy.withdrawal import blocked_filter, record_objections
from p4dp.settings import Settings
from p4dp.warehouse.connect import connect, create_schema
from p4dp.warehouse.marts import refresh_marts

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    source_id: str
    status: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_repaired: int = 0
    rows_quarantined: int = 0
    rows_blocked: int = 0
    duration_s: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    rows_per_table: dict[str, int] = field(default_factory=dict)


class BundleError(Exception):
    """A bundle cannot be loaded; the message says which file and what to do."""


def manifest_sha256(bundle: Path) -> str:
    path = bundle / "manifest.json"
    if not path.is_file():
        raise BundleError(f"{bundle}: no manifest.json — this folder is not a P4DP bundle")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_bundle(
    bundle: Path,
    settings: Settings,
    *,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Verify, code, check and load one bundle. Returns what happened."""
    from p4dp.agent import read_bundle
    from p4dp.coding import code_batch
    from p4dp.quality import check_batch, save_report

    note = progress or (lambda _msg: None)
    started = time.perf_counter()
    started_at = datetime.now()
    stages: dict[str, float] = {}
    as_of = as_of or date.today()
    sha = manifest_sha256(bundle)

    with connect(settings) as con:
        create_schema(con)
        done = con.execute(
            "SELECT batch_id FROM load_batch WHERE bundle_sha256 = ? AND status = 'loaded'", [sha]
        ).fetchone()
        if done:
            return BatchResult(batch_id=done[0], source_id="", status="duplicate")

        t = time.perf_counter()
        note("vérification du lot")
        manifest, tables = read_bundle(bundle)
        source_id = manifest["source_id"]
        batch_id = f"{source_id}-{started_at:%Y%m%dT%H%M%S}-{sha[:8]}"
        reader_quarantine = tables.pop("quarantine", None)
        rows_in = sum(t.num_rows for t in tables.values())
        stages["read"] = time.perf_counter() - t

        t = time.perf_counter()
        # Objections the agent reports are carried out first (earlier loads purged); then rows of
        # patients who objected and of GPs who withdrew are dropped before anything else.
        record_objections(con, tables, requested_by=f"agent:{source_id}")
        tables, blocked = blocked_filter(con, tables)
        stages["opposition"] = time.perf_counter() - t

        t = time.perf_counter()
        note("codage automatique")
        tables = code_batch(tables)
        stages["coding"] = time.perf_counter() - t

        t = time.perf_counter()
        note("contrôles qualité")
        outcome = check_batch(tables, as_of=as_of, batch_id=batch_id, source_id=source_id)
        stages["quality"] = time.perf_counter() - t

        quarantine = _concat_quarantine(
            [q for q in (reader_quarantine, outcome.quarantine) if q is not None], source_id
        )
        t = time.perf_counter()
        note("chargement")
        con.execute("BEGIN TRANSACTION")
        try:
            rows_per_table = {}
            for tbl in CLINICAL_TABLES:
                incoming = outcome.tables.get(tbl.name)
                if incoming is None or incoming.num_rows == 0:
                    continue
                rows_per_table[tbl.name] = upsert(con, tbl, incoming, batch_id)
            upsert(con, table("quarantine"), quarantine, batch_id)
            stages["load"] = time.perf_counter() - t
            t = time.perf_counter()
            note("rafraîchissement des marts")
            refresh_marts(con, [source_id])
            stages["marts"] = time.perf_counter() - t
            save_report(con, outcome.report)
            result = BatchResult(
                batch_id=batch_id,
                source_id=source_id,
                status="loaded",
                rows_in=rows_in,
                rows_loaded=sum(rows_per_table.values()),
                rows_repaired=outcome.repaired_count,
                rows_quarantined=quarantine.num_rows,
                rows_blocked=blocked,
                duration_s=time.perf_counter() - started,
                stage_seconds=stages,
                rows_per_table=rows_per_table,
            )
            _record_batch(con, result, sha, manifest, started_at)
            t = time.perf_counter()
            con.execute("COMMIT")
            stages["commit"] = time.perf_counter() - t  # the result shares this dict
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return result


def upsert(con: duckdb.DuckDBPyConnection, tbl: Table, incoming: pa.Table, batch_id: str) -> int:
    """Replace rows with the same primary key and insert the new ones; return rows written."""
    cols = [c.name for c in tbl.central_columns()]
    if "batch_id" in cols:
        incoming = _with_column(incoming, "batch_id", pa.array([batch_id] * incoming.num_rows,
                                                               pa.string()))
    missing = [c for c in cols if c not in incoming.column_names]
    for name in missing:
        incoming = _with_column(incoming, name, pa.nulls(incoming.num_rows,
                                                         tbl.column(name).type.arrow))
    incoming = incoming.select(cols)
    (pk,) = tbl.primary_key
    con.register("_incoming", incoming)
    try:
        # Within one batch the last row of a key wins (quality has already quarantined exact
        # duplicates; this keeps the primary key valid whatever the input).
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _dedup AS SELECT * FROM _incoming "
            f"QUALIFY row_number() OVER (PARTITION BY {pk}) = 1"
        )
        con.execute(f"DELETE FROM {tbl.name} WHERE {pk} IN (SELECT {pk} FROM _dedup)")
        con.execute(f"INSERT INTO {tbl.name} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _dedup")
        n = con.execute("SELECT count(*) FROM _dedup").fetchone()[0]
        con.execute("DROP TABLE _dedup")
    finally:
        con.unregister("_incoming")
    return n


def _with_column(t: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in t.column_names:
        return t.set_column(t.column_names.index(name), name, values)
    return t.append_column(name, values)


def _concat_quarantine(parts: list[pa.Table], source_id: str) -> pa.Table:
    schema = table("quarantine").arrow_schema("central")
    aligned = []
    for q in parts:
        if q.num_rows == 0:
            continue
        cols = {}
        for f in schema:
            if f.name in q.column_names:
                cols[f.name] = q.column(f.name).cast(f.type)
            else:
                cols[f.name] = pa.nulls(q.num_rows, f.type)
        aligned.append(pa.table(cols, schema=schema))
    if not aligned:
        return schema.empty_table()
    out = pa.concat_tables(aligned)
    out = out.set_column(0, "source_id", pc.fill_null(out.column("source_id"), source_id))
    # Deterministic ids: the same rejected row of the same check is stored once across re-sends.
    ids = duckdb.sql(
        "SELECT md5(concat_ws('|', source_id, table_name, coalesce(row_key, ''), check_id, "
        "coalesce(location, ''))) AS id FROM out"
    ).to_arrow_table().column("id")
    return out.set_column(out.column_names.index("quarantine_id"), "quarantine_id", ids)


def _record_batch(
    con: duckdb.DuckDBPyConnection, r: BatchResult, sha: str, manifest: dict, started_at: datetime
) -> None:
    con.execute(
        "INSERT INTO load_batch (batch_id, source_id, bundle_sha256, manifest, status, started_at, "
        "finished_at, rows_in, rows_loaded, rows_repaired, rows_quarantined, duration_s) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [r.batch_id, r.source_id, sha, json.dumps(manifest, ensure_ascii=False, default=str),
         r.status, started_at, datetime.now(), r.rows_in, r.rows_loaded, r.rows_repaired,
         r.rows_quarantined, r.duration_s],
    )
