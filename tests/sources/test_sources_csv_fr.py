"""The csv-fr reader on every documented quirk and on damaged files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sources_fixture import practice_tables

from p4dp.sources import read_export
from p4dp.synth.writers import write_export


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    write_export("csv-fr", practice_tables("csv-fr"), tmp_path)
    return tmp_path


def _edit(path: Path, old: str, new: str, encoding: str = "cp1252") -> None:
    text = path.read_bytes().decode(encoding)
    assert old in text, f"{old!r} not in {path.name}"
    path.write_bytes(text.replace(old, new, 1).encode(encoding))


def _rows(result, name: str, key: str) -> dict:
    return {r[key]: r for r in result.tables[name].to_pylist()}


def test_files_are_windows_1252_with_french_headers_and_day_first_dates(export):
    raw = (export / "patients.csv").read_bytes()
    assert raw.startswith('"N° patient";"Code cabinet"'.encode("cp1252"))
    assert "Françoise".encode("cp1252") in raw and "Œuvray".encode("cp1252") in raw
    assert b'"09/03/1948"' in raw  # dd/mm/yyyy
    assert b'"F"' in raw and b'"H"' in raw  # sex H/F
    assert b'"O"' in raw and b'"N"' in raw  # booleans O/N
    assert b'"72,5"' in (export / "biometrie.csv").read_bytes()  # decimal comma


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_encoding_is_detected_per_file(export, encoding):
    path = export / "patients.csv"
    text = path.read_bytes().decode("cp1252").replace("Œuvray", "Ouvray")  # Œ is not Latin-1
    path.write_bytes(text.encode(encoding))
    patients = _rows(read_export(export, "csv-fr", "arm"), "patient", "patient_id")
    assert patients["P001"]["first_name"] == "Françoise"
    assert patients["P001"]["address"] == "12, rue de l'Église"
    assert patients["P003"]["last_name"] == "Ouvray"


def test_sex_h_f_and_booleans_o_n_are_mapped(export):
    result = read_export(export, "csv-fr", "arm")
    patients = _rows(result, "patient", "patient_id")
    assert patients["P002"]["sex"] == "M" and patients["P001"]["sex"] == "F"
    assert patients["P003"]["opposition"] is True and patients["P001"]["opposition"] is False
    rx = _rows(result, "prescription", "prescription_id")
    assert rx["RX1"]["chronic"] is True and rx["RX2"]["chronic"] is False
    assert rx["RX3"]["chronic"] is None


def test_short_and_iso_dates_are_accepted(export):
    _edit(export / "consultations.csv", '"07/01/2019"', '"7/1/19"')
    _edit(export / "consultations.csv", '"29/02/2020"', '"2020-02-29T10:15:00"')
    result = read_export(export, "csv-fr", "arm")
    assert result.quarantine.num_rows == 0
    enc = _rows(result, "encounter", "encounter_id")
    assert str(enc["E01"]["date"]) == "2019-01-07"
    assert str(enc["E02"]["date"]) == "2020-02-29"


def test_wide_biometrics_become_long_rows_with_derived_ids(export):
    b = read_export(export, "csv-fr", "arm").tables["biometric"]
    rows = [r for r in b.to_pylist() if r["patient_id"] == "P001"]
    kinds = sorted(r["kind"] for r in rows)
    # The duplicated weight reading opens a second session row, read back as a second weight.
    assert kinds == sorted(["weight", "height", "bmi", "systolic_bp", "diastolic_bp", "weight"])
    assert {r["biometric_id"] for r in rows} == {
        "B01-weight", "B01-height", "B01-bmi", "B01-systolic_bp", "B01-diastolic_bp"}
    weight = next(r for r in rows if r["kind"] == "weight")
    assert weight["value"] == 72.5 and weight["unit"] == "kg" and weight["raw_value"] is None


def test_a_value_that_is_not_a_number_is_kept_raw_not_quarantined(export):
    result = read_export(export, "csv-fr", "arm")
    b = {r["biometric_id"]: r for r in result.tables["biometric"].to_pylist()}
    assert b["B06-height"]["raw_value"] == "1m48" and b["B06-height"]["value"] is None
    # "45,30" is a plain number in this format's convention.
    assert b["B06-weight"]["value"] == 45.3 and b["B06-weight"]["raw_value"] is None
    assert result.quarantine.num_rows == 0


def test_embedded_newlines_quotes_and_semicolons_survive(export):
    problems = _rows(read_export(export, "csv-fr", "arm"), "problem", "problem_id")
    assert problems["PB2"]["reason_text"] == ('renouvellement "HTA"\nTA ok; vu avec sa fille '
                                              "Élodie")
    assert problems["PB3"]["reason_text"] == "douleur genou D\r\ndepuis 3 j"


def test_bad_date_is_quarantined_with_file_physical_line_and_field(export):
    # PB2 spans two physical lines (embedded newline), so PB4's record starts on line 7.
    _edit(export / "problemes.csv", '"15/06/2021"', '"31/02/2021"')
    result = read_export(export, "csv-fr", "arm")
    q = result.quarantine.to_pylist()
    assert len(q) == 1
    assert q[0]["location"] == "problemes.csv, ligne 7"
    assert "« Date »" in q[0]["reason"] and "31/02/2021" in q[0]["reason"]
    assert q[0]["check_id"] == "reader.invalid_date" and q[0]["row_key"] == "PB4"
    assert q[0]["patient_id"] == "P002" and '"N° problème": "PB4"' in q[0]["record"]
    assert sorted(_rows(result, "problem", "problem_id")) == ["PB1", "PB2", "PB3", "PB5"]


def test_truncated_line_is_quarantined_and_the_rest_is_read(export):
    _edit(export / "consultations.csv", '"E03";"P002";"DR2";;"15/06/2021";"TC"', '"E03";"P002"')
    result = read_export(export, "csv-fr", "arm")
    q = result.quarantine.to_pylist()
    assert len(q) == 1 and q[0]["check_id"] == "reader.csv_bad_line"
    assert q[0]["location"] == "consultations.csv, ligne 4"
    assert sorted(_rows(result, "encounter", "encounter_id")) == ["E01", "E02", "E04", "E05"]


def test_file_cut_inside_a_quoted_field_keeps_the_records_before(export):
    path = export / "problemes.csv"
    text = path.read_bytes().decode("cp1252")
    path.write_bytes(text[: text.index("depuis 3 j")].encode("cp1252"))  # cut inside PB3's text
    result = read_export(export, "csv-fr", "arm")
    assert sorted(_rows(result, "problem", "problem_id")) == ["PB1", "PB2"]
    q = result.quarantine.to_pylist()
    assert len(q) == 1 and q[0]["location"] == "problemes.csv, ligne 5"
    assert q[0]["row_key"] == "PB3"


def test_unknown_sex_code_and_missing_id_are_quarantined_naming_the_field(export):
    _edit(export / "patients.csv", '"Théo";"30/11/2015";"H"', '"Théo";"30/11/2015";"X"')
    _edit(export / "vaccins.csv", '"V1";"P001"', '"V1";""')
    result = read_export(export, "csv-fr", "arm")
    reasons = {r["table_name"]: r for r in result.quarantine.to_pylist()}
    assert "« Sexe »" in reasons["patient"]["reason"] and "« X »" in reasons["patient"]["reason"]
    assert reasons["patient"]["location"] == "patients.csv, ligne 3"
    assert "« N° patient »" in reasons["vaccination"]["reason"]
    assert reasons["vaccination"]["check_id"] == "reader.missing_required"
    assert result.tables["patient"].num_rows == 2 and result.tables["vaccination"].num_rows == 2
