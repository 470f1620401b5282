"""Writer of the ``fhir`` export (docs/formats/fhir.md): FHIR R4 collection Bundles as plain dicts.

Each resource is serialised once with ``json.dumps`` and the patient Bundles are assembled by
string concatenation, grouped by patient. Null fields are left out (FHIR forbids ``null``).
Injected dirt travels as a vendor would write it: a non-null ``raw_value`` is put as a JSON string
in ``valueQuantity.value``; an unknown sex code is written in ``gender`` as is.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from p4dp.cdm import table
from p4dp.sources import fhir as spec

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _rows(tables: dict[str, pa.Table], name: str) -> Iterator[dict]:
    """Rows as dicts with ISO dates, built column-wise (one conversion per column, not per cell)."""
    t = tables.get(name)
    if t is None:
        t = table(name).arrow_schema("staging").empty_table()
    cols = {}
    for f in t.schema:
        arr = t[f.name]
        if pa.types.is_date(f.type):
            arr = arr.cast(pa.string())
        cols[f.name] = arr.to_pylist()
    names = list(cols)
    for values in zip(*cols.values()):
        yield dict(zip(names, values))


def _clean(d: dict) -> dict:
    """Drop null and empty members (recursively one level down for lists of dicts)."""
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def _ref(kind: str, ident: str | None) -> dict | None:
    return None if ident is None else {"reference": f"{kind}/{ident}"}


def _ident(name: str, value: str) -> list[dict]:
    return [{"system": spec.ID_SYSTEM + name, "value": value}]


def _concept(system: str, code: str | None, text: str | None = None) -> dict | None:
    c = _clean({"coding": [{"system": system, "code": code}] if code is not None else None,
                "text": text})
    return c or None


def _ext(url: str, key: str, value: object) -> dict | None:
    return None if value is None else {"url": url, key: value}


def _exts(*items: dict | None) -> list[dict] | None:
    out = [e for e in items if e is not None]
    return out or None


def _organization(p: dict) -> dict:
    return _clean({
        "resourceType": "Organization", "id": p["practice_id"], "name": p["name"],
        "type": [_concept(spec.CS_PRACTICE_KIND, p["kind"])] if p["kind"] else None,
        "address": [_clean({"district": p["departement_code"], "state": p["region_code"],
                            "country": "FR"})],
    })


def _practitioner(r: dict) -> dict:
    return _clean({
        "resourceType": "Practitioner", "id": r["practitioner_id"],
        "extension": _exts(
            _ext(spec.EXT_PRACTICE, "valueReference", _ref("Organization", r["practice_id"])),
            _ext(spec.EXT_SUPERVISOR, "valueReference", _ref("Practitioner", r["supervisor_id"])),
            _ext(spec.EXT_PARTICIPATION, "valueCode", r["participation"])),
        "identifier": [{"system": spec.RPPS_SYSTEM, "value": r["rpps"]}] if r["rpps"] else None,
        "name": [_clean({"family": r["last_name"],
                         "given": [r["first_name"]] if r["first_name"] else None})],
        "gender": spec.GENDER.get(r["sex"], r["sex"]),
        "birthDate": None if r["birth_year"] is None else f"{r['birth_year']:04d}",
        "qualification": [{"code": _concept(spec.CS_ROLE, r["role"])}] if r["role"] else None,
    })


def _patient(r: dict) -> dict:
    names = [_clean({"use": "official", "family": r["last_name"],
                     "given": [r["first_name"]] if r["first_name"] else None})]
    if r["birth_name"]:
        names.append({"use": "maiden", "family": r["birth_name"]})
    telecom = [_clean({"system": s, "value": r[k]}) for s, k in (("phone", "phone"),
                                                                  ("email", "email")) if r[k]]
    relatives = [x for x in (r["relatives"] or "").split(";") if x] if r["relatives"] else []
    return _clean({
        "resourceType": "Patient", "id": r["patient_id"],
        "extension": _exts(
            _ext(spec.EXT_OPPOSITION, "valueBoolean", r["opposition"]),
            _ext(spec.EXT_REGISTERED_ON, "valueDate", r["registered_on"])),
        "identifier": [{"system": spec.NIR_SYSTEM, "value": r["nir"]}] if r["nir"] else None,
        "name": [n for n in names if len(n) > 1],
        "telecom": telecom,
        "gender": spec.GENDER.get(r["sex"], r["sex"]),
        "birthDate": r["birth_date"],
        "deceasedDateTime": r["death_date"],
        "address": [a for a in [_clean({
            "line": r["address"].split("\n") if r["address"] else None,
            "postalCode": r["postcode"], "city": r["city"], "district": r["departement_code"],
            "country": "FR"})] if len(a) > 1],
        "contact": [{"name": {"text": x}} for x in relatives],
        "generalPractitioner": [_ref("Practitioner", r["gp_id"])] if r["gp_id"] else None,
        "managingOrganization": _ref("Organization", r["practice_id"]),
    })


def _encounter(r: dict) -> dict:
    participants = [{"type": [_concept(spec.PARTICIPATION_TYPE, "PPRF")],
                     "individual": _ref("Practitioner", r["practitioner_id"])}]
    if r["supervisor_id"]:
        participants.append({"type": [_concept(spec.PARTICIPATION_TYPE, "SPRF")],
                             "individual": _ref("Practitioner", r["supervisor_id"])})
    return _clean({
        "resourceType": "Encounter", "id": r["encounter_id"], "status": "finished",
        "class": {"system": spec.ACT_CODE, "code": spec.ENCOUNTER_CLASS.get(r["kind"], "AMB")},
        "type": [_concept(spec.CS_ENCOUNTER_KIND, r["kind"])] if r["kind"] else None,
        "subject": _ref("Patient", r["patient_id"]),
        "participant": participants,
        "period": {"start": r["date"]} if r["date"] else None,
    })


def _conditions(r: dict) -> Iterator[dict]:
    """One Condition per filled part of a problem (reason, result, procedure)."""
    parts = [p for p in spec.PROBLEM_ROLES if r[f"{p}_text"] is not None
             or r[f"{p}_code"] is not None] or ["result"]
    for part in parts:
        yield _clean({
            "resourceType": "Condition",
            "id": f"{spec.CONDITION_PREFIX['problem']}{r['problem_id']}-{part}",
            "extension": _exts(_ext(spec.EXT_PROBLEM_ROLE, "valueCode", part),
                               _ext(spec.EXT_PROBLEM_RANK, "valueInteger", r["rank"])),
            "identifier": _ident("problem", r["problem_id"]),
            "category": [_concept(spec.CONDITION_CATEGORY, "encounter-diagnosis")],
            "code": _concept(spec.ICPC2, r[f"{part}_code"], r[f"{part}_text"]),
            "subject": _ref("Patient", r["patient_id"]),
            "encounter": _ref("Encounter", r["encounter_id"]),
            "recordedDate": r["date"],
            "recorder": _ref("Practitioner", r["practitioner_id"]),
        })


def _antecedent(r: dict) -> dict:
    if r["kind"] == "allergy":
        return _clean({
            "resourceType": "AllergyIntolerance", "id": r["antecedent_id"],
            "identifier": _ident("antecedent", r["antecedent_id"]),
            "code": _concept(spec.ICPC2, r["code"], r["text"]),
            "patient": _ref("Patient", r["patient_id"]), "recordedDate": r["date"],
        })
    category = [_concept(spec.CONDITION_CATEGORY, "problem-list-item")]
    if r["kind"]:
        category.append(_concept(spec.CS_ANTECEDENT_KIND, r["kind"]))
    return _clean({
        "resourceType": "Condition",
        "id": f"{spec.CONDITION_PREFIX['antecedent']}{r['antecedent_id']}",
        "identifier": _ident("antecedent", r["antecedent_id"]), "category": category,
        "code": _concept(spec.ICPC2, r["code"], r["text"]),
        "subject": _ref("Patient", r["patient_id"]), "recordedDate": r["date"],
    })


def _quantity(value: float | None, raw: str | None, unit: str | None, ucum: str | None) -> dict:
    return _clean({"value": raw if raw is not None else value, "unit": unit,
                   "system": spec.UCUM if ucum else None, "code": ucum})


#: Units of the CDM written differently in UCUM.
_UCUM = {"mmHg": "mm[Hg]"}


def _vital(r: dict) -> dict:
    loinc, display, _ = spec.VITALS.get(r["kind"], (r["kind"], None, None))
    unit = r["unit"]
    return _clean({
        "resourceType": "Observation",
        "id": f"{spec.OBS_PREFIX['biometric']}{r['biometric_id']}",
        "identifier": _ident("biometric", r["biometric_id"]), "status": "final",
        "category": [_concept(spec.OBS_CATEGORY, "vital-signs")],
        "code": {"coding": [_clean({"system": spec.LOINC, "code": loinc, "display": display})]},
        "subject": _ref("Patient", r["patient_id"]),
        "encounter": _ref("Encounter", r["encounter_id"]),
        "effectiveDateTime": r["date"],
        "valueQuantity": _quantity(r["value"], r["raw_value"], unit, _UCUM.get(unit, unit))
        if r["value"] is not None or r["raw_value"] is not None else None,
    })


def _lab(r: dict) -> dict:
    has_value = r["value"] is not None or r["raw_value"] is not None
    unit = r["raw_unit"] if r["raw_unit"] is not None else r["unit"]
    return _clean({
        "resourceType": "Observation",
        "id": f"{spec.OBS_PREFIX['lab_result']}{r['lab_result_id']}",
        "identifier": _ident("lab_result", r["lab_result_id"]), "status": "final",
        "category": [_concept(spec.OBS_CATEGORY, "laboratory")],
        "code": {"text": r["raw_label"]},
        "subject": _ref("Patient", r["patient_id"]),
        "effectiveDateTime": r["date"],
        "valueQuantity": _quantity(r["value"], r["raw_value"], unit, None) if has_value else None,
        "valueString": r["text_value"] if not has_value else None,
        "note": [{"text": r["text_value"]}] if has_value and r["text_value"] else None,
    })


def _history(r: dict) -> dict:
    return _clean({
        "resourceType": "Observation",
        "id": f"{spec.OBS_PREFIX['history']}{r['history_id']}",
        "identifier": _ident("history", r["history_id"]), "status": "final",
        "category": [_concept(spec.OBS_CATEGORY, "social-history")],
        "code": _concept(spec.CS_HISTORY_KIND, r["kind"], r["label"]),
        "subject": _ref("Patient", r["patient_id"]),
        "effectiveDateTime": r["date"],
        "valueCodeableConcept": _concept(spec.CS_HISTORY_STATUS, r["status"]),
    })


def _immunization(r: dict) -> dict:
    return _clean({
        "resourceType": "Immunization", "id": r["vaccination_id"],
        "identifier": _ident("vaccination", r["vaccination_id"]), "status": "completed",
        "vaccineCode": {"text": r["raw_label"]}, "patient": _ref("Patient", r["patient_id"]),
        "occurrenceDateTime": r["date"],
    })


def _medication_request(r: dict) -> dict:
    coding = [{"system": spec.ATC, "code": r["atc"]}] if r["atc"] else []
    if r["cis_code"]:
        coding.append({"system": spec.CIS, "code": r["cis_code"]})
    course = {True: "continuous", False: "acute"}.get(r["chronic"])
    return _clean({
        "resourceType": "MedicationRequest", "id": r["prescription_id"],
        "identifier": _ident("prescription", r["prescription_id"]), "status": "active",
        "intent": "order",
        "medicationCodeableConcept": _clean({"coding": coding, "text": r["drug_label"]}),
        "subject": _ref("Patient", r["patient_id"]),
        "encounter": _ref("Encounter", r["encounter_id"]),
        "authoredOn": r["date"], "requester": _ref("Practitioner", r["practitioner_id"]),
        "courseOfTherapyType": _concept(spec.COURSE_OF_THERAPY, course) if course else None,
        "dosageInstruction": [{"text": r["dose"]}] if r["dose"] else None,
        "dispenseRequest": {"expectedSupplyDuration": {
            "value": r["duration_days"], "unit": "d", "system": spec.UCUM, "code": "d"}}
        if r["duration_days"] is not None else None,
    })


_PER_ROW = (("encounter", _encounter), ("antecedent", _antecedent), ("biometric", _vital),
            ("lab_result", _lab), ("history", _history), ("vaccination", _immunization),
            ("prescription", _medication_request))


def _entry(resource: dict) -> str:
    return (f'{{"fullUrl":"urn:p4dp:{resource["resourceType"]}/{resource.get("id", "")}",'
            f'"resource":{_dumps(resource)}}}')


def _bundle(bundle_id: str, entries: list[str]) -> str:
    return ('{"resourceType":"Bundle","id":' + _dumps(bundle_id) + ',"type":"collection",'
            '"entry":[' + ",".join(entries) + "]}")


def write(tables: dict[str, pa.Table], out_dir: Path) -> None:
    base = out_dir / spec.FOLDER
    base.mkdir(parents=True, exist_ok=True)
    practice = [_entry(_organization(p)) for p in _rows(tables, "practice")]
    practice += [_entry(_practitioner(r)) for r in _rows(tables, "practitioner")]
    (base / spec.PRACTICE_FILE).write_text(_bundle("practice", practice) + "\n", encoding="utf-8")

    by_patient: dict[str, list[str]] = defaultdict(list)
    order: list[str] = []
    for r in _rows(tables, "patient"):
        pid = r["patient_id"]
        if pid not in by_patient:
            order.append(pid)
        by_patient[pid].append(_entry(_patient(r)))
    known = set(by_patient)
    for r in _rows(tables, "problem"):
        by_patient[r["patient_id"]].extend(_entry(c) for c in _conditions(r))
    for name, build in _PER_ROW:
        for r in _rows(tables, name):
            by_patient[r["patient_id"]].append(_entry(build(r)))
    orphans = set(by_patient) - known
    if orphans:
        raise ValueError(f"fhir writer: rows of {len(orphans)} patient(s) absent from the patient "
                         "table; the fhir format writes one Bundle per patient")
    with open(base / spec.PATIENTS_FILE, "w", encoding="utf-8", newline="\n") as f:
        for pid in order:
            f.write(_bundle(f"patient-{pid}", by_patient[pid]) + "\n")
