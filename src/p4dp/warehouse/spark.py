"""The distributed engine: a Spark session reading the warehouse exported as Parquet.

`p4dp.warehouse.parquet.export_parquet` writes one folder per table; `connect_spark` registers
each as a temporary view of a Spark session and returns the Ibis PySpark backend over them, so
that the analytics definitions (Ibis expressions and the portable helpers) run on Spark unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from p4dp.warehouse.parquet import exported_tables

if TYPE_CHECKING:  # pragma: no cover
    import ibis
    from pyspark.sql import SparkSession

#: A local session for tests and single-machine runs: two cores (the machine's budget), few
#: shuffle partitions (Spark's default 200 costs seconds per query on small data), no web UI.
LOCAL_MASTER = "local[2]"
LOCAL_SHUFFLE_PARTITIONS = 4


def local_session(master: str = LOCAL_MASTER, shuffle_partitions: int = LOCAL_SHUFFLE_PARTITIONS,
                  app_name: str = "p4dp") -> SparkSession:
    """A Spark session on this machine (dates in UTC, as the warehouse stores them)."""
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(master).appName(app_name)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.default.parallelism", str(shuffle_partitions))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            .getOrCreate())


def connect_spark(folder: Path | str, session: SparkSession | None = None) -> ibis.BaseBackend:
    """The Ibis PySpark backend over a Parquet export: one temporary view per exported table."""
    import ibis

    folder = Path(folder)
    tables = exported_tables(folder)
    session = session or local_session()
    for name in tables:
        session.read.parquet(str(folder / name)).createOrReplaceTempView(name)
    return ibis.pyspark.connect(session)


def connect_spark_copy(warehouse: Path | str, folder: Path | str,
                       session: SparkSession | None = None) -> ibis.BaseBackend:
    """Spark over a copy of a DuckDB warehouse file: exported as Parquet to `folder` (replacing
    an earlier export there), then connected as `connect_spark` does."""
    import duckdb

    from p4dp.warehouse.parquet import export_parquet

    with duckdb.connect(str(warehouse), read_only=True) as con:
        export_parquet(con, Path(folder))
    return connect_spark(folder, session)
