"""The cohort compiler on Spark: every rule kind and an attrition table give the same patients on
DuckDB and on a local Spark session reading the same warehouse exported as Parquet (DESIGN.md:
one definition, embedded or distributed)."""

from __future__ import annotations

import pytest
from test_cohorts_compile import EVERY_KIND, INDEX, cohort, wh  # noqa: F401 - `wh` is a fixture

from p4dp.analytics.compile import Warehouse
from p4dp.cohorts.compile import Context, attrition_frame, compile_rule

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark_wh(wh, tmp_path_factory):  # noqa: F811 - the imported fixture
    spark = pytest.importorskip("p4dp.warehouse.spark")
    from p4dp.warehouse.parquet import export_parquet

    folder = tmp_path_factory.mktemp("parquet") / "export"
    export_parquet(wh.backend.con, folder)
    return Warehouse(spark.connect_spark(folder), use_sql_cache=False)


def patients(w: Warehouse, t) -> list[str]:
    return sorted(w.backend.to_pyarrow(t.select("patient_id"))["patient_id"].to_pylist())


@pytest.mark.parametrize("rule", EVERY_KIND, ids=lambda r: r["type"])
def test_every_rule_selects_the_same_patients_on_spark(wh, spark_wh, rule):  # noqa: F811
    c = cohort(rule)
    for facts in (True, False):
        got = [patients(w, compile_rule(Context(w, INDEX, facts=facts), c.rules[0], "/rules/0"))
               for w in (wh, spark_wh)]
        assert got[0] == got[1]


def test_the_attrition_frame_is_the_same_on_spark(wh, spark_wh):  # noqa: F811
    c = cohort(*EVERY_KIND[:3], EVERY_KIND[7], {"type": "child_weight", "status": "obese"})
    rows = []
    for w in (wh, spark_wh):
        t = w.backend.to_pyarrow(attrition_frame(w, c, INDEX))
        rows.append(sorted(zip(t["patient_id"].to_pylist(), t["step"].to_pylist())))
    assert rows[0] == rows[1] and any(step > 0 for _, step in rows[0])
