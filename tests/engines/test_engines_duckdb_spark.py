"""The same definitions on two engines: every indicator of the library, the analytics marts and
the portable helpers give identical results on DuckDB (the warehouse file) and on a local Spark
session reading the warehouse exported as Parquet (DESIGN.md: one definition, embedded or
distributed).

The warehouse is the `tiny` synthetic network (seed 7) through the real pipeline, so every table
and code the indicators read is populated.
"""

from __future__ import annotations

import datetime as dt
import time

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from p4dp.analytics import portable as P
from p4dp.analytics.compile import Warehouse, run_indicator
from p4dp.analytics.library import all_indicators
from p4dp.analytics.marts import MARTS
from p4dp.analytics.model import Filters, Period, Scope

pytestmark = [pytest.mark.spark, pytest.mark.slow]

TODAY = dt.date(2026, 11, 29)


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory):
    from p4dp.pipeline import ingest_network
    from p4dp.settings import Settings
    from p4dp.synth import generate

    net = tmp_path_factory.mktemp("net") / "tiny"
    generate("tiny", 7, net, today=TODAY)
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    ingest_network(net, settings, as_of=TODAY)
    return settings.warehouse


@pytest.fixture(scope="module")
def engines(warehouse_file, tmp_path_factory):
    """(DuckDB warehouse, Spark warehouse) over the same data."""
    pytest.importorskip("pyspark")
    from p4dp.warehouse.spark import connect_spark_copy, local_session

    session = local_session()
    session.sparkContext.setLogLevel("ERROR")
    spark = Warehouse(connect_spark_copy(
        warehouse_file, tmp_path_factory.mktemp("parquet") / "export", session))
    duck = Warehouse(ibis.duckdb.connect(str(warehouse_file), read_only=True))
    yield duck, spark
    duck.backend.disconnect()
    session.stop()


def _busiest_gp(wh: Warehouse) -> str:
    return wh.backend.con.execute(
        "SELECT gp_id FROM patient WHERE gp_id IS NOT NULL GROUP BY 1 "
        "ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]


#: Request shapes: the whole base at a reference date with ages at today (every indicator of the
#: library); a GP's patients with every patient filter, ages at the event and a closed date range
#: (one indicator per frame: the filters act on frames, and the first request already compared
#: every aggregation; Spark costs about a second per query). Indicators reserved to a GP run for
#: the GP in both.
REQUESTS = {
    "base_ages_today": lambda gp: (
        Scope(), Filters(age_max=95, age_at="today", as_of=TODAY,
                         period=Period(None, dt.date(2026, 6, 30)))),
    "gp_filtered": lambda gp: (
        Scope("practitioner", gp),
        Filters(sex="F", age_min=16, age_max=70, as_of=TODAY,
                period=Period(dt.date(2024, 1, 1), dt.date(2025, 12, 31)))),
}


@pytest.mark.parametrize("request_name", list(REQUESTS))
def test_every_indicator_gives_the_same_result_on_duckdb_and_spark(engines, request_name):
    duck, spark = engines
    gp = _busiest_gp(duck)
    scope, filters = REQUESTS[request_name](gp)
    differ, non_empty, timings = [], 0, {}
    inds = all_indicators()
    if request_name != "base_ages_today":
        inds = {i.name: i for i in {i.frame: i for i in reversed(inds.values())}.values()}
    for name, ind in inds.items():
        s = Scope("practitioner", gp) if ind.scope_policy == "practitioner" else scope
        a = run_indicator(duck, ind, s, filters)
        t = time.perf_counter()
        b = run_indicator(spark, ind, s, filters)
        timings[name] = time.perf_counter() - t
        non_empty += bool(a["rows"])
        if (a["columns"], a["rows"]) != (b["columns"], b["rows"]):
            differ.append((name, a["rows"][:3], b["rows"][:3]))
    print(f"Spark, {request_name}: {len(timings)} indicators in {sum(timings.values()):.1f} s "
          f"(slowest {max(timings, key=timings.get)} {max(timings.values()):.1f} s)")
    assert not differ, "DuckDB and Spark disagree:\n" + "\n".join(map(repr, differ))
    # a comparison of empty results would prove nothing
    assert non_empty >= len(timings) * 0.8


def _sorted_arrow(t: pa.Table) -> pa.Table:
    # every row carries its row id; list columns (vaccine valences) cannot be sort keys
    return t.sort_by([(f.name, "ascending") for f in t.schema
                      if not pa.types.is_nested(f.type)])


@pytest.mark.parametrize("mart", list(MARTS))
def test_each_analytics_mart_computed_on_spark_equals_the_stored_mart(engines, mart):
    duck, spark = engines
    expr = MARTS[mart].build(spark.table)
    on_spark = spark.backend.to_pyarrow(expr)
    stored = duck.backend.to_pyarrow(duck.table(mart).select(*expr.columns))
    assert on_spark.num_rows > 0
    on_spark = on_spark.cast(stored.schema)
    assert _sorted_arrow(on_spark).equals(_sorted_arrow(stored))


def test_portable_helpers_agree_on_every_day_around_birthdays_and_year_ends(engines, tmp_path):
    duck, spark = engines
    days = [dt.date(2019, 12, 20) + dt.timedelta(d) for d in range(0, 2300, 3)]
    births = [(2010, 2), (2012, None), (1950, 12), (2016, 3), (2004, 2)]
    rows = [(d, y, m) for d in days for y, m in births]
    path = tmp_path / "days.parquet"
    pq.write_table(pa.table({
        "d": pa.array([r[0] for r in rows], pa.date32()),
        "birth_year": pa.array([r[1] for r in rows], pa.int16()),
        "birth_month": pa.array([r[2] for r in rows], pa.int16())}), path)

    def helpers(backend) -> list[dict]:
        # read from Parquet on both sides: an in-memory table loses nullable integers on its way
        # to Spark (through pandas), which would test the transfer, not the helpers
        t = backend.read_parquet(str(path))
        age = P.age_at(t.birth_year, t.birth_month, t.d)
        e = t.select(
            "d", "birth_year", "birth_month", age=age,
            exact=P.exact_age(t.birth_year, t.birth_month, t.d).round(6),
            band=P.age_band(age, (0, 6, 16, 61)), week=P.iso_week_label(t.d),
            week_start=P.week_start(t.d), month=P.month_label(t.d),
            month_start=P.month_start(t.d), year_start=P.year_start(t.d))
        return backend.to_pyarrow(e.order_by("d", "birth_year")).to_pylist()

    a, b = helpers(duck.backend), helpers(spark.backend)
    assert len(a) == len(rows)
    assert a == b
