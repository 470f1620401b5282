"""Each export format gives back, through its reader, what its writer was given (modulo the
normalisations documented in docs/formats/)."""

from __future__ import annotations

import pytest
from sources_fixture import expected, practice_tables, sort_rows

from p4dp.cdm import CLINICAL_TABLES
from p4dp.sources import detect_format, read_export
from p4dp.synth.writers import write_export


@pytest.mark.parametrize("fmt", ["csv-fr", "jsonl", "fhir"])
def test_export_round_trips_every_table_in_staging_schema(fmt, tmp_path):
    tables = practice_tables(fmt)
    write_export(fmt, tables, tmp_path)
    result = read_export(tmp_path, fmt, "arm")
    assert result.quarantine.num_rows == 0, result.quarantine.to_pylist()
    want = expected(tables, fmt)
    for t in CLINICAL_TABLES:
        got = result.tables[t.name]
        assert got.schema.equals(t.arrow_schema("staging"), check_metadata=False), t.name
        assert sort_rows(got) == sorted(want[t.name], key=lambda r: [str(r[k]) for k in
                                                                     got.column_names]), t.name


@pytest.mark.parametrize("fmt", ["csv-fr", "jsonl", "fhir"])
def test_format_is_detected_from_the_files(fmt, tmp_path):
    write_export(fmt, practice_tables(fmt), tmp_path)
    assert detect_format(tmp_path) == fmt


def test_duplicated_rows_are_written_and_read_twice(tmp_path):
    tables = practice_tables("jsonl")
    write_export("jsonl", tables, tmp_path)
    ids = read_export(tmp_path, "jsonl", "arm").tables["biometric"]["biometric_id"].to_pylist()
    assert ids.count("B01") == 2
