"""Writer of the ``jsonl`` export (docs/formats/jsonl.md): the nested patient documents are built
by DuckDB (list aggregation + ``to_json``), never row by row in Python.

Duplicated rows (injected dirt) are written twice; their children are nested under the first
occurrence only, so that reading the export back duplicates exactly the duplicated rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from p4dp.sources import jsonl as spec
from p4dp.synth.writers._batches import check_patients, with_order, write_patient_documents

_CHILD_TABLES = ("patient", "encounter", "problem", "biometric", "prescription", "lab_result",
                 "antecedent", "history", "vaccination")


def _lit(v: object) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return str(v)


def _case(col: str, mapping: dict) -> str:
    """CDM value → vendor code as JSON; a value outside the mapping (dirt) is written as is."""
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(json.dumps(v))}::JSON"
                     for k, v in mapping.items())
    return f"CASE {col} {whens} ELSE to_json({col}) END"


def _value(alias: str) -> str:
    """A JSON number, or the raw text verbatim (a JSON string) when the export carries dirt."""
    return (f"CASE WHEN {alias}.raw_value IS NOT NULL THEN to_json({alias}.raw_value) "
            f"WHEN isfinite({alias}.value) THEN to_json({alias}.value) END")


def _json_list(expr: str, order: str) -> str:
    """A JSON array of objects, aggregated as text: DuckDB's ``to_json`` on nested LIST values is
    slow (measured: 1.6 s for 300 patient documents), on flat structs it is fast."""
    return f"('[' || string_agg(to_json({expr})::VARCHAR, ',' ORDER BY {order}) || ']')"


def _with_members(struct: str, members: dict[str, str]) -> str:
    """``to_json(struct)`` with JSON texts appended as members, by string concatenation: embedding
    them as JSON values would make DuckDB parse them again (measured 10k visits/s)."""
    tail = " || ".join(f"',\"{k}\":' || coalesce({v}, 'null')" for k, v in members.items())
    text = f"to_json({struct})::VARCHAR"
    return f"(substr({text}, 1, length({text}) - 1) || {tail} || '}}')"


def _sql() -> str:
    c = spec.CODES
    parts = ", ".join(
        f"{key} := struct_pack(text := pb.{part}_text, cisp := pb.{part}_code)"
        for part, key in spec.PROBLEM_PARTS.items())
    lab = f"""struct_pack(labId := lab_result_id, sampledOn := date, test := raw_label,
        value := {_value("lab_result")}, unit := coalesce(raw_unit, unit),
        textResult := text_value)"""
    antecedent = f"""struct_pack(antecedentId := antecedent_id,
        category := {_case("kind", c["antecedent.kind"])}, "on" := date, text := text,
        cisp := code)"""
    habit = f"""struct_pack(habitId := history_id, "on" := date,
        category := {_case("kind", c["history.kind"])}, label := label,
        status := {_case("status", c["history.status"])})"""
    vaccine = 'struct_pack(vaccineId := vaccination_id, "on" := date, label := raw_label)'
    visit = _with_members(
        f"""struct_pack(visitId := ef.encounter_id, staffId := ef.practitioner_id,
            supervisorId := ef.supervisor_id, "on" := ef.date,
            mode := {_case("ef.kind", c["encounter.kind"])})""",
        {"problems": "pb_v.l", "vitals": "b_v.l", "prescriptions": "r_v.l"})
    document = _with_members(
        f"""struct_pack(
        pid := pf.patient_id, practiceCode := pf.practice_id, referringStaffId := pf.gp_id,
        gender := {_case("pf.sex", spec.GENDER)},
        identity := struct_pack(familyName := pf.last_name, birthName := pf.birth_name,
                                givenName := pf.first_name, dob := pf.birth_date, nir := pf.nir),
        deceasedOn := pf.death_date,
        contact := struct_pack(street := pf.address, zip := pf.postcode, town := pf.city,
                               department := pf.departement_code, phone := pf.phone,
                               email := pf.email),
        relatives := string_split(pf.relatives, '{spec.RELATIVES_SEPARATOR}'),
        fileOpenedOn := pf.registered_on, optOut := pf.opposition)""",
        {"visits": "vis.l", "problems": "pb_p.l", "vitals": "b_p.l", "prescriptions": "r_p.l",
         "labs": "l_p.l", "pastHistory": "a_p.l", "habits": "h_p.l", "vaccines": "v_p.l"})
    return f"""
    WITH
    pf0 AS (SELECT *, row_number() OVER (PARTITION BY patient_id ORDER BY _ord) = 1 AS _first
            FROM patient),
    ef0 AS (SELECT *, row_number() OVER (PARTITION BY encounter_id ORDER BY _ord) = 1 AS _first
            FROM encounter),
    -- Children join on these keys, null for repeated rows: a plain equi-join (a condition like
    -- "_first AND id = id" made DuckDB choose a nested-loop join).
    pf AS (SELECT *, CASE WHEN _first THEN patient_id END AS _key FROM pf0),
    ef AS (SELECT *, CASE WHEN _first THEN encounter_id END AS _key FROM ef0),
    e1 AS (SELECT encounter_id, patient_id, practitioner_id, date FROM ef WHERE _first),
    pbj AS (
        SELECT pb.patient_id, pb.encounter_id, pb._ord, e1.encounter_id IS NOT NULL AS _nested,
            struct_pack(
                problemId := pb.problem_id, "order" := pb.rank,
                visitId := CASE WHEN e1.encounter_id IS NULL THEN pb.encounter_id END,
                staffId := CASE WHEN pb.practitioner_id IS DISTINCT FROM e1.practitioner_id
                                THEN pb.practitioner_id END,
                "on" := CASE WHEN pb.date IS DISTINCT FROM e1.date THEN pb.date END,
                {parts}) AS obj
        FROM problem pb LEFT JOIN e1
          ON pb.encounter_id = e1.encounter_id AND pb.patient_id = e1.patient_id),
    bj AS (
        SELECT b.patient_id, b.encounter_id, b._ord, e1.encounter_id IS NOT NULL AS _nested,
            struct_pack(
                vitalId := b.biometric_id, type := {_case("b.kind", c["biometric.kind"])},
                value := {_value("b")}, unit := b.unit,
                visitId := CASE WHEN e1.encounter_id IS NULL THEN b.encounter_id END,
                takenOn := CASE WHEN b.date IS DISTINCT FROM e1.date THEN b.date END) AS obj
        FROM biometric b LEFT JOIN e1
          ON b.encounter_id = e1.encounter_id AND b.patient_id = e1.patient_id),
    rj AS (
        SELECT r.patient_id, r.encounter_id, r._ord, e1.encounter_id IS NOT NULL AS _nested,
            struct_pack(
                rxId := r.prescription_id,
                visitId := CASE WHEN e1.encounter_id IS NULL THEN r.encounter_id END,
                staffId := CASE WHEN r.practitioner_id IS DISTINCT FROM e1.practitioner_id
                                THEN r.practitioner_id END,
                prescribedOn := CASE WHEN r.date IS DISTINCT FROM e1.date THEN r.date END,
                drug := r.drug_label, atc := r.atc, cis := r.cis_code, posology := r.dose,
                days := r.duration_days, longTerm := r.chronic) AS obj
        FROM prescription r LEFT JOIN e1
          ON r.encounter_id = e1.encounter_id AND r.patient_id = e1.patient_id),
    pb_v AS (SELECT encounter_id, {_json_list('obj', '_ord')} AS l FROM pbj WHERE _nested
             GROUP BY encounter_id),
    b_v AS (SELECT encounter_id, {_json_list('obj', '_ord')} AS l FROM bj WHERE _nested
            GROUP BY encounter_id),
    r_v AS (SELECT encounter_id, {_json_list('obj', '_ord')} AS l FROM rj WHERE _nested
            GROUP BY encounter_id),
    vis AS (
        SELECT ef.patient_id, ('[' || string_agg({visit},
            ',' ORDER BY ef._ord) || ']') AS l
        FROM ef
        LEFT JOIN pb_v ON pb_v.encounter_id = ef._key
        LEFT JOIN b_v ON b_v.encounter_id = ef._key
        LEFT JOIN r_v ON r_v.encounter_id = ef._key
        GROUP BY ef.patient_id),
    pb_p AS (SELECT patient_id, {_json_list('obj', '_ord')} AS l FROM pbj WHERE NOT _nested
             GROUP BY patient_id),
    b_p AS (SELECT patient_id, {_json_list('obj', '_ord')} AS l FROM bj WHERE NOT _nested
            GROUP BY patient_id),
    r_p AS (SELECT patient_id, {_json_list('obj', '_ord')} AS l FROM rj WHERE NOT _nested
            GROUP BY patient_id),
    l_p AS (SELECT patient_id, {_json_list(lab, "_ord")} AS l FROM lab_result GROUP BY patient_id),
    a_p AS (SELECT patient_id, {_json_list(antecedent, "_ord")} AS l FROM antecedent
            GROUP BY patient_id),
    h_p AS (SELECT patient_id, {_json_list(habit, "_ord")} AS l FROM history GROUP BY patient_id),
    v_p AS (SELECT patient_id, {_json_list(vaccine, "_ord")} AS l FROM vaccination
            GROUP BY patient_id)
    SELECT {document} AS line
    FROM pf
    LEFT JOIN vis ON vis.patient_id = pf._key
    LEFT JOIN pb_p ON pb_p.patient_id = pf._key
    LEFT JOIN b_p ON b_p.patient_id = pf._key
    LEFT JOIN r_p ON r_p.patient_id = pf._key
    LEFT JOIN l_p ON l_p.patient_id = pf._key
    LEFT JOIN a_p ON a_p.patient_id = pf._key
    LEFT JOIN h_p ON h_p.patient_id = pf._key
    LEFT JOIN v_p ON v_p.patient_id = pf._key
    ORDER BY pf._ord
    """


def _practice_document(tables: dict[str, pa.Table]) -> dict:
    c = spec.CODES
    practice = tables["practice"].to_pylist() if "practice" in tables else []
    staff = tables["practitioner"].to_pylist() if "practitioner" in tables else []
    p = practice[0] if practice else {}

    def code(mapping: dict, v: object) -> object:
        return mapping.get(v, v)

    return {
        "practiceCode": p.get("practice_id"), "practiceName": p.get("name"),
        "regionInsee": p.get("region_code"), "departmentInsee": p.get("departement_code"),
        "structureType": code(c["practice.kind"], p.get("kind")),
        "staff": [{
            "staffId": s["practitioner_id"], "familyName": s["last_name"],
            "givenName": s["first_name"], "gender": code(spec.GENDER, s["sex"]),
            "yearOfBirth": s["birth_year"], "function": code(c["practitioner.role"], s["role"]),
            "supervisorStaffId": s["supervisor_id"],
            "dataSharing": code(c["practitioner.participation"], s["participation"]),
            "rpps": s["rpps"]} for s in staff],
    }


def write(tables: dict[str, pa.Table], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / spec.PRACTICE_FILE).write_text(
        json.dumps(_practice_document(tables), ensure_ascii=False, indent=1), encoding="utf-8")
    ordered = with_order(tables, _CHILD_TABLES)
    check_patients(ordered, "jsonl")
    write_patient_documents(out_dir / spec.PATIENTS_FILE, ordered, _sql())
