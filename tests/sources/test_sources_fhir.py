"""The fhir reader: FHIR R4 collection Bundles, their code systems, and invalid resources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sources_fixture import practice_tables

from p4dp.sources import read_export
from p4dp.synth.writers import write_export


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    write_export("fhir", practice_tables("fhir"), tmp_path)
    return tmp_path


def _bundles(export: Path) -> list[dict]:
    lines = (export / "bundles" / "patients.ndjson").read_text("utf-8").splitlines()
    return [json.loads(x) for x in lines]


def _save(export: Path, bundles: list) -> None:
    lines = [b if isinstance(b, str) else json.dumps(b, ensure_ascii=False) for b in bundles]
    (export / "bundles" / "patients.ndjson").write_text("\n".join(lines) + "\n", "utf-8")


def _resources(bundle: dict, rtype: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def test_bundles_use_the_documented_systems_and_codes(export):
    b = _bundles(export)[0]
    assert b["resourceType"] == "Bundle" and b["type"] == "collection"
    patient = _resources(b, "Patient")[0]
    assert patient["identifier"] == [{"system": "urn:oid:1.2.250.1.213.1.4.8",
                                      "value": "248037511300512"}]
    assert patient["gender"] == "female" and patient["birthDate"] == "1948-03-09"
    assert patient["name"][0] == {"use": "official", "family": "Dupont", "given": ["Françoise"]}
    obs = {o["id"]: o for o in _resources(b, "Observation")}
    weight = obs["vs-B01"]
    assert weight["code"]["coding"][0]["system"] == "http://loinc.org"
    assert weight["code"]["coding"][0]["code"] == "29463-7"
    assert weight["valueQuantity"] == {"value": 72.5, "unit": "kg",
                                       "system": "http://unitsofmeasure.org", "code": "kg"}
    assert obs["vs-B04"]["valueQuantity"]["code"] == "mm[Hg]"
    assert obs["lab-L1"]["category"][0]["coding"][0]["code"] == "laboratory"
    assert obs["lab-L1"]["code"] == {"text": "INR"}
    cond = {c["id"]: c for c in _resources(b, "Condition")}
    assert cond["pb-PB1-result"]["code"]["coding"] == [
        {"system": "http://hl7.org/fhir/sid/icpc-2", "code": "R74"}]
    assert cond["pb-PB1-result"]["code"]["text"] == "IVRS"
    assert cond["ant-A1"]["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert _resources(b, "AllergyIntolerance")[0]["code"] == {"text": "pénicilline"}
    rx = {r["id"]: r for r in _resources(b, "MedicationRequest")}
    assert rx["RX1"]["medicationCodeableConcept"]["coding"][0] == {
        "system": "http://www.whocc.no/atc", "code": "C08CA01"}
    assert _resources(b, "Immunization")[0]["vaccineCode"] == {"text": "REVAXIS"}
    # FHIR has no null: absent values are left out.
    assert "null" not in (export / "bundles" / "patients.ndjson").read_text("utf-8")


def test_string_in_value_quantity_is_kept_raw(export):
    result = read_export(export, "fhir", "arm")
    b = {r["biometric_id"]: r for r in result.tables["biometric"].to_pylist()}
    assert b["B07"]["raw_value"] == "1m48" and b["B07"]["value"] is None
    assert result.quarantine.num_rows == 0


def test_entry_without_resource_type_is_quarantined_and_the_bundle_still_read(export):
    bundles = _bundles(export)
    bundles[0]["entry"].insert(3, {"resource": {"id": "x1", "status": "final"}})
    _save(export, bundles)
    result = read_export(export, "fhir", "arm")
    q = result.quarantine.to_pylist()
    assert len(q) == 1 and q[0]["check_id"] == "reader.fhir_invalid_resource"
    assert q[0]["location"] == "bundles/patients.ndjson, ligne 1, /entry/3"
    assert "resourceType" in q[0]["reason"]
    assert result.tables["encounter"].num_rows == 5


def test_invalid_date_names_the_resource_and_field(export):
    bundles = _bundles(export)
    enc = _resources(bundles[1], "Encounter")[0]
    enc["period"]["start"] = "15/13/2021"
    _save(export, bundles)
    result = read_export(export, "fhir", "arm")
    q = {r["table_name"]: r for r in result.quarantine.to_pylist()}
    assert q["encounter"]["location"] == "bundles/patients.ndjson, ligne 2, Encounter/E03"
    assert "« period.start »" in q["encounter"]["reason"]
    assert "15/13/2021" in q["encounter"]["reason"]
    assert result.quarantine.num_rows == 1


def test_observation_of_unknown_category_is_quarantined(export):
    bundles = _bundles(export)
    obs = _resources(bundles[2], "Observation")[0]
    obs["category"][0]["coding"][0]["code"] = "imaging"
    _save(export, bundles)
    q = read_export(export, "fhir", "arm").quarantine.to_pylist()
    assert len(q) == 1 and q[0]["location"].endswith(f"Observation/{obs['id']}")
    assert "« category »" in q[0]["reason"] and "imaging" in q[0]["reason"]


def test_broken_bundle_line_is_quarantined_and_other_bundles_are_read(export):
    lines = (export / "bundles" / "patients.ndjson").read_text("utf-8").splitlines()
    lines[0] = lines[0][:500]
    _save(export, lines)
    result = read_export(export, "fhir", "arm")
    q = result.quarantine.to_pylist()
    assert len(q) == 1 and q[0]["location"] == "bundles/patients.ndjson, ligne 1"
    assert q[0]["check_id"] == "reader.json_syntax"
    assert sorted(result.tables["patient"]["patient_id"].to_pylist()) == ["P002", "P003"]


def test_one_bundle_per_json_file_is_read_too(export):
    bundles = _bundles(export)
    (export / "bundles" / "patients.ndjson").unlink()
    for b in bundles:
        (export / "bundles" / f"{b['id']}.json").write_text(json.dumps(b, indent=2), "utf-8")
    result = read_export(export, "fhir", "arm")
    assert result.quarantine.num_rows == 0
    assert result.tables["problem"].num_rows == 5
    assert result.tables["practitioner"].num_rows == 3


def test_unknown_gender_is_quarantined(export):
    bundles = _bundles(export)
    _resources(bundles[1], "Patient")[0]["gender"] = "homme"
    _save(export, bundles)
    q = read_export(export, "fhir", "arm").quarantine.to_pylist()
    assert len(q) == 1 and q[0]["location"] == "bundles/patients.ndjson, ligne 2, Patient/P002"
    assert "« gender »" in q[0]["reason"] and "« homme »" in q[0]["reason"]


def test_duplicated_invalid_resources_get_distinct_quarantine_ids(export):
    bundles = _bundles(export)
    entry = next(e for e in bundles[0]["entry"] if e["resource"]["resourceType"] == "Immunization")
    entry["resource"]["occurrenceDateTime"] = "2013-13-45"
    bundles[0]["entry"].append(entry)  # the same bad resource twice, as a duplicated export row
    _save(export, bundles)
    q = read_export(export, "fhir", "arm").quarantine
    assert q.num_rows == 2
    assert len(set(q["quarantine_id"].to_pylist())) == 2
    assert read_export(export, "fhir", "arm").quarantine["quarantine_id"].equals(
        q["quarantine_id"])
