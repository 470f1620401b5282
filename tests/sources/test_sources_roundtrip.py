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


@pytest.mark.parametrize(("fmt", "read_id"), [("csv-fr", "B01-weight"), ("jsonl", "B01"),
                                             ("fhir", "B01")])
def test_duplicated_rows_are_written_and_read_twice_with_the_same_id(fmt, read_id, tmp_path):
    write_export(fmt, practice_tables(fmt), tmp_path)
    ids = read_export(tmp_path, fmt, "arm").tables["biometric"]["biometric_id"].to_pylist()
    assert ids.count(read_id) == 2


def test_quarantine_has_the_cdm_columns_minus_batch_id(tmp_path):
    from p4dp.cdm import table

    write_export("jsonl", practice_tables("jsonl"), tmp_path)
    q = read_export(tmp_path, "jsonl", "arm").quarantine
    assert q.schema.names == [c.name for c in table("quarantine").columns if c.name != "batch_id"]


def test_unknown_format_and_unrecognised_folder_are_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="format d'export inconnu"):
        read_export(tmp_path, "hl7v2", "arm")
    with pytest.raises(ValueError, match="format d'export non reconnu"):
        detect_format(tmp_path)
    with pytest.raises(ValueError, match="unknown export format"):
        write_export("hl7v2", practice_tables(), tmp_path)


@pytest.mark.parametrize("fmt", ["jsonl", "fhir"])
def test_writer_refuses_rows_of_a_patient_absent_from_the_export(fmt, tmp_path):
    tables = practice_tables(fmt)
    tables["patient"] = tables["patient"].slice(0, 2)  # P003 gone, its rows remain
    with pytest.raises(ValueError, match="patient"):
        write_export(fmt, tables, tmp_path)


@pytest.mark.parametrize("fmt", ["csv-fr", "jsonl", "fhir"])
def test_read_back_ids_give_the_ids_the_reader_produces(fmt, tmp_path):
    from p4dp.synth.writers import read_back_ids

    tables = practice_tables(fmt)
    write_export(fmt, tables, tmp_path)
    result = read_export(tmp_path, fmt, "arm")
    for t in CLINICAL_TABLES:
        key = t.primary_key[0]
        ids = read_back_ids(fmt, tables).get(t.name, tables[t.name][key]).to_pylist()
        assert sorted(ids) == sorted(result.tables[t.name][key].to_pylist()), t.name


@pytest.mark.parametrize("fmt", ["jsonl", "fhir"])
def test_unicode_line_separators_in_free_text_do_not_split_documents(fmt, tmp_path):
    import pyarrow as pa

    tables = practice_tables(fmt)
    t = tables["problem"]
    texts = t["reason_text"].to_pylist()
    texts[0] = "toux\u2028fièvre\x85nuit"
    tables["problem"] = t.set_column(t.schema.get_field_index("reason_text"),
                                     t.schema.field("reason_text"), pa.array(texts, pa.string()))
    write_export(fmt, tables, tmp_path)
    result = read_export(tmp_path, fmt, "arm")
    assert result.quarantine.num_rows == 0
    got = {r["problem_id"]: r["reason_text"] for r in result.tables["problem"].to_pylist()}
    assert got["PB1"] == "toux\u2028fièvre\x85nuit"


@pytest.mark.parametrize("fmt", ["csv-fr", "jsonl", "fhir"])
def test_nan_is_written_as_an_absent_value(fmt, tmp_path):
    import pyarrow as pa

    tables = practice_tables(fmt)
    t = tables["lab_result"]
    values = t["value"].to_numpy(zero_copy_only=False).copy()
    values[0] = float("nan")  # L1
    tables["lab_result"] = t.set_column(t.schema.get_field_index("value"), t.schema.field("value"),
                                        pa.array(values, pa.float64()))
    write_export(fmt, tables, tmp_path)
    labs = {r["lab_result_id"]: r for r in
            read_export(tmp_path, fmt, "arm").tables["lab_result"].to_pylist()}
    assert labs["L1"]["value"] is None and labs["L1"]["raw_value"] is None


@pytest.mark.parametrize("fmt", ["jsonl", "fhir"])
def test_reading_in_chunks_of_documents_changes_nothing(fmt, tmp_path, monkeypatch):
    from p4dp.sources import fhir, jsonl

    tables = practice_tables(fmt)
    write_export(fmt, tables, tmp_path)
    whole = read_export(tmp_path, fmt, "arm")
    monkeypatch.setattr(jsonl if fmt == "jsonl" else fhir, "JSON_CHUNK", 2)
    chunked = read_export(tmp_path, fmt, "arm")
    for t in CLINICAL_TABLES:
        assert sort_rows(chunked.tables[t.name]) == sort_rows(whole.tables[t.name]), t.name


@pytest.mark.parametrize(("fmt", "path"), [("jsonl", "patients.jsonl"),
                                           ("fhir", "bundles/patients.ndjson")])
def test_writing_patients_in_batches_gives_the_same_file(fmt, path, tmp_path, monkeypatch):
    from p4dp.synth.writers import _batches

    tables = practice_tables(fmt)
    write_export(fmt, tables, tmp_path / "whole")
    monkeypatch.setattr(_batches, "PATIENT_BATCH", 1)
    write_export(fmt, tables, tmp_path / "batched")
    assert (tmp_path / "whole" / path).read_bytes() == (tmp_path / "batched" / path).read_bytes()
