from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from p4dp.cdm import ALL_TABLES, CLINICAL_TABLES, Layer, table
from p4dp.cdm.reference import render_markdown
from p4dp.settings import Settings
from p4dp.warehouse.connect import connect, create_schema, init_warehouse

ROOT = Path(__file__).resolve().parents[1]


def test_reference_page_is_up_to_date():
    page = ROOT / "docs" / "reference" / "cdm.md"
    assert page.read_text(encoding="utf-8") == render_markdown(), (
        "docs/reference/cdm.md is stale: run `p4dp cdm docs`"
    )


def test_every_clinical_table_carries_source_and_batch():
    for t in CLINICAL_TABLES:
        assert "source_id" in t.column_names
        assert t.column("batch_id").layer is Layer.CENTRAL


def test_identifying_columns_never_reach_the_warehouse_schema():
    patient = table("patient")
    central = set(patient.arrow_schema("central").names)
    staging = set(patient.arrow_schema("staging").names)
    for name in ("last_name", "first_name", "nir", "birth_date", "phone", "email", "address"):
        assert name in staging
        assert name not in central
    assert "batch_id" not in staging


def test_ddl_matches_arrow_schema(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_schema(con)
    for t in ALL_TABLES:
        arrow = con.execute(f"SELECT * FROM {t.name} LIMIT 0").to_arrow_table().schema
        expected = t.arrow_schema("central")
        assert arrow.names == expected.names
        for f in expected:
            assert arrow.field(f.name).type == f.type, (t.name, f.name)


def test_allowed_values_are_enforced(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_schema(con)
    with pytest.raises(duckdb.ConstraintException):
        con.execute(
            "INSERT INTO patient (source_id, patient_id, practice_id, sex, opposition) "
            "VALUES ('arm', 'arm_1', 'P1', 'X', false)"
        )


def test_init_twice_is_harmless(tmp_path):
    settings = Settings(home=tmp_path)
    path, created = init_warehouse(settings)
    assert path.exists() and len(created) == len(ALL_TABLES)
    with connect(settings) as con:
        con.execute("INSERT INTO practice (source_id, practice_id, region_code, departement_code,"
                    " kind) VALUES ('arm', 'P1', '93', '06', 'cabinet')")
    _, created_again = init_warehouse(settings)
    assert created_again == []
    with connect(settings, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM practice").fetchone()[0] == 1


def test_unknown_table_is_named_in_the_error():
    with pytest.raises(KeyError, match="unknown table 'nope'"):
        table("nope")


def test_staging_schema_is_valid_arrow():
    for t in CLINICAL_TABLES:
        schema = t.arrow_schema("staging")
        assert isinstance(schema, pa.Schema)
        empty = pa.table({n: pa.array([], type=schema.field(n).type) for n in schema.names})
        assert empty.num_columns == len(schema)
