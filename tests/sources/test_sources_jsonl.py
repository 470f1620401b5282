"""The jsonl reader on its documented conventions and on damaged documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sources_fixture import practice_tables

from p4dp.sources import read_export
from p4dp.synth.writers import write_export


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    write_export("jsonl", practice_tables("jsonl"), tmp_path)
    return tmp_path


def _docs(export: Path) -> list[dict]:
    return [json.loads(x) for x in (export / "patients.jsonl").read_text("utf-8").splitlines()]


def _save(export: Path, docs: list) -> None:
    lines = [d if isinstance(d, str) else json.dumps(d, ensure_ascii=False) for d in docs]
    (export / "patients.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_documents_nest_visits_with_their_problems_vitals_and_prescriptions(export):
    docs = _docs(export)
    assert [d["pid"] for d in docs] == ["P001", "P002", "P003"]
    p1 = docs[0]
    assert p1["gender"] == 2 and p1["identity"]["dob"] == "1948-03-09"
    assert p1["relatives"] == ["Jean Dupont", "Élodie Dupont"]
    visit = p1["visits"][0]
    assert visit["visitId"] == "E01" and visit["mode"] == "office"
    assert [p["problemId"] for p in visit["problems"]] == ["PB1", "PB2"]
    assert visit["problems"][0]["diagnosis"] == {"text": "IVRS", "cisp": "R74"}
    assert visit["vitals"][0] == {"vitalId": "B01", "type": "WEIGHT", "value": 72.5,
                                  "unit": "kg", "visitId": None, "takenOn": None}
    assert visit["prescriptions"][0]["atc"] == "C08CA01"
    assert [lab["labId"] for lab in p1["labs"]] == ["L1", "L2", "L3", "L6"]
    # Injected dirt travels as the vendor wrote it: a string where a number belongs.
    p2 = docs[1]
    assert p2["visits"][0]["vitals"][0]["value"] == "45,30"
    # A reading outside any visit sits under the patient with its own date.
    assert p2["vitals"] == [{"vitalId": "B09", "type": "HEAD_CIRC", "value": 41.0, "unit": "cm",
                             "visitId": None, "takenOn": "2016-02-01"}]


def test_string_number_is_kept_raw_not_quarantined(export):
    result = read_export(export, "jsonl", "arm")
    b = {r["biometric_id"]: r for r in result.tables["biometric"].to_pylist()}
    assert b["B06"]["raw_value"] == "45,30" and b["B06"]["value"] is None
    labs = {r["lab_result_id"]: r for r in result.tables["lab_result"].to_pylist()}
    assert labs["L4"]["raw_value"] == "2,8" and labs["L4"]["value"] is None
    assert labs["L5"]["text_value"] == "négatif"
    assert result.quarantine.num_rows == 0


def test_broken_json_line_is_quarantined_and_other_patients_are_read(export):
    docs = (export / "patients.jsonl").read_text("utf-8").splitlines()
    docs[1] = docs[1][: len(docs[1]) // 2]  # a line cut in the middle
    _save(export, docs)
    result = read_export(export, "jsonl", "arm")
    q = result.quarantine.to_pylist()
    assert len(q) == 1 and q[0]["check_id"] == "reader.json_syntax"
    assert q[0]["location"] == "patients.jsonl, ligne 2"
    assert "colonne" in q[0]["reason"]
    assert sorted(result.tables["patient"]["patient_id"].to_pylist()) == ["P001", "P003"]
    assert "E01" in result.tables["encounter"]["encounter_id"].to_pylist()


def test_bad_date_names_the_json_pointer_and_field(export):
    docs = _docs(export)
    docs[0]["visits"][1]["on"] = "2020-02-30"
    _save(export, docs)
    result = read_export(export, "jsonl", "arm")
    q = {r["table_name"]: r for r in result.quarantine.to_pylist()}
    assert q["encounter"]["location"] == "patients.jsonl, ligne 1, /visits/1"
    assert "« on »" in q["encounter"]["reason"] and "2020-02-30" in q["encounter"]["reason"]
    assert q["encounter"]["row_key"] == "E02"
    # The visit's problem and prescription inherit its date: quarantined too, each at its pointer.
    assert q["problem"]["location"] == "patients.jsonl, ligne 1, /visits/1/problems/0"
    assert q["prescription"]["location"] == "patients.jsonl, ligne 1, /visits/1/prescriptions/0"
    assert len(q) == 3 and result.quarantine.num_rows == 3
    assert sorted(result.tables["encounter"]["encounter_id"].to_pylist()) == [
        "E01", "E03", "E04", "E05"]


def test_nested_problem_inherits_visit_date_and_practitioner(export):
    problems = {r["problem_id"]: r for r in
                read_export(export, "jsonl", "arm").tables["problem"].to_pylist()}
    assert problems["PB3"]["practitioner_id"] == "INT1"
    assert str(problems["PB3"]["date"]) == "2020-02-29"
    assert problems["PB3"]["encounter_id"] == "E02"


def test_unknown_gender_code_is_quarantined(export):
    docs = _docs(export)
    docs[2]["gender"] = 9
    _save(export, docs)
    q = read_export(export, "jsonl", "arm").quarantine.to_pylist()
    assert len(q) == 1 and q[0]["check_id"] == "reader.unknown_code"
    assert "« gender »" in q[0]["reason"] and "« 9 »" in q[0]["reason"]
    assert q[0]["location"] == "patients.jsonl, ligne 3, /"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_encoding_is_detected(export, encoding):
    path = export / "patients.jsonl"
    text = path.read_text("utf-8").replace("Nguyễn", "Nguyen")
    path.write_bytes(text.encode(encoding))
    patients = {r["patient_id"]: r for r in
                read_export(export, "jsonl", "arm").tables["patient"].to_pylist()}
    assert patients["P001"]["first_name"] == "Françoise"


def test_item_that_is_not_an_object_is_quarantined(export):
    docs = _docs(export)
    docs[0]["vaccines"].append("REVAXIS le 2/9/2013")
    _save(export, docs)
    result = read_export(export, "jsonl", "arm")
    q = result.quarantine.to_pylist()
    assert len(q) == 1 and q[0]["location"] == "patients.jsonl, ligne 1, /vaccines/1"
    assert result.tables["vaccination"].num_rows == 3
