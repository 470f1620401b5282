"""Reader of the ``fhir`` export (docs/formats/fhir.md): FHIR R4 ``collection`` Bundles.

``bundles/practice.json`` holds the Organization and its Practitioners; ``bundles/patients.ndjson``
holds one Bundle per patient per line (Patient, Encounter, Condition, AllergyIntolerance,
Observation, Immunization, MedicationRequest). Any other ``bundles/*.json`` (one Bundle per file)
or ``bundles/*.ndjson`` file is read the same way. Plain dicts and ``json``: the reader needs a
few paths per resource, not a FHIR object model. JSON parsing is per Bundle (Python); rows are
gathered as lists and converted to Arrow every ``JSON_CHUNK`` Bundles, which bounds memory.

The vocabulary below is the format's single definition; the synthetic writer imports it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
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

FORMAT = "fhir"
FOLDER = "bundles"
PRACTICE_FILE = "practice.json"
PATIENTS_FILE = "patients.ndjson"

# Code systems: French OIDs from the ANS (NIR: INS-NIR identifier system; RPPS), international URIs
# from the FHIR R4 terminology pages.
NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
ICPC2 = "http://hl7.org/fhir/sid/icpc-2"
ATC = "http://www.whocc.no/atc"
CIS = "https://base-donnees-publique.medicaments.gouv.fr/cis"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
COURSE_OF_THERAPY = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"
# P4DP's own systems and extensions, for what FHIR R4 has no standard element for.
P4DP = "https://p4dp.fr/fhir"
ID_SYSTEM = P4DP + "/NamingSystem/local-id/"  # + CDM table name: the EHR's local row id
EXT_PROBLEM_ROLE = P4DP + "/StructureDefinition/problem-role"
EXT_PROBLEM_RANK = P4DP + "/StructureDefinition/problem-rank"
EXT_OPPOSITION = P4DP + "/StructureDefinition/patient-opposition"
EXT_REGISTERED_ON = P4DP + "/StructureDefinition/patient-registered-on"
EXT_PRACTICE = P4DP + "/StructureDefinition/practitioner-practice"
EXT_SUPERVISOR = P4DP + "/StructureDefinition/practitioner-supervisor"
EXT_PARTICIPATION = P4DP + "/StructureDefinition/practitioner-participation"
CS_ENCOUNTER_KIND = P4DP + "/CodeSystem/encounter-kind"
CS_PRACTICE_KIND = P4DP + "/CodeSystem/practice-kind"
CS_ROLE = P4DP + "/CodeSystem/practitioner-role"
CS_ANTECEDENT_KIND = P4DP + "/CodeSystem/antecedent-kind"
CS_HISTORY_KIND = P4DP + "/CodeSystem/history-kind"
CS_HISTORY_STATUS = P4DP + "/CodeSystem/history-status"

GENDER = {"M": "male", "F": "female"}
#: Encounter.class (informative; the kind itself travels in Encounter.type with CS_ENCOUNTER_KIND).
ENCOUNTER_CLASS = {"cabinet": "AMB", "visite": "HH", "teleconsultation": "VR", "telephone": "VR",
                   "autre": "AMB"}
#: Vital signs: CDM kind → (LOINC code, display, UCUM code of the canonical unit). LOINC codes of
#: the FHIR R4 vital-signs profile; waist circumference 8280-0 (LOINC).
VITALS = {
    "weight": ("29463-7", "Body weight", "kg"),
    "height": ("8302-2", "Body height", "cm"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2"),
    "systolic_bp": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "diastolic_bp": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "heart_rate": ("8867-4", "Heart rate", "/min"),
    "temperature": ("8310-5", "Body temperature", "Cel"),
    "head_circumference": ("9843-4", "Head Occipital-frontal circumference", "cm"),
    "waist_circumference": ("8280-0", "Waist Circumference at umbilicus by Tape measure", "cm"),
}
LOINC_TO_KIND = {v[0]: k for k, v in VITALS.items()}
#: Observation.id prefixes: three CDM tables share the Observation resource type.
OBS_PREFIX = {"biometric": "vs-", "lab_result": "lab-", "history": "sh-"}
CONDITION_PREFIX = {"problem": "pb-", "antecedent": "ant-"}


# ── small accessors over plain dicts ─────────────────────────────────────────────────────────────

def _ref(v: object, kind: str | None = None) -> str | None:
    """``{"reference": "Patient/P001"}`` → ``"P001"``."""
    if not isinstance(v, dict):
        return None
    r = v.get("reference")
    if not isinstance(r, str):
        return None
    return r.rsplit("/", 1)[-1] if "/" in r else r


def _ext(res: dict, url: str) -> object:
    for e in res.get("extension") or ():
        if isinstance(e, dict) and e.get("url") == url:
            for k, v in e.items():
                if k.startswith("value"):
                    return v
    return None


def _coding(concept: object, system: str) -> str | None:
    if not isinstance(concept, dict):
        return None
    for c in concept.get("coding") or ():
        if isinstance(c, dict) and c.get("system") == system:
            return c.get("code")
    return None


def _codings(concepts: object, system: str) -> str | None:
    for concept in concepts or ():
        code = _coding(concept, system)
        if code is not None:
            return code
    return None


def _local_id(res: dict, table_name: str) -> object:
    for ident in res.get("identifier") or ():
        if isinstance(ident, dict) and ident.get("system") == ID_SYSTEM + table_name:
            return ident.get("value")
    return res.get("id")


def _identifier(res: dict, system: str) -> object:
    for ident in res.get("identifier") or ():
        if isinstance(ident, dict) and ident.get("system") == system:
            return ident.get("value")
    return None


def _get(res: object, *path: str) -> object:
    for p in path:
        if isinstance(res, list):
            res = res[0] if res else None
        if not isinstance(res, dict):
            return None
        res = res.get(p)
    return res


def _str(v: object) -> str | None:
    if v is None or isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else str(v)


# ── rows per CDM table ───────────────────────────────────────────────────────────────────────────

class _Rows:
    def __init__(self, table_name: str, labels: dict[str, str]):
        self.table_name = table_name
        self.labels = labels
        self.values: dict[str, list] = {}
        self.where: list[str] = []
        self.records: list[dict] = []
        self.rejects: list[tuple[int, str, str, str, object]] = []

    def add(self, where: str, res: dict, **values: object) -> None:
        i = len(self.where)
        for k, v in values.items():
            col = self.values.get(k)
            if col is None:
                col = self.values[k] = [None] * i
            col.append(v)
        for k, col in self.values.items():
            if len(col) == i:
                col.append(None)
        self.where.append(where)
        self.records.append(res)

    def reject(self, label: str, check_id: str, message: str, value: object) -> None:
        """Reject the row just added (vendor-specific problem found while extracting it)."""
        self.rejects.append((len(self.where) - 1, label, check_id, message, value))

    def candidate(self) -> Candidate:
        n = len(self.where)
        cols: dict[str, pa.Array] = {}
        for k, vals in self.values.items():
            if k in ("value",):
                cols[k] = pa.array(vals, pa.float64())
            elif k in ("opposition", "chronic"):
                cols[k] = pa.array(vals, pa.bool_())
            else:
                try:
                    cols[k] = pa.array(vals, pa.string())
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    cols[k] = pa.array([_str(v) for v in vals], pa.string())
        where, records = self.where, self.records
        cand = Candidate(self.table_name, cols, self.labels, lambda i: where[i],
                         lambda i: records[i])
        for i, label, check_id, message, value in self.rejects:
            mask = np.zeros(n, dtype=bool)
            mask[i] = True
            cand.reject(mask, label, check_id, message, {i: value})
        return cand


def _new_rows() -> dict[str, _Rows]:
    return {
        "practice": _Rows("practice", {"practice_id": "Organization.id", "name": "name",
                                       "region_code": "address.state",
                                       "departement_code": "address.district",
                                       "kind": "type.coding"}),
        "practitioner": _Rows("practitioner", {"practitioner_id": "Practitioner.id",
                                               "practice_id": "extension practitioner-practice",
                                               "sex": "gender", "birth_year": "birthDate",
                                               "role": "qualification.code"}),
        "patient": _Rows("patient", {"patient_id": "Patient.id", "sex": "gender",
                                     "practice_id": "managingOrganization",
                                     "birth_date": "birthDate", "death_date": "deceasedDateTime",
                                     "opposition": "extension patient-opposition",
                                     "registered_on": "extension patient-registered-on"}),
        "encounter": _Rows("encounter", {"encounter_id": "Encounter.id", "patient_id": "subject",
                                         "practitioner_id": "participant PPRF",
                                         "date": "period.start", "kind": "type.coding"}),
        "problem": _Rows("problem", {"problem_id": "identifier", "encounter_id": "encounter",
                                     "patient_id": "subject", "practitioner_id": "recorder",
                                     "date": "recordedDate", "rank": "extension problem-rank"}),
        "biometric": _Rows("biometric", {"biometric_id": "identifier", "patient_id": "subject",
                                         "date": "effectiveDateTime", "kind": "code.coding",
                                         "value": "valueQuantity.value"}),
        "lab_result": _Rows("lab_result", {"lab_result_id": "identifier",
                                           "patient_id": "subject", "date": "effectiveDateTime",
                                           "raw_label": "code.text"}),
        "antecedent": _Rows("antecedent", {"antecedent_id": "identifier",
                                           "patient_id": "subject/patient",
                                           "date": "recordedDate", "kind": "category"}),
        "history": _Rows("history", {"history_id": "identifier", "patient_id": "subject",
                                     "date": "effectiveDateTime", "kind": "code.coding",
                                     "label": "code.text", "status": "valueCodeableConcept"}),
        "vaccination": _Rows("vaccination", {"vaccination_id": "identifier",
                                             "patient_id": "patient",
                                             "date": "occurrenceDateTime",
                                             "raw_label": "vaccineCode.text"}),
        "prescription": _Rows("prescription", {"prescription_id": "identifier",
                                               "patient_id": "subject", "date": "authoredOn",
                                               "drug_label": "medicationCodeableConcept.text",
                                               "duration_days": "expectedSupplyDuration"}),
    }


def _decode(mapping: dict, value: object) -> tuple[str | None, bool]:
    """Vendor code → CDM value, and whether the code is unknown (the row is then rejected)."""
    if value is None:
        return None, False
    for k, v in mapping.items():
        if v == value:
            return k, False
    return None, True


def _reject_code(rows: _Rows, label: str, mapping: dict, value: object) -> None:
    rows.reject(label, "reader.unknown_code",
                "code inconnu « {value} » (codes admis : " + ", ".join(map(str, mapping.values()))
                + ")", value)


def _organization(rows: dict[str, _Rows], res: dict, where: str) -> None:
    r = rows["practice"]
    r.add(where, res, practice_id=res.get("id"), name=res.get("name"),
          region_code=_get(res, "address", "state"),
          departement_code=_get(res, "address", "district"),
          kind=_codings(res.get("type"), CS_PRACTICE_KIND), vendor_format=FORMAT)


def _practitioner(rows: dict[str, _Rows], res: dict, where: str) -> None:
    r = rows["practitioner"]
    sex, unknown = _decode(GENDER, res.get("gender"))
    names = res.get("name")
    name = names[0] if isinstance(names, list) and names and isinstance(names[0], dict) else {}
    given = name.get("given") if isinstance(name, dict) else None
    r.add(where, res, practitioner_id=res.get("id"),
          practice_id=_ref(_ext(res, EXT_PRACTICE)),
          birth_year=_str(res.get("birthDate"))[:4] if res.get("birthDate") else None,
          role=_coding(_get(res, "qualification", "code"), CS_ROLE),
          supervisor_id=_ref(_ext(res, EXT_SUPERVISOR)),
          participation=_ext(res, EXT_PARTICIPATION),
          last_name=name.get("family") if isinstance(name, dict) else None,
          first_name=given[0] if isinstance(given, list) and given else None,
          rpps=_identifier(res, RPPS_SYSTEM), sex=sex)
    if unknown:
        _reject_code(r, "gender", GENDER, res.get("gender"))


def _patient(rows: dict[str, _Rows], res: dict, where: str) -> None:
    r = rows["patient"]
    sex, unknown = _decode(GENDER, res.get("gender"))
    names = [n for n in res.get("name") or () if isinstance(n, dict)]
    official = next((n for n in names if n.get("use") in (None, "official", "usual")), {})
    maiden = next((n for n in names if n.get("use") == "maiden"), {})
    given = official.get("given")
    telecom = [t for t in res.get("telecom") or () if isinstance(t, dict)]
    phone = next((t.get("value") for t in telecom if t.get("system") == "phone"), None)
    email = next((t.get("value") for t in telecom if t.get("system") == "email"), None)
    addresses = res.get("address")
    address = addresses[0] if isinstance(addresses, list) and addresses else {}
    lines = address.get("line") if isinstance(address, dict) else None
    relatives = [_get(c, "name", "text") for c in res.get("contact") or ()]
    relatives = [x for x in relatives if isinstance(x, str)]
    opposition = _ext(res, EXT_OPPOSITION)
    r.add(where, res, patient_id=res.get("id"),
          practice_id=_ref(res.get("managingOrganization")),
          gp_id=_ref(_get(res, "generalPractitioner", "reference")
                     and res["generalPractitioner"][0]),
          death_date=res.get("deceasedDateTime"),
          departement_code=address.get("district") if isinstance(address, dict) else None,
          registered_on=_ext(res, EXT_REGISTERED_ON),
          opposition=opposition if isinstance(opposition, bool) else None,
          last_name=official.get("family"), first_name=given[0] if isinstance(given, list)
          and given else None, birth_name=maiden.get("family"),
          birth_date=res.get("birthDate"), nir=_identifier(res, NIR_SYSTEM),
          address="\n".join(lines) if isinstance(lines, list) and lines else None,
          postcode=address.get("postalCode") if isinstance(address, dict) else None,
          city=address.get("city") if isinstance(address, dict) else None,
          phone=phone, email=email, relatives=";".join(relatives) if relatives else None,
          sex=sex)
    if unknown:
        _reject_code(r, "gender", GENDER, res.get("gender"))
    if opposition is not None and not isinstance(opposition, bool):
        r.reject("extension patient-opposition", "reader.unknown_code",
                 "booléen attendu, trouvé « {value} »", opposition)


def _encounter(rows: dict[str, _Rows], res: dict, where: str) -> None:
    r = rows["encounter"]
    performer = supervisor = None
    for p in res.get("participant") or ():
        kind = _codings(_get(p, "type") if isinstance(p, dict) else None, PARTICIPATION_TYPE)
        if kind == "SPRF":
            supervisor = _ref(_get(p, "individual"))
        elif performer is None:
            performer = _ref(_get(p, "individual"))
    r.add(where, res, encounter_id=res.get("id"), patient_id=_ref(res.get("subject")),
          practitioner_id=performer, supervisor_id=supervisor,
          date=_get(res, "period", "start"), kind=_codings(res.get("type"), CS_ENCOUNTER_KIND))


#: A problem row is spread over up to three Conditions; they are put back together by problem id.
PROBLEM_ROLES = ("reason", "result", "procedure")


def _condition(rows: dict[str, _Rows], problems: dict, res: dict, where: str) -> None:
    role = _ext(res, EXT_PROBLEM_ROLE)
    code = res.get("code") if isinstance(res.get("code"), dict) else {}
    if role is None:
        r = rows["antecedent"]
        r.add(where, res, antecedent_id=_local_id(res, "antecedent"),
              patient_id=_ref(res.get("subject")), kind=_codings(res.get("category"),
                                                                 CS_ANTECEDENT_KIND),
              date=res.get("recordedDate"), text=code.get("text"), code=_coding(code, ICPC2))
        return
    r = rows["problem"]
    pid = _local_id(res, "problem")
    if role not in PROBLEM_ROLES:
        r.add(where, res, problem_id=pid)
        r.reject("extension problem-role", "reader.unknown_code",
                 "rôle inconnu « {value} » (admis : reason, result, procedure)", role)
        return
    key = (pid, where.rsplit(",", 1)[0])
    if key not in problems or role in problems[key][1]:
        rank = _ext(res, EXT_PROBLEM_RANK)
        r.add(where, res, problem_id=pid, encounter_id=_ref(res.get("encounter")),
              patient_id=_ref(res.get("subject")), practitioner_id=_ref(res.get("recorder")),
              date=res.get("recordedDate"), rank=None if rank is None else str(rank))
        problems[key] = (len(r.where) - 1, set())
    i, seen = problems[key]
    seen.add(role)
    n = len(r.where)
    for k, v in ((f"{role}_text", code.get("text")), (f"{role}_code", _coding(code, ICPC2))):
        col = r.values.get(k)
        if col is None:
            col = r.values[k] = [None] * n
        col.extend([None] * (n - len(col)))
        col[i] = v


def _allergy(rows: dict[str, _Rows], res: dict, where: str) -> None:
    code = res.get("code") if isinstance(res.get("code"), dict) else {}
    rows["antecedent"].add(where, res, antecedent_id=_local_id(res, "antecedent"),
                           patient_id=_ref(res.get("patient")), kind="allergy",
                           date=res.get("recordedDate"), text=code.get("text"),
                           code=_coding(code, ICPC2))


def _observation(rows: dict[str, _Rows], res: dict, where: str) -> None:
    category = _codings(res.get("category"), OBS_CATEGORY)
    patient = _ref(res.get("subject"))
    date = res.get("effectiveDateTime")
    code = res.get("code") if isinstance(res.get("code"), dict) else {}
    quantity = res.get("valueQuantity") if isinstance(res.get("valueQuantity"), dict) else {}
    value = quantity.get("value")
    number = (value if isinstance(value, int | float) and not isinstance(value, bool)
              and math.isfinite(value) else None)
    raw = _str(value) if value is not None and number is None else None
    if category == "vital-signs":
        r = rows["biometric"]
        loinc = _coding(code, LOINC)
        r.add(where, res, biometric_id=_local_id(res, "biometric"), patient_id=patient,
              encounter_id=_ref(res.get("encounter")), date=date,
              kind=LOINC_TO_KIND.get(loinc), value=number, unit=quantity.get("unit"),
              raw_value=raw)
        if loinc not in LOINC_TO_KIND:
            r.reject("code.coding", "reader.unknown_code",
                     "code LOINC de signe vital inconnu « {value} »", loinc)
    elif category == "laboratory":
        r = rows["lab_result"]
        note = _get(res, "note", "text")
        r.add(where, res, lab_result_id=_local_id(res, "lab_result"), patient_id=patient,
              date=date, raw_label=code.get("text"), value=number, raw_value=raw,
              unit=quantity.get("unit"), raw_unit=quantity.get("unit"),
              text_value=res.get("valueString") if res.get("valueString") is not None else note)
    elif category == "social-history":
        r = rows["history"]
        r.add(where, res, history_id=_local_id(res, "history"), patient_id=patient, date=date,
              kind=_coding(code, CS_HISTORY_KIND), label=code.get("text"),
              status=_coding(res.get("valueCodeableConcept"), CS_HISTORY_STATUS))
    else:
        raise _Invalid("category", f"catégorie d'Observation inconnue « {category} » (admises : "
                                   "vital-signs, laboratory, social-history)")


def _immunization(rows: dict[str, _Rows], res: dict, where: str) -> None:
    rows["vaccination"].add(where, res, vaccination_id=_local_id(res, "vaccination"),
                            patient_id=_ref(res.get("patient")),
                            date=res.get("occurrenceDateTime"),
                            raw_label=_get(res, "vaccineCode", "text"))


def _medication_request(rows: dict[str, _Rows], res: dict, where: str) -> None:
    r = rows["prescription"]
    med = res.get("medicationCodeableConcept")
    course = _coding(res.get("courseOfTherapyType"), COURSE_OF_THERAPY)
    days = _get(res, "dispenseRequest", "expectedSupplyDuration", "value")
    r.add(where, res, prescription_id=_local_id(res, "prescription"),
          patient_id=_ref(res.get("subject")), encounter_id=_ref(res.get("encounter")),
          practitioner_id=_ref(res.get("requester")), date=res.get("authoredOn"),
          drug_label=_get(med, "text"), atc=_coding(med, ATC), cis_code=_coding(med, CIS),
          dose=_get(res, "dosageInstruction", "text"),
          duration_days=None if days is None else _str(days),
          chronic={"continuous": True, "acute": False}.get(course))


class _Invalid(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


_TABLE_OF = {"Organization": "practice", "Practitioner": "practitioner", "Patient": "patient",
             "Encounter": "encounter", "Condition": "problem", "AllergyIntolerance": "antecedent",
             "Observation": "biometric", "Immunization": "vaccination",
             "MedicationRequest": "prescription"}
_HANDLERS: dict[str, Callable] = {
    "Organization": _organization, "Practitioner": _practitioner, "Patient": _patient,
    "Encounter": _encounter, "AllergyIntolerance": _allergy, "Observation": _observation,
    "Immunization": _immunization, "MedicationRequest": _medication_request,
}


def _read_bundle(bundle: object, where: str, rows: dict[str, _Rows], quarantine: Quarantine
                 ) -> None:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        quarantine.add(table_name="patient", check_id="reader.fhir_invalid_resource",
                       reason=f"{where} — Bundle FHIR attendu (resourceType = Bundle)",
                       location=where, record=bundle)
        return
    problems: dict = {}
    patient_of_bundle = None
    for n, entry in enumerate(bundle.get("entry") or ()):
        res = entry.get("resource") if isinstance(entry, dict) else None
        rtype = res.get("resourceType") if isinstance(res, dict) else None
        rid = res.get("id") if isinstance(res, dict) else None
        here = f"{where}, {rtype}/{rid}" if rtype else f"{where}, /entry/{n}"
        if rtype == "Patient":
            patient_of_bundle = rid
        try:
            if not isinstance(res, dict) or not isinstance(rtype, str):
                raise _Invalid("resourceType", "ressource FHIR sans resourceType")
            if rtype == "Condition":
                _condition(rows, problems, res, here)
            elif rtype in _HANDLERS:
                _HANDLERS[rtype](rows, res, here)
            else:
                quarantine.add(
                    table_name="patient", check_id="reader.fhir_unsupported_resource",
                    reason=f"{here} — type de ressource non lu par P4DP ({rtype}) ; types lus : "
                           + ", ".join(_TABLE_OF), location=here, record=res,
                    patient_id=patient_of_bundle)
        except _Invalid as e:
            quarantine.add(table_name=_TABLE_OF.get(rtype or "", "patient"),
                           check_id="reader.fhir_invalid_resource",
                           reason=f"{here} — champ « {e.field} » : {e.message}", location=here,
                           record=res, row_key=_str(rid), patient_id=patient_of_bundle)
        except (AttributeError, TypeError, IndexError) as e:
            quarantine.add(table_name=_TABLE_OF.get(rtype or "", "patient"),
                           check_id="reader.fhir_invalid_resource",
                           reason=f"{here} — ressource non conforme à FHIR R4 ({e})",
                           location=here, record=res, row_key=_str(rid),
                           patient_id=patient_of_bundle)


def _bundles(path: Path, rel: str) -> Iterator[tuple[str, str]]:
    """(location, JSON text) of each Bundle of a file: one per line (.ndjson) or the whole file."""
    if path.suffix == ".ndjson":
        for number, line in iter_lines(path):
            if line.strip():
                yield f"{rel}, ligne {number}", line
    else:
        yield rel, decode_bytes(path.read_bytes())[0]


def read(folder: Path, source_id: str) -> tuple[dict[str, pa.Table], Quarantine]:
    quarantine = Quarantine(source_id)
    parts: dict[str, list[pa.Table]] = {name: [] for name in _new_rows()}
    rows = _new_rows()
    base = folder / FOLDER
    bundles = 0
    for path in sorted(base.glob("*.json")) + sorted(base.glob("*.ndjson")):
        for where, text in _bundles(path, f"{FOLDER}/{path.name}"):
            bundles += 1
            if bundles % JSON_CHUNK == 0:
                _flush(rows, parts, source_id, quarantine)
                rows = _new_rows()
            try:
                bundle = json.loads(text)
            except json.JSONDecodeError as e:
                quarantine.add(table_name="patient", check_id="reader.json_syntax",
                               reason=f"{where}, colonne {e.colno} — JSON illisible ({e.msg}) ; "
                                      "le Bundle entier est écarté, corriger l'export",
                               location=where, record=text)
                continue
            _read_bundle(bundle, where, rows, quarantine)
    _flush(rows, parts, source_id, quarantine)
    tables = empty_tables()
    for name, tables_of_name in parts.items():
        tables[name] = concat_or_empty(tables_of_name, name)
    return tables, quarantine


def _flush(rows: dict[str, _Rows], parts: dict[str, list[pa.Table]], source_id: str,
           quarantine: Quarantine) -> None:
    """Convert the rows gathered so far to conformed Arrow tables, releasing the parsed JSON."""
    for name, r in rows.items():
        if not r.where:
            continue
        cand = r.candidate()
        if name == "problem":
            for part in PROBLEM_ROLES:
                code = cand.columns.get(f"{part}_code")
                if code is None:
                    code = pa.nulls(len(cand), pa.string())
                cand.columns[f"{part}_code_origin"] = pc.if_else(
                    pc.is_valid(code), pa.scalar("source"), pa.scalar("none"))
        elif name == "antecedent":
            code = cand.columns.get("code", pa.nulls(len(cand), pa.string()))
            cand.columns["code_origin"] = pc.if_else(pc.is_valid(code), pa.scalar("source"),
                                                     pa.scalar("none"))
        elif name == "patient":
            bd, _ = parse_dates(cand.columns.get("birth_date", pa.nulls(len(cand), pa.string())))
            cand.columns["birth_year"] = pc.year(bd).cast(pa.int16())
            cand.columns["birth_month"] = pc.month(bd).cast(pa.int16())
        parts[name].append(conform(cand, source_id, quarantine))


def looks_like(folder: Path) -> bool:
    base = folder / FOLDER
    return base.is_dir() and any(base.glob("*.json*"))
