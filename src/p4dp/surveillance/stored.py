"""Surveillance tables stored in the warehouse by `p4dp surveillance run`.

They are derived from the CDM tables, like the marts, so they are created here and not in `cdm/`:

* `surveillance_weekly` — the weekly cube (syndrome, region, week, cases, active patients), so
  that the bulletin and the web page do not recompute the GP-list denominators, which need a
  window over every encounter; `surveillance_state` says which data it was computed from (the
  load batches and withdrawals), and readers ignore a stale cube;
* `surveillance_alert` — one row per (syndrome, region, ISO week) with an alert level. A re-run
  on the same data changes nothing; a re-run after a load updates the level, incidence, threshold
  and provisional flag of the weeks whose data changed (keeping when the alert was first
  raised), adds the new ones and withdraws those that later data no longer support.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from p4dp.analytics.compile import Warehouse
from p4dp.surveillance.incidence import Cube, monday

TABLE = "surveillance_alert"
WEEKLY_TABLE = "surveillance_weekly"
STATE_TABLE = "surveillance_state"
DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    syndrome VARCHAR NOT NULL,
    region_code VARCHAR NOT NULL,
    week DATE NOT NULL,
    iso_week VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    incidence DOUBLE,
    threshold DOUBLE,
    provisional BOOLEAN NOT NULL,
    first_raised_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (syndrome, region_code, week)
)
"""
_KEY = "n.syndrome = a.syndrome AND n.region_code = a.region_code AND n.week = a.week"


def _changed(new: str, old: str) -> str:
    """SQL: the alert's values differ (floats rounded: recomputation noise is no change)."""
    return (f"{new}.level IS DISTINCT FROM {old}.level "
            f"OR {new}.provisional IS DISTINCT FROM {old}.provisional "
            f"OR round({new}.incidence, 6) IS DISTINCT FROM round({old}.incidence, 6) "
            f"OR round({new}.threshold, 6) IS DISTINCT FROM round({old}.threshold, 6)")


@dataclass(frozen=True)
class StoreReport:
    raised: int
    updated: int
    withdrawn: int
    unchanged: int


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection, **views: pa.Table):
    """One transaction with Arrow tables registered as views; rolled back on any error."""
    for name, data in views.items():
        con.register(name, data)
    try:
        con.execute("BEGIN TRANSACTION")
        yield
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in views:
            con.unregister(name)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _write_alerts(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> StoreReport:
    """Make the alert table hold exactly the view `_new_alerts` (inside a transaction)."""
    counts = con.execute(f"""
        SELECT
          (SELECT count(*) FROM _new_alerts n ANTI JOIN {TABLE} a ON {_KEY}),
          (SELECT count(*) FROM _new_alerts n JOIN {TABLE} a ON {_KEY}
            WHERE {_changed('n', 'a')}),
          (SELECT count(*) FROM {TABLE} a ANTI JOIN _new_alerts n ON {_KEY}),
          (SELECT count(*) FROM _new_alerts n JOIN {TABLE} a ON {_KEY}
            WHERE NOT ({_changed('n', 'a')}))""").fetchone()
    con.execute(f"DELETE FROM {TABLE} a WHERE NOT EXISTS "
                f"(SELECT 1 FROM _new_alerts n WHERE {_KEY})")
    con.execute(f"""
        INSERT INTO {TABLE}
        SELECT syndrome, region_code, week, iso_week, level, incidence, threshold,
               provisional, ?::TIMESTAMP, ?::TIMESTAMP FROM _new_alerts
        ON CONFLICT (syndrome, region_code, week) DO UPDATE SET
          iso_week = excluded.iso_week, level = excluded.level,
          incidence = excluded.incidence, threshold = excluded.threshold,
          provisional = excluded.provisional,
          updated_at = CASE WHEN {_changed('excluded', TABLE)}
                       THEN excluded.updated_at ELSE {TABLE}.updated_at END""", [now, now])
    return StoreReport(*counts)


def store_alerts(con: duckdb.DuckDBPyConnection, rows: pa.Table, now: dt.datetime | None = None
                 ) -> StoreReport:
    """Make the alert table hold exactly `rows` (see the module doc), in one transaction."""
    con.execute(DDL)
    with _transaction(con, _new_alerts=rows):
        return _write_alerts(con, now or _now())


def store_run(con: duckdb.DuckDBPyConnection, cube: Cube, version: str, alerts: pa.Table,
              now: dt.datetime | None = None) -> tuple[int, StoreReport]:
    """Store a run — the weekly cube, its state and the alerts — in one transaction: a failure
    leaves the previous run's tables as they were. Returns (weekly rows, alert report)."""
    now = now or _now()
    weekly = cube.to_arrow()
    con.execute(DDL)
    with _transaction(con, _weekly=weekly, _new_alerts=alerts):
        con.execute(f"CREATE OR REPLACE TABLE {WEEKLY_TABLE} AS SELECT * FROM _weekly")
        con.execute(f"CREATE OR REPLACE TABLE {STATE_TABLE} (data_version VARCHAR NOT NULL, "
                    "as_of DATE NOT NULL, computed_at TIMESTAMP NOT NULL)")
        con.execute(f"INSERT INTO {STATE_TABLE} VALUES (?, ?, ?)", [version, cube.as_of, now])
        report = _write_alerts(con, now)
    return weekly.num_rows, report


def data_version(wh: Warehouse) -> str:
    """What the warehouse's data is, as far as surveillance cares: loads and withdrawals."""
    lb = wh.table("load_batch")
    loads = lb.aggregate(n=lb.count(), last=lb.finished_at.max()).to_pyarrow().to_pylist()[0]
    wd = wh.table("withdrawal")
    last_wd = wd.requested_at.max().to_pyarrow().as_py()
    return f"loads={loads['n']};last_load={loads['last']};last_withdrawal={last_wd}"


def stored_cube(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None
                ) -> Cube | None:
    """The stored cube when it was computed from the warehouse's current data, else None."""
    tables = set(wh.backend.list_tables())
    if not {WEEKLY_TABLE, STATE_TABLE} <= tables:
        return None
    state = wh.table(STATE_TABLE).to_pyarrow().to_pylist()
    if len(state) != 1 or state[0]["data_version"] != data_version(wh):
        return None
    t = wh.table(WEEKLY_TABLE)
    if start:
        t = t.filter(t.week >= monday(start))
    if end:
        t = t.filter(t.week <= monday(end))
    data = t.to_pyarrow()
    if data.num_rows == 0:
        return None
    as_of = min(end, state[0]["as_of"]) if end else state[0]["as_of"]
    return Cube.from_arrow(data, as_of, start, end)
