"""A tiny practice export in the staging layer, with identities planted in its free text.

Local ids use letters outside 0-9a-f (PAT-, ENC-, DOC- …) so that a scan of the bundle for them
cannot be fooled by a hex pseudonym.
"""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa

from p4dp.cdm import CLINICAL_TABLES, table


def nir_with_key(body13: str) -> str:
    numeric = body13.replace("2A", "19").replace("2B", "18")
    return body13 + f"{97 - int(numeric) % 97:02d}"


NIR_ROSE = nir_with_key("2560375112345")
NIR_JP = nir_with_key("1800106088042")
NIR_ZOE = nir_with_key("2900513055123")


def _t(name: str, rows: list[dict]) -> pa.Table:
    schema = table(name).arrow_schema("staging")
    full = [{f.name: r.get(f.name) for f in schema} for r in rows]
    return pa.Table.from_pylist(full, schema=schema)


def staging_export(source_id: str = "tst") -> tuple[dict[str, pa.Table], pa.Table]:
    s = {"source_id": source_id}
    practice = _t("practice", [{**s, "practice_id": "PRACTICE-LOCAL", "name": "Cabinet du Port",
                                "region_code": "93", "departement_code": "06", "kind": "msp",
                                "vendor_format": "csv-fr"}])
    practitioner = _t("practitioner", [
        {**s, "practitioner_id": "DOC-GRIMAUD", "practice_id": "X", "sex": "F", "birth_year": 1970,
         "role": "gp", "participation": "active", "last_name": "Grimaud", "first_name": "Hortense",
         "rpps": "10101010101"},
        {**s, "practitioner_id": "DOC-KOWALSKI", "practice_id": "X", "sex": "M",
         "birth_year": 1997, "role": "intern", "supervisor_id": "DOC-GRIMAUD",
         "participation": "active", "last_name": "Kowalski", "first_name": "Ulysse",
         "rpps": "10202020202"},
    ])
    patient = _t("patient", [
        {**s, "patient_id": "PAT-ROSE", "practice_id": "X", "gp_id": "DOC-GRIMAUD", "sex": "F",
         "opposition": False, "last_name": "Toux", "first_name": "Rose", "birth_name": "Vaillant",
         "birth_date": date(1956, 3, 12), "nir": NIR_ROSE, "address": "12 rue des Lilas",
         "postcode": "06300", "city": "Nice", "phone": "06 12 34 56 78",
         "email": "rose.toux@exemple.fr", "relatives": "Paul Toux;Marie-Hélène Le Goff",
         "registered_on": date(2010, 1, 4), "departement_code": "06"},
        {**s, "patient_id": "PAT-JP", "practice_id": "X", "gp_id": "DOC-GRIMAUD", "sex": "M",
         "opposition": False, "last_name": "Lefèvre", "first_name": "Jean-Pierre",
         "birth_date": date(1980, 1, 1), "nir": NIR_JP, "address": "3 avenue Jean Médecin",
         "postcode": "06000", "city": "Nice", "phone": "+33 7 98 76 54 32",
         "email": "jp.lefevre@exemple.org", "relatives": "Claire Lefèvre",
         "departement_code": "06"},
        {**s, "patient_id": "PAT-ZOE", "practice_id": "X", "sex": "F", "opposition": True,
         "last_name": "Opposant", "first_name": "Zoé", "birth_date": date(1990, 5, 13),
         "nir": NIR_ZOE, "phone": "04 93 00 11 22", "email": "zoe.opposant@exemple.fr",
         "departement_code": "06"},
    ])
    enc = [
        {**s, "encounter_id": "ENC-ROSE-1", "patient_id": "PAT-ROSE",
         "practitioner_id": "DOC-KOWALSKI", "supervisor_id": "DOC-GRIMAUD",
         "date": date(2024, 2, 1), "kind": "cabinet"},
        {**s, "encounter_id": "ENC-JP-1", "patient_id": "PAT-JP", "practitioner_id": "DOC-GRIMAUD",
         "date": date(2024, 3, 15), "kind": "visite"},
        {**s, "encounter_id": "ENC-ZOE-1", "patient_id": "PAT-ZOE",
         "practitioner_id": "DOC-GRIMAUD", "date": date(2024, 4, 2), "kind": "cabinet"},
    ]
    problem = [
        {**s, "problem_id": "PRB-ROSE-1", "encounter_id": "ENC-ROSE-1", "patient_id": "PAT-ROSE",
         "practitioner_id": "DOC-KOWALSKI", "date": date(2024, 2, 1), "rank": 1,
         "reason_text": "Toux grasse depuis 3 jours", "reason_code_origin": "none",
         "result_text": "Mme TOUX revue ce jour : rhinopharyngite, toux sèche",
         "result_code_origin": "none",
         "procedure_text": "rappeler Rose au 06 12 34 56 78 si fièvre",
         "procedure_code_origin": "none"},
        {**s, "problem_id": "PRB-JP-1", "encounter_id": "ENC-JP-1", "patient_id": "PAT-JP",
         "practitioner_id": "DOC-GRIMAUD", "date": date(2024, 3, 15), "rank": 1,
         "reason_text": "lombalgie, M. Lefevre (né le 01/01/1980) tel +33 7 98 76 54 32",
         "reason_code": "L03", "reason_code_origin": "source",
         "result_text": "lumbago, avis du Dr GRIMAUD demandé", "result_code_origin": "none",
         "procedure_text": "arrêt de travail, écrire à jp.lefevre@exemple.org",
         "procedure_code_origin": "none"},
        {**s, "problem_id": "PRB-ZOE-1", "encounter_id": "ENC-ZOE-1", "patient_id": "PAT-ZOE",
         "practitioner_id": "DOC-GRIMAUD", "date": date(2024, 4, 2), "rank": 1,
         "reason_text": "Zoé Opposant, angine", "reason_code_origin": "none",
         "result_code_origin": "none", "procedure_code_origin": "none"},
    ]
    biometric = [
        {**s, "biometric_id": "BIO-ROSE-1", "patient_id": "PAT-ROSE", "encounter_id": "ENC-ROSE-1",
         "date": date(2024, 2, 1), "kind": "weight", "value": 61.5, "unit": "kg"},
        {**s, "biometric_id": "BIO-ZOE-1", "patient_id": "PAT-ZOE", "encounter_id": "ENC-ZOE-1",
         "date": date(2024, 4, 2), "kind": "weight", "value": 55.0, "unit": "kg"},
    ]
    lab = [{**s, "lab_result_id": "LAB-JP-1", "patient_id": "PAT-JP", "date": date(2024, 3, 20),
            "raw_label": "INR", "value": 2.5, "raw_value": "2,5",
            "text_value": "résultat transmis à Jean-Pierre Lefèvre et à sa soeur Claire"}]
    antecedent = [{**s, "antecedent_id": "ATC-ROSE-1", "patient_id": "PAT-ROSE",
                   "kind": "family", "date": date(2015, 6, 1), "code_origin": "none",
                   "text": "née le 12/03/1956 ; mère (Marie-Hélène Le Goff) diabétique"}]
    history = [{**s, "history_id": "HIS-ROSE-1", "patient_id": "PAT-ROSE",
                "date": date(2015, 6, 1), "kind": "family_situation", "status": "yes",
                "label": "mariée à Paul Toux, habite 12 rue des Lilas, née VAILLANT"}]
    vaccination = [{**s, "vaccination_id": "VAC-ROSE-1", "patient_id": "PAT-ROSE",
                    "date": date(2023, 10, 20),
                    "raw_label": f"REVAXIS (NIR {NIR_ROSE[0]} {NIR_ROSE[1:3]} {NIR_ROSE[3:5]} "
                                 f"{NIR_ROSE[5:7]} {NIR_ROSE[7:10]} {NIR_ROSE[10:13]} "
                                 f"{NIR_ROSE[13:]})"}]
    prescription = [{**s, "prescription_id": "RX-ROSE-1", "patient_id": "PAT-ROSE",
                     "encounter_id": "ENC-ROSE-1", "practitioner_id": "DOC-KOWALSKI",
                     "date": date(2024, 2, 1), "drug_label": "DOLIPRANE 1000 mg cp",
                     "dose": "1 cp x3/j ; ordonnance envoyée à rose.toux@exemple.fr, "
                             "née 1956-03-12",
                     "duration_days": 5, "chronic": False}]
    tables = {
        "practice": practice, "practitioner": practitioner, "patient": patient,
        "encounter": _t("encounter", enc), "problem": _t("problem", problem),
        "biometric": _t("biometric", biometric), "lab_result": _t("lab_result", lab),
        "antecedent": _t("antecedent", antecedent), "history": _t("history", history),
        "vaccination": _t("vaccination", vaccination),
        "prescription": _t("prescription", prescription),
    }
    assert set(tables) == {t.name for t in CLINICAL_TABLES}
    qschema = pa.schema([f for f in table("quarantine").arrow_schema("staging")])
    quarantine = pa.Table.from_pylist([
        {"source_id": source_id, "quarantine_id": "Q-1", "table_name": "biometric",
         "row_key": "BIO-ROSE-9", "patient_id": "PAT-ROSE", "check_id": "reader.value",
         "reason": "biometrics.csv ligne 12, champ valeur : « 1m48 » illisible (BIO-ROSE-9)",
         "location": "biometrics.csv:12",
         "record": json.dumps({"id": "BIO-ROSE-9", "patient_id": "PAT-ROSE", "nom": "Toux",
                               "valeur": "1m48 selon Rose Toux, tel 0612345678",
                               "consultation_id": "ENC-ROSE-1"})},
        {"source_id": source_id, "quarantine_id": "Q-2", "table_name": "patient",
         "row_key": "PAT-XAVIER", "patient_id": "PAT-XAVIER", "check_id": "reader.date",
         "reason": "patients.csv ligne 7, champ date_naissance : « 31/02/1990 » impossible",
         "location": "patients.csv:7",
         "record": json.dumps({"id": "PAT-XAVIER", "nom": "Zerbib", "prenom": "Anouk",
                               "date_naissance": "31/02/1990", "nir": "2900299123456",
                               "commentaire": "Anouk Zerbib, voir dossier"})},
    ], schema=qschema)
    return tables, quarantine


#: Every identifier planted in the fixture: none may reach a bundle file.
IDENTIFIERS = [
    "Vaillant", "Le Goff", "Marie-Hélène", "Paul Toux", "Rose Toux", "Mme TOUX", "Lefèvre",
    "Lefevre", "Jean-Pierre", "Claire", "Opposant", "Zoé", "Zerbib", "Anouk", "Grimaud", "Hortense",
    "Kowalski", "Ulysse", "10101010101", "10202020202", "rue des Lilas", "avenue Jean Médecin",
    "Cabinet du Port", "06 12 34 56 78", "0612345678", "+33 7 98 76 54 32", "04 93 00 11 22",
    "rose.toux", "jp.lefevre", "zoe.opposant", "exemple.fr", "exemple.org",
    "12/03/1956", "1956-03-12", "01/01/1980", "31/02/1990", "1990-05-13",
    NIR_ROSE, NIR_ROSE[:13], NIR_JP[:13], NIR_ZOE[:13], "2900299123456",
    "PAT-", "ENC-", "DOC-", "PRB-", "BIO-", "LAB-", "ATC-", "HIS-", "VAC-", "RX-", "Q-1", "Q-2",
    "PRACTICE-LOCAL",
]
