"""Open the warehouse and create its schema; connect a query engine to it.

DuckDB reads the warehouse file itself; Spark reads the same tables exported as Parquet
(`p4dp.warehouse.parquet.export_parquet`), one folder per table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb

from p4dp.cdm import ALL_TABLES
from p4dp.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    import ibis

Engine = Literal["duckdb", "spark"]


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


def connect_engine(settings: Settings, engine: Engine = "duckdb",
                   parquet: Path | None = None) -> ibis.BaseBackend:
    """An Ibis backend over the warehouse, read-only: the DuckDB file, or a local Spark session
    over its Parquet export (`parquet`, written by `export_parquet`)."""
    if engine == "duckdb":
        import ibis

        if not settings.warehouse.exists():
            raise FileNotFoundError(
                f"no warehouse at {settings.warehouse}: run `p4dp init` (or `p4dp demo`) first")
        return ibis.duckdb.connect(str(settings.warehouse), read_only=True,
                                   threads=settings.duckdb_threads,
                                   memory_limit=settings.duckdb_memory_limit)
    if engine == "spark":
        if parquet is None:
            raise ValueError("the Spark engine reads a Parquet export of the warehouse: give its "
                             "folder (written by p4dp.warehouse.parquet.export_parquet)")
        from p4dp.warehouse.spark import connect_spark

        return connect_spark(parquet)
    raise ValueError(f"unknown engine {engine!r}: duckdb or spark")
