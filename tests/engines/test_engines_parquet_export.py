"""The Parquet export the Spark engine reads: one folder per table, written whole or not at all."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest

from p4dp.warehouse.connect import create_schema
from p4dp.warehouse.parquet import MANIFEST, export_parquet, exported_tables


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_schema(c)
    c.execute("INSERT INTO practice (source_id, practice_id, region_code, departement_code, "
              "kind) VALUES ('arm', 'p1', '93', '06', 'msp'), ('med', 'p2', '28', '76', 'msp')")
    c.execute("CREATE TABLE mart_x AS SELECT 'arm' AS source_id, 1 AS n")
    yield c
    c.close()


def test_every_table_goes_to_its_own_folder_with_a_manifest(con, tmp_path):
    counts = export_parquet(con, tmp_path / "pq")
    assert counts["practice"] == 2 and counts["mart_x"] == 1 and counts["encounter"] == 0
    assert exported_tables(tmp_path / "pq") == counts
    back = pq.read_table(tmp_path / "pq" / "practice")
    assert sorted(back.column("practice_id").to_pylist()) == ["p1", "p2"]
    # the warehouse's types survive (a date stays a date, an empty table keeps its schema)
    assert str(pq.read_schema(tmp_path / "pq" / "encounter" / "part-0.parquet")
               .field("date").type) == "date32[day]"


def test_a_new_export_replaces_the_previous_one_whole(con, tmp_path):
    export_parquet(con, tmp_path / "pq")
    con.execute("DELETE FROM practice WHERE practice_id = 'p2'")
    assert export_parquet(con, tmp_path / "pq", tables=["practice"]) == {"practice": 1}
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == [MANIFEST, "practice"]
    assert not (tmp_path / "pq.partial").exists()


def test_an_export_never_overwrites_a_folder_that_is_not_one(con, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="pas un export P4DP"):
        export_parquet(con, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="absentes"):
        export_parquet(con, tmp_path / "pq", tables=["practice", "nope"])
    with pytest.raises(FileNotFoundError, match="export_parquet"):
        exported_tables(tmp_path / "mine")
