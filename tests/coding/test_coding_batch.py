"""`code_batch` on central-layer tables: codes filled, source codes kept, exact central schema."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from p4dp.cdm import table as cdm_table
from p4dp.coding import code_batch
from p4dp.coding.batch import conform

D = dt.date(2024, 3, 1)


def _problems() -> pa.Table:
    rows = [
        # GP-coded reason (source), free-text result and procedure
        {"problem_id": "p1", "reason_text": "toux", "reason_code": "R05", "reason_code_origin": "source",
         "result_text": "HTA", "result_code": None, "result_code_origin": "none",
         "procedure_text": "renouvellement ordonnance", "procedure_code": None, "procedure_code_origin": "none"},
        # a source code whose text says something else: still never overwritten
        {"problem_id": "p2", "reason_text": "otite", "reason_code": "H72", "reason_code_origin": "source",
         "result_text": None, "result_code": None, "result_code_origin": "none",
         "procedure_text": "pas de fièvre", "procedure_code": None, "procedure_code_origin": None},
        # stale auto code from an earlier run is recomputed
        {"problem_id": "p3", "reason_text": "mal au genou", "reason_code": "A01", "reason_code_origin": "auto",
         "result_text": "gonarthrose", "result_code": None, "result_code_origin": "none",
         "procedure_text": None, "procedure_code": None, "procedure_code_origin": "none"},
    ]
    for r in rows:
        r.update(source_id="arm", encounter_id="e", patient_id="pat", practitioner_id="gp", date=D, rank=1)
    return pa.Table.from_pylist(rows)


def test_problem_codes_are_filled_and_source_codes_kept() -> None:
    out = code_batch({"problem": _problems()})["problem"]
    rows = out.to_pylist()
    assert [r["reason_code"] for r in rows] == ["R05", "H72", "L15"]
    assert [r["reason_code_origin"] for r in rows] == ["source", "source", "auto"]
    assert [r["reason_code_confidence"] for r in rows][:2] == [1.0, 1.0]
    assert rows[0]["result_code"] == "K86" and rows[0]["result_code_origin"] == "auto"
    assert 0 < rows[0]["result_code_confidence"] <= 1
    assert "hypertension" in rows[0]["result_code_explanation"]


def test_procedure_takes_the_chapter_of_the_result() -> None:
    rows = code_batch({"problem": _problems()})["problem"].to_pylist()
    assert rows[0]["procedure_code"] == "K50"


def test_null_text_gives_origin_none_and_null_code() -> None:
    rows = code_batch({"problem": _problems()})["problem"].to_pylist()
    assert rows[1]["result_code"] is None and rows[1]["result_code_origin"] == "none"
    assert rows[1]["result_code_confidence"] is None
    assert rows[2]["procedure_code_origin"] == "none"


def test_abstention_is_an_auto_underscore_with_its_reason() -> None:
    rows = code_batch({"problem": _problems()})["problem"].to_pylist()
    assert rows[1]["procedure_code"] == "_"
    assert rows[1]["procedure_code_origin"] == "auto"
    assert rows[1]["procedure_code_explanation"].startswith("Pas de code attribué")


@pytest.mark.parametrize("name", ["problem", "antecedent", "vaccination", "prescription", "lab_result"])
def test_outputs_have_the_exact_central_schema(name: str) -> None:
    schema = cdm_table(name).arrow_schema("central")
    empty = pa.Table.from_pylist([], schema=pa.schema([f for f in schema if f.name != "batch_id"]))
    out = code_batch({name: empty})[name]
    assert out.schema.names == schema.names
    assert out.schema.types == schema.types


def test_problem_schema_is_exact_when_rows_are_coded() -> None:
    out = code_batch({"problem": _problems()})["problem"]
    schema = cdm_table("problem").arrow_schema("central")
    assert out.schema.names == schema.names and out.schema.types == schema.types
    assert out.num_rows == 3


def test_antecedents_family_history_is_a_risk_factor_and_source_is_kept() -> None:
    t = pa.Table.from_pylist([
        {"antecedent_id": "a1", "kind": "family", "text": "diabète", "code": None, "code_origin": "none"},
        {"antecedent_id": "a2", "kind": "medical", "text": "diabète type 2", "code": None, "code_origin": "none"},
        {"antecedent_id": "a3", "kind": "medical", "text": "asthme", "code": "R96", "code_origin": "source"},
        {"antecedent_id": "a4", "kind": "family", "text": "infarctus", "code": None, "code_origin": "none"},
    ], schema=None)
    t = t.append_column("source_id", pa.array(["arm"] * 4)).append_column("patient_id", pa.array(["p"] * 4))
    rows = code_batch({"antecedent": t})["antecedent"].to_pylist()
    assert [r["code"] for r in rows] == ["A23", "T90", "R96", "K22"]
    assert [r["code_origin"] for r in rows] == ["auto", "auto", "source", "auto"]
    assert rows[2]["code_confidence"] == 1.0


def test_vaccination_labels_get_product_and_valences() -> None:
    t = conform("vaccination", pa.Table.from_pylist([
        {"source_id": "arm", "vaccination_id": "v1", "patient_id": "p", "date": D, "raw_label": "REVAXIS"},
        {"source_id": "arm", "vaccination_id": "v2", "patient_id": "p", "date": D, "raw_label": "DTCP"},
    ]))
    rows = code_batch({"vaccination": t})["vaccination"].to_pylist()
    assert rows[0]["product"] == "REVAXIS"
    assert sorted(rows[0]["valences"]) == sorted(["d", "T", "P"])
    assert "T" in rows[1]["valences"]


def test_prescription_atc_filled_only_where_null() -> None:
    t = conform("prescription", pa.Table.from_pylist([
        {"source_id": "arm", "prescription_id": "r1", "patient_id": "p", "date": D,
         "drug_label": "DOLIPRANE 1000mg cp", "atc": None},
        {"source_id": "arm", "prescription_id": "r2", "patient_id": "p", "date": D,
         "drug_label": "amoxicilline 1g", "atc": "J01CA04"},
        {"source_id": "arm", "prescription_id": "r3", "patient_id": "p", "date": D,
         "drug_label": "DOLIPRANE 500", "atc": "X99ZZ99"},
    ]))
    rows = code_batch({"prescription": t})["prescription"].to_pylist()
    assert [r["atc"] for r in rows] == ["N02BE01", "J01CA04", "X99ZZ99"]


def test_lab_results_get_exam_code_and_canonical_unit_keeping_the_raw_unit() -> None:
    t = conform("lab_result", pa.Table.from_pylist([
        {"source_id": "arm", "lab_result_id": "l1", "patient_id": "p", "date": D,
         "raw_label": "HbA1c", "value": 53.0, "unit": "mmol/mol"},
        {"source_id": "arm", "lab_result_id": "l2", "patient_id": "p", "date": D,
         "raw_label": "I.N.R.", "value": 2.4, "unit": None},
        {"source_id": "arm", "lab_result_id": "l3", "patient_id": "p", "date": D,
         "raw_label": "examen inconnu xyz", "value": 4.0, "unit": "bidule"},
    ]))
    rows = code_batch({"lab_result": t})["lab_result"].to_pylist()
    assert rows[0]["exam_code"] == "HBA1C" and rows[0]["loinc"] == "4548-4"
    assert rows[0]["unit"] == "%" and rows[0]["value"] == pytest.approx(7.0, abs=0.1)
    assert rows[0]["raw_unit"] == "mmol/mol" and rows[0]["repair_rule"]
    assert rows[1]["exam_code"] == "INR" and rows[1]["value"] == 2.4 and rows[1]["repair_rule"] is None
    assert rows[2]["exam_code"] is None and rows[2]["value"] == 4.0 and rows[2]["unit"] == "bidule"


def test_other_tables_pass_through_untouched() -> None:
    patient = pa.table({"patient_id": ["p"]})
    out = code_batch({"patient": patient})
    assert out["patient"] is patient
