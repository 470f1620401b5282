"""Pre-aggregated tables (marts) that dashboards read, refreshed after each load.

Each mart is partitioned by `source_id`: a load of one practice recomputes that practice's rows
only (incremental where it pays: the rest of the network is untouched).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    select: str  # SELECT over the CDM tables, with a `{where}` placeholder on source_id


MARTS: tuple[Mart, ...] = (
    Mart(
        "mart_patient_summary",
        "One row per patient: demographics, practice, region and encounter span.",
        """
        SELECT p.source_id, p.patient_id, p.practice_id, pr.region_code, p.gp_id, p.sex,
               p.birth_year, p.birth_month,
               count(e.encounter_id) AS n_encounters,
               min(e.date) AS first_encounter, max(e.date) AS last_encounter
        FROM patient p
        LEFT JOIN practice pr USING (practice_id)
        LEFT JOIN encounter e ON e.patient_id = p.patient_id
        WHERE p.source_id {where}
        GROUP BY ALL
        """,
    ),
    Mart(
        "mart_activity_month",
        "Encounters and distinct patients per practitioner, month and kind of contact.",
        """
        SELECT source_id, practitioner_id, date_trunc('month', date)::DATE AS month, kind,
               count(*) AS n_encounters, count(DISTINCT patient_id) AS n_patients
        FROM encounter
        WHERE source_id {where}
        GROUP BY ALL
        """,
    ),
    Mart(
        "mart_result_code_year",
        "Problems per practitioner, year and result (diagnosis) code; `_` when none was assigned.",
        """
        SELECT source_id, practitioner_id, year(date) AS year,
               coalesce(result_code, '_') AS result_code, count(*) AS n
        FROM problem
        WHERE source_id {where}
        GROUP BY ALL
        """,
    ),
)


def _cdm_table(name: str):
    """An unbound Ibis table with the warehouse's (central) schema of a CDM table."""
    import ibis

    from p4dp.analytics.marts import PATIENT_KEY_SCHEMA, PATIENT_KEY_TABLE
    from p4dp.cdm import table

    if name == PATIENT_KEY_TABLE:
        return ibis.table(PATIENT_KEY_SCHEMA, name=name)
    return ibis.table(ibis.Schema.from_pyarrow(table(name).arrow_schema("central")), name=name)


def analytics_mart_sql() -> list[tuple[str, str, dict]]:
    """(name, SELECT with a `{where}` placeholder on source_id, in-memory reference tables) of
    the analytics marts (`p4dp.analytics.marts`), compiled from their Ibis definitions so that
    the stored mart and the on-the-fly fallback can never differ."""
    import ibis
    import ibis.expr.operations as ops

    from p4dp.analytics.marts import MARTS as ANALYTICS_MARTS

    out = []
    for name, mart in ANALYTICS_MARTS.items():
        expr = mart.build(_cdm_table)
        memtables = {node.name: node.data.to_pyarrow(node.schema)
                     for node in expr.op().find(ops.InMemoryTable)}
        sql = str(ibis.to_sql(expr, dialect="duckdb"))
        order = f" ORDER BY {', '.join(mart.order_by)}" if mart.order_by else ""
        out.append((name, f"SELECT * FROM ({sql}) AS m WHERE m.source_id {{where}}{order}",
                    memtables))
    return out


#: Dense integer key of each patient (`patient_key`): the analytics count distinct patients as a
#: bitmap over these keys (`p4dp.analytics.portable.count_distinct_keys`), five times faster on
#: DuckDB than hashing the pseudonyms. A key is given once, to a pseudonym first seen, and never
#: reused or renumbered (the marts of other sources keep theirs); a deleted patient's key goes.
PATIENT_KEY_DDL = ("CREATE TABLE IF NOT EXISTS patient_key "
                   "(patient_id VARCHAR NOT NULL, patient_key INTEGER NOT NULL)")


def refresh_patient_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Give a key to every new patient and drop the keys of patients no longer stored."""
    con.execute(PATIENT_KEY_DDL)
    con.execute("DELETE FROM patient_key WHERE patient_id NOT IN (SELECT patient_id FROM patient)")
    con.execute("""
        INSERT INTO patient_key
        SELECT p.patient_id,
               (SELECT coalesce(max(patient_key), 0) FROM patient_key)
               + row_number() OVER (ORDER BY p.patient_id)
        FROM patient p ANTI JOIN patient_key k USING (patient_id)""")


def refresh_marts(con: duckdb.DuckDBPyConnection, source_ids: Iterable[str] | None = None) -> None:
    """Recompute the marts for the given sources (all sources when None).

    Runs inside the caller's transaction when there is one, so a batch and its marts commit
    together. The analytics marts follow the same per-source rule; their source_id filter sits
    outside the compiled query and DuckDB pushes it down into the scans.
    """
    ids = None if source_ids is None else sorted(set(source_ids))
    refresh_patient_keys(con)
    _refresh(con, [(m.name, m.select) for m in MARTS], ids)
    compiled = analytics_mart_sql()
    for _, _, memtables in compiled:
        for mem_name, data in memtables.items():  # reference tables (IOTF) the SQL reads
            con.register(mem_name, data)
    try:
        _refresh(con, [(name, select) for name, select, _ in compiled], ids)
    finally:
        for _, _, memtables in compiled:
            for mem_name in memtables:
                con.unregister(mem_name)


def _refresh(con: duckdb.DuckDBPyConnection, marts: list[tuple[str, str]],
             ids: list[str] | None) -> None:
    for name, select in marts:
        stored = [] if ids is None else _stored_columns(con, name)
        # a mart missing, or stored by an earlier version (other columns), is built for every
        # source: an INSERT by position would fail, or put values in the wrong columns
        if not stored or stored != _columns(con, select):
            con.execute(f"CREATE OR REPLACE TABLE {name} AS "
                        + select.format(where="IS NOT NULL"))
            continue
        placeholders = ", ".join("?" for _ in ids)
        con.execute(f"DELETE FROM {name} WHERE source_id IN ({placeholders})", ids)
        con.execute(f"INSERT INTO {name} " + select.format(where=f"IN ({placeholders})"), ids)


def _stored_columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """The columns of a stored table, in order ([] when there is none)."""
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [name]).fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, select: str) -> list[str]:
    """The columns a mart's SELECT gives (planned, not run)."""
    return [d[0] for d in con.execute(
        f"SELECT * FROM ({select.format(where='IS NULL')}) LIMIT 0").description]
