"""The surveillance queries give the same cube on DuckDB and on a local Spark session reading the
warehouse exported as Parquet (DESIGN.md: one definition, embedded or distributed)."""

from __future__ import annotations

import ibis
import pytest

from p4dp.analytics.compile import Warehouse
from p4dp.surveillance.incidence import build_cube

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def engines(seasonal_file, tmp_path_factory):
    pytest.importorskip("pyspark")
    from p4dp.warehouse.spark import connect_spark_copy, local_session

    session = local_session()
    session.sparkContext.setLogLevel("ERROR")
    spark = connect_spark_copy(seasonal_file, tmp_path_factory.mktemp("parquet") / "export",
                               session)
    duck = Warehouse(ibis.duckdb.connect(str(seasonal_file), read_only=True))
    yield duck, Warehouse(spark)
    duck.backend.disconnect()


def test_the_weekly_cube_is_the_same_on_duckdb_and_spark(engines):
    duck, spark = engines
    a, b = build_cube(duck), build_cube(spark)
    assert a.weeks == b.weeks and a.regions == b.regions
    assert a.cases.sum() > 0 and a.population.sum() > 0
    for key in ("bronchiolite", "lyme"):  # the rules with an age limit or a text pattern
        assert a.cases[a.s_index(key)].sum() > 0
    assert a.population[a.s_index("bronchiolite")].sum() > 0
    assert (a.cases == b.cases).all()
    assert (a.population == b.population).all()
