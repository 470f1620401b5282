"""Reader of the ``jsonl`` export (docs/formats/jsonl.md): ``practice.json`` (the practice and its
staff) and ``patients.jsonl``, one JSON document per patient per line, UTF-8, ISO dates, camelCase
field names, consultations (``visits``) nested with their problems, vitals and prescriptions; lab
results, vaccines, past history and habits nested under the patient.

The vocabulary below is the format's single definition; the synthetic writer imports it. JSON
parsing is per document (Python); fields are then gathered column by column and converted to
Arrow every ``JSON_CHUNK`` documents, which bounds memory.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.sources._common import (
    JSON_CHUNK,
    Candidate,
    Quarantine,
    concat_or_empty,
    conform,
    decode_bytes,
    empty_tables,
    iter_lines,
    parse_dates,
)

FORMAT = "jsonl"
PRACTICE_FILE = "practice.json"
PATIENTS_FILE = "patients.jsonl"

#: INSEE sex codes, as in the first digit of the NIR.
GENDER = {"M": 1, "F": 2}
CODES: dict[str, dict[str, object]] = {
    "practice.kind": {"cabinet": "solo", "msp": "msp", "centre_sante": "health_centre"},
    "practitioner.role": {"gp": "physician", "intern": "resident"},
    "practitioner.participation": {"active": "granted", "withdrawn": "revoked"},
    "encounter.kind": {"cabinet": "office", "visite": "home", "teleconsultation": "video",
                       "telephone": "phone", "autre": "other"},
    "biometric.kind": {"weight": "WEIGHT", "height": "HEIGHT", "bmi": "BMI",
                       "systolic_bp": "BP_SYS", "diastolic_bp": "BP_DIA", "heart_rate": "PULSE",
                       "temperature": "TEMP", "head_circumference": "HEAD_CIRC",
                       "waist_circumference": "WAIST"},
    "antecedent.kind": {"medical": "MED", "surgical": "SURG", "family": "FAM",
                        "allergy": "ALLERGY"},
    "history.kind": {"tobacco": "smoking", "alcohol": "alcohol", "drugs": "substances",
                     "occupation": "job", "family_situation": "family",
                     "physical_activity": "sport"},
    "history.status": {"yes": "Y", "no": "N", "former": "EX", "unknown": "?"},
}
#: Problem parts: CDM prefix → JSON object name.
PROBLEM_PARTS = {"reason": "reason", "result": "diagnosis", "procedure": "procedure"}
#: Separator of the CDM's ``relatives`` column; the JSON has a list.
RELATIVES_SEPARATOR = ";"


class _Rows:
    """Objects of one kind gathered from the documents, with where each came from."""

    def __init__(self, table_name: str):
        self.table_name = table_name
        self.objs: list[dict] = []
        self.lines: list[int] = []
        self.pointers: list[str] = []
        self.parents: list[dict] = []  # the enclosing visit (or patient document)
        self.pids: list[object] = []

    def add(self, obj: object, line: int, pointer: str, parent: dict, pid: object,
            quarantine: Quarantine, filename: str) -> None:
        if not isinstance(obj, dict):
            where = f"{filename}, ligne {line}, {pointer}"
            quarantine.add(table_name=self.table_name, check_id="reader.json_bad_object",
                           reason=f"{where} — objet JSON attendu, trouvé {type(obj).__name__}",
                           location=where, record=obj, patient_id=_str(pid))
            return
        self.objs.append(obj)
        self.lines.append(line)
        self.pointers.append(pointer)
        self.parents.append(parent)
        self.pids.append(pid)

    def get(self, key: str) -> list:
        return [o.get(key) for o in self.objs]

    def candidate(self, filename: str, labels: dict[str, str]) -> Candidate:
        lines, pointers, objs = self.lines, self.pointers, self.objs
        return Candidate(self.table_name, {}, labels,
                         lambda i: f"{filename}, ligne {lines[i]}, {pointers[i] or '/'}",
                         lambda i: objs[i])


def _str(v: object) -> str | None:
    if v is None or isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else str(v)


def strings(values: list) -> pa.Array:
    """JSON values of a text field as strings (ids written as numbers by some exports are kept)."""
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_str(v) for v in values], pa.string())


def numbers(cand: Candidate, values: list, raw_col: str | None = "raw_value") -> pa.Array:
    """JSON numbers → value; any other value (``"45,30"``) → raw text, value null (CONTRACTS.md)."""
    value = [v if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
             else None for v in values]
    if raw_col:
        cand.columns[raw_col] = strings(
            [None if (v is None or x is not None) else v for v, x in zip(values, value)])
    return pa.array(value, pa.float64())


def code(cand: Candidate, values: list, mapping: dict, label: str) -> pa.Array:
    """Vendor code → CDM value; an unknown code goes to quarantine naming the field."""
    inverse = {v: k for k, v in mapping.items()}
    out = [inverse.get(v) if isinstance(v, str | int) and not isinstance(v, bool) else None
           for v in values]
    bad = [v is not None and o is None for v, o in zip(values, out)]
    mask = np.asarray(bad, dtype=bool)
    accepted = ", ".join(str(v) for v in mapping.values())
    cand.reject(mask, label, "reader.unknown_code",
                "code inconnu « {value} » (codes admis : " + accepted + ")", values)
    return pa.array(out, pa.string())


def booleans(cand: Candidate, values: list, label: str) -> pa.Array:
    out = [v if isinstance(v, bool) else None for v in values]
    mask = np.asarray([v is not None and not isinstance(v, bool) for v in values], dtype=bool)
    cand.reject(mask, label, "reader.unknown_code", "booléen attendu (true/false), trouvé "
                "« {value} »", values)
    return pa.array(out, pa.bool_())


def _sub(objs: list[dict], key: str, field: str) -> list:
    out = []
    for o in objs:
        s = o.get(key)
        out.append(s.get(field) if isinstance(s, dict) else None)
    return out


def _children(doc: dict, key: str, line: int, base: str, quarantine: Quarantine,
              filename: str) -> list[tuple[int, object]]:
    items = doc.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        where = f"{filename}, ligne {line}, {base}/{key}"
        quarantine.add(table_name="patient", check_id="reader.json_bad_object",
                       reason=f"{where} — liste attendue, trouvé {type(items).__name__}",
                       location=where, record=items, patient_id=_str(doc.get("pid")))
        return []
    return list(enumerate(items))


def read(folder: Path, source_id: str) -> tuple[dict[str, pa.Table], Quarantine]:
    quarantine = Quarantine(source_id)
    tables = empty_tables()
    _read_practice(folder, source_id, tables, quarantine)
    path = folder / PATIENTS_FILE
    if not path.exists():
        return tables, quarantine
    fn = PATIENTS_FILE
    builders = {"patient": _patients, "encounter": _encounters, "problem": _problems,
                "biometric": _biometrics, "prescription": _prescriptions,
                "lab_result": _labs, "antecedent": _antecedents, "history": _history,
                "vaccination": _vaccinations}
    parts: dict[str, list[pa.Table]] = {name: [] for name in builders}
    rows = {name: _Rows(name) for name in builders}
    documents = 0
    for line, raw in iter_lines(path):
        if not raw.strip():
            continue
        documents += 1
        if documents % JSON_CHUNK == 0:
            for name, r in rows.items():
                parts[name].append(conform(builders[name](r, fn), source_id, quarantine))
            rows = {name: _Rows(name) for name in builders}
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as e:
            where = f"{fn}, ligne {line}"
            quarantine.add(table_name="patient", check_id="reader.json_syntax",
                           reason=f"{where}, colonne {e.colno} — JSON illisible ({e.msg}) ; le "
                                  "document du patient entier est écarté, corriger l'export",
                           location=where, record=raw)
            continue
        _read_document(doc, line, rows, quarantine)
    for name, r in rows.items():
        parts[name].append(conform(builders[name](r, fn), source_id, quarantine))
    for name, tables_of_name in parts.items():
        tables[name] = concat_or_empty(tables_of_name, name)
    return tables, quarantine


def _read_document(doc: object, line: int, rows: dict[str, _Rows], quarantine: Quarantine
                   ) -> None:
    fn = PATIENTS_FILE
    if not isinstance(doc, dict):
        rows["patient"].add(doc, line, "", {}, None, quarantine, fn)
        return
    pid = doc.get("pid")
    rows["patient"].add(doc, line, "", {}, pid, quarantine, fn)
    for vi, visit in _children(doc, "visits", line, "", quarantine, fn):
        rows["encounter"].add(visit, line, f"/visits/{vi}", doc, pid, quarantine, fn)
        if not isinstance(visit, dict):
            continue
        for key, name in (("problems", "problem"), ("vitals", "biometric"),
                          ("prescriptions", "prescription")):
            for ci, child in _children(visit, key, line, f"/visits/{vi}", quarantine, fn):
                rows[name].add(child, line, f"/visits/{vi}/{key}/{ci}", visit, pid,
                               quarantine, fn)
    for key, name in (("problems", "problem"), ("vitals", "biometric"),
                      ("prescriptions", "prescription"), ("labs", "lab_result"),
                      ("pastHistory", "antecedent"), ("habits", "history"),
                      ("vaccines", "vaccination")):
        for ci, child in _children(doc, key, line, "", quarantine, fn):
            rows[name].add(child, line, f"/{key}/{ci}", {}, pid, quarantine, fn)


def _inherit(r: _Rows, key: str, parent_key: str) -> list:
    """A nested record's field, or its visit's when the record does not override it."""
    return [o.get(key) if o.get(key) is not None else p.get(parent_key)
            for o, p in zip(r.objs, r.parents)]


def _patients(r: _Rows, fn: str) -> Candidate:
    c = r.candidate(fn, {"patient_id": "pid", "practice_id": "practiceCode",
                         "gp_id": "referringStaffId", "sex": "gender", "birth_date": "identity.dob",
                         "death_date": "deceasedOn", "registered_on": "fileOpenedOn",
                         "opposition": "optOut", "departement_code": "contact.department"})
    c.columns["patient_id"] = strings(r.get("pid"))
    c.columns["practice_id"] = strings(r.get("practiceCode"))
    c.columns["gp_id"] = strings(r.get("referringStaffId"))
    c.columns["sex"] = code(c, r.get("gender"), GENDER, "gender")
    ident = {"last_name": "familyName", "birth_name": "birthName", "first_name": "givenName",
             "birth_date": "dob", "nir": "nir"}
    for col, key in ident.items():
        c.columns[col] = strings(_sub(r.objs, "identity", key))
    contact = {"address": "street", "postcode": "zip", "city": "town",
               "departement_code": "department", "phone": "phone", "email": "email"}
    for col, key in contact.items():
        c.columns[col] = strings(_sub(r.objs, "contact", key))
    c.columns["death_date"] = strings(r.get("deceasedOn"))
    c.columns["registered_on"] = strings(r.get("fileOpenedOn"))
    c.columns["opposition"] = booleans(c, r.get("optOut"), "optOut")
    c.columns["relatives"] = strings([
        RELATIVES_SEPARATOR.join(str(x) for x in v) if isinstance(v, list) and v else
        (v if isinstance(v, str) else None) for v in r.get("relatives")])
    # The year and month of birth come from the full date of birth.
    bd, _ = parse_dates(c.columns["birth_date"])
    c.columns["birth_year"] = pc.year(bd).cast(pa.int16())
    c.columns["birth_month"] = pc.month(bd).cast(pa.int16())
    return c


def _encounters(r: _Rows, fn: str) -> Candidate:
    c = r.candidate(fn, {"encounter_id": "visitId", "practitioner_id": "staffId",
                         "supervisor_id": "supervisorId", "date": "on", "kind": "mode",
                         "patient_id": "pid"})
    c.columns["encounter_id"] = strings(r.get("visitId"))
    c.columns["patient_id"] = strings(r.pids)
    c.columns["practitioner_id"] = strings(r.get("staffId"))
    c.columns["supervisor_id"] = strings(r.get("supervisorId"))
    c.columns["date"] = strings(r.get("on"))
    c.columns["kind"] = code(c, r.get("mode"), CODES["encounter.kind"], "mode")
    return c


def _problems(r: _Rows, fn: str) -> Candidate:
    c = r.candidate(fn, {"problem_id": "problemId", "encounter_id": "visitId",
                         "practitioner_id": "staffId", "date": "on", "rank": "order",
                         "patient_id": "pid"})
    c.columns["problem_id"] = strings(r.get("problemId"))
    c.columns["encounter_id"] = strings(_inherit(r, "visitId", "visitId"))
    c.columns["patient_id"] = strings(r.pids)
    c.columns["practitioner_id"] = strings(_inherit(r, "staffId", "staffId"))
    c.columns["date"] = strings(_inherit(r, "on", "on"))
    c.columns["rank"] = strings(r.get("order"))
    for part, key in PROBLEM_PARTS.items():
        c.labels[f"{part}_text"] = f"{key}.text"
        c.columns[f"{part}_text"] = strings(_sub(r.objs, key, "text"))
        codes = strings(_sub(r.objs, key, "cisp"))
        c.columns[f"{part}_code"] = codes
        c.columns[f"{part}_code_origin"] = pa.array(
            ["none" if v is None else "source" for v in codes.to_pylist()], pa.string())
    return c


def _biometrics(r: _Rows, fn: str) -> Candidate:
    c = r.candidate(fn, {"biometric_id": "vitalId", "encounter_id": "visitId", "date": "takenOn",
                         "kind": "type", "value": "value", "unit": "unit", "patient_id": "pid"})
    c.columns["biometric_id"] = strings(r.get("vitalId"))
    c.columns["patient_id"] = strings(r.pids)
    c.columns["encounter_id"] = strings(_inherit(r, "visitId", "visitId"))
    c.columns["date"] = strings(_inherit(r, "takenOn", "on"))
    c.columns["kind"] = code(c, r.get("type"), CODES["biometric.kind"], "type")
    c.columns["value"] = numbers(c, r.get("value"))
    c.columns["unit"] = strings(r.get("unit"))
    return c


def _prescriptions(r: _Rows, fn: str) -> Candidate:
    c = r.candidate(fn, {"prescription_id": "rxId", "encounter_id": "visitId",
                         "practitioner_id": "staffId", "date": "prescribedOn",
                         "drug_label": "drug", "duration_days": "days", "chronic": "longTerm",
                         "patient_id": "pid"})
    c.columns["prescription_id"] = strings(r.get("rxId"))
    c.columns["patient_id"] = strings(r.pids)
    c.columns["encounter_id"] = strings(_inherit(r, "visitId", "visitId"))
    c.columns["practitioner_id"] = strings(_inherit(r, "staffId", "staffId"))
    c.columns["date"] = strings(_inherit(r, "prescribedOn", "on"))
    for col, key in (("drug_label", "drug"), ("atc", "atc"), ("cis_code", "cis"),
                     ("dose", "posology")):
        c.columns[col] = strings(r.get(key))
    c.columns["duration_days"] = strings(r.get("days"))
    c.columns["chronic"] = booleans(c, r.get("longTerm"), "longTerm")
    return c


def _labs(r: _Rows, fn: str) -> Candidate:
    c = r.candidate(fn, {"lab_result_id": "labId", "date": "sampledOn", "raw_label": "test",
                         "value": "value", "patient_id": "pid"})
    c.columns["lab_result_id"] = strings(r.get("labId"))
    c.columns["patient_id"] = strings(r.pids)
    c.columns["date"] = strings(r.get("sampledOn"))
    c.columns["raw_label"] = strings(r.get("test"))
    c.columns["value"] = numbers(c, r.get("value"))
    unit = strings(r.get("unit"))
    c.columns["unit"] = unit
    c.columns["raw_unit"] = unit
    c.columns["text_value"] = strings(r.get("textResult"))
    return c


def _antecedents(r: _Rows, fn: str) -> Candidate:
    c = r.candidate(fn, {"antecedent_id": "antecedentId", "kind": "category", "date": "on",
                         "patient_id": "pid"})
    c.columns["antecedent_id"] = strings(r.get("antecedentId"))
    c.columns["patient_id"] = strings(r.pids)
    c.columns["kind"] = code(c, r.get("category"), CODES["antecedent.kind"], "category")
    c.columns["date"] = strings(r.get("on"))
    c.columns["text"] = strings(r.get("text"))
    codes = strings(r.get("cisp"))
    c.columns["code"] = codes
    c.columns["code_origin"] = pa.array(
        ["none" if v is None else "source" for v in codes.to_pylist()], pa.string())
    return c


def _history(r: _Rows, fn: str) -> Candidate:
    c = r.candidate(fn, {"history_id": "habitId", "kind": "category", "status": "status",
                         "date": "on", "label": "label", "patient_id": "pid"})
    c.columns["history_id"] = strings(r.get("habitId"))
    c.columns["patient_id"] = strings(r.pids)
    c.columns["date"] = strings(r.get("on"))
    c.columns["kind"] = code(c, r.get("category"), CODES["history.kind"], "category")
    c.columns["label"] = strings(r.get("label"))
    c.columns["status"] = code(c, r.get("status"), CODES["history.status"], "status")
    return c


def _vaccinations(r: _Rows, fn: str) -> Candidate:
    c = r.candidate(fn, {"vaccination_id": "vaccineId", "date": "on", "raw_label": "label",
                         "patient_id": "pid"})
    c.columns["vaccination_id"] = strings(r.get("vaccineId"))
    c.columns["patient_id"] = strings(r.pids)
    c.columns["date"] = strings(r.get("on"))
    c.columns["raw_label"] = strings(r.get("label"))
    return c


def _read_practice(folder: Path, source_id: str, tables: dict[str, pa.Table],
                   quarantine: Quarantine) -> None:
    path = folder / PRACTICE_FILE
    if not path.exists():
        return
    try:
        doc = json.loads(decode_bytes(path.read_bytes())[0])
        if not isinstance(doc, dict):
            raise ValueError("objet JSON attendu")
    except (json.JSONDecodeError, ValueError) as e:
        quarantine.add(table_name="practice", check_id="reader.json_syntax",
                       reason=f"{PRACTICE_FILE} — JSON illisible ({e}) ; corriger l'export",
                       location=PRACTICE_FILE, record=None)
        return
    pr = _Rows("practice")
    pr.add(doc, 1, "", {}, None, quarantine, PRACTICE_FILE)
    c = pr.candidate(PRACTICE_FILE, {"practice_id": "practiceCode", "name": "practiceName",
                                     "region_code": "regionInsee",
                                     "departement_code": "departmentInsee",
                                     "kind": "structureType"})
    c.location = lambda i: PRACTICE_FILE
    for col, key in (("practice_id", "practiceCode"), ("name", "practiceName"),
                     ("region_code", "regionInsee"), ("departement_code", "departmentInsee")):
        c.columns[col] = strings(pr.get(key))
    c.columns["kind"] = code(c, pr.get("structureType"), CODES["practice.kind"], "structureType")
    c.columns["vendor_format"] = pa.array([FORMAT], pa.string())
    tables["practice"] = conform(c, source_id, quarantine)

    staff = _Rows("practitioner")
    for i, s in _children(doc, "staff", 1, "", quarantine, PRACTICE_FILE):
        staff.add(s, 1, f"/staff/{i}", doc, doc.get("practiceCode"), quarantine, PRACTICE_FILE)
    c = staff.candidate(PRACTICE_FILE, {"practitioner_id": "staffId", "sex": "gender",
                                        "birth_year": "yearOfBirth", "role": "function",
                                        "supervisor_id": "supervisorStaffId",
                                        "participation": "dataSharing"})
    pointers = staff.pointers
    c.location = lambda i: f"{PRACTICE_FILE}, {pointers[i]}"
    c.columns["practitioner_id"] = strings(staff.get("staffId"))
    c.columns["practice_id"] = strings(staff.pids)
    c.columns["sex"] = code(c, staff.get("gender"), GENDER, "gender")
    c.columns["birth_year"] = strings(staff.get("yearOfBirth"))
    c.columns["role"] = code(c, staff.get("function"), CODES["practitioner.role"], "function")
    c.columns["supervisor_id"] = strings(staff.get("supervisorStaffId"))
    c.columns["participation"] = code(c, staff.get("dataSharing"),
                                      CODES["practitioner.participation"], "dataSharing")
    for col, key in (("last_name", "familyName"), ("first_name", "givenName"), ("rpps", "rpps")):
        c.columns[col] = strings(staff.get(key))
    tables["practitioner"] = conform(c, source_id, quarantine)


def looks_like(folder: Path) -> bool:
    return (folder / PATIENTS_FILE).exists()
