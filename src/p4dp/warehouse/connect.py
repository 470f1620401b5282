"""Open the DuckDB warehouse and create its schema."""

from __future__ import annotations

from pathlib import Path

import duckdb

from p4dp.cdm import ALL_TABLES
from p4dp.settings import Settings


def connect(settings: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = settings.warehouse
    if read_only and not path.exists():
        raise FileNotFoundError(
            f"no warehouse at {path}: run `p4dp init` (or `p4dp demo`) first"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute(f"SET threads = {settings.duckdb_threads}")
    con.execute(f"SET memory_limit = '{settings.duckdb_memory_limit}'")
    return con


def create_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create every CDM table that does not exist yet; return the names created."""
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()}
    created = []
    for t in ALL_TABLES:
        if t.name not in existing:
            con.execute(t.duckdb_ddl())
            created.append(t.name)
    return created


def init_warehouse(settings: Settings) -> tuple[Path, list[str]]:
    with connect(settings) as con:
        created = create_schema(con)
    return settings.warehouse, created
