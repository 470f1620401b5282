"""A hand-made practice in the staging layer: three patients with every table populated.

It carries what real exports carry and what breaks naive readers: accents, « œ », NIR, relatives,
source-coded and free-text problems, free text with ";", quotes and newlines, injected dirt in
``raw_value`` and a duplicated row.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from p4dp.cdm import CLINICAL_TABLES, table

D = dt.date


def _t(name: str, rows: list[dict], source_id: str) -> pa.Table:
    schema = table(name).arrow_schema("staging")
    full = [{f.name: r.get(f.name) for f in schema} | {"source_id": source_id} for r in rows]
    return pa.Table.from_pylist(full, schema=schema)


def practice_tables(fmt: str = "csv-fr", source_id: str = "arm") -> dict[str, pa.Table]:
    practice = [dict(practice_id="CAB01", name="Cabinet médical des Écoles", region_code="93",
                     departement_code="06", kind="msp", vendor_format=fmt)]
    practitioner = [
        dict(practitioner_id="DR1", practice_id="CAB01", sex="F", birth_year=1972, role="gp",
             participation="active", last_name="Lefèvre", first_name="Hélène",
             rpps="10001234567"),
        dict(practitioner_id="DR2", practice_id="CAB01", sex="M", birth_year=1965, role="gp",
             participation="withdrawn", last_name="N'Diaye", first_name="Cœur-Joseph",
             rpps="10007654321"),
        dict(practitioner_id="INT1", practice_id="CAB01", sex="M", birth_year=1996, role="intern",
             supervisor_id="DR1", participation="active", last_name="Martin", first_name="Léo"),
    ]
    patient = [
        dict(patient_id="P001", practice_id="CAB01", gp_id="DR1", sex="F", birth_year=1948,
             birth_month=3, departement_code="06", registered_on=D(2001, 5, 14), opposition=False,
             last_name="Dupont", first_name="Françoise", birth_name="Bérard",
             birth_date=D(1948, 3, 9), nir="248037511300512", address="12, rue de l'Église",
             postcode="06000", city="Nice", phone="06 12 34 56 78",
             email="francoise.dupont@exemple.fr", relatives="Jean Dupont;Élodie Dupont"),
        dict(patient_id="P002", practice_id="CAB01", gp_id="DR2", sex="M", birth_year=2015,
             birth_month=11, departement_code="06", registered_on=D(2015, 12, 1),
             opposition=False, last_name="Nguyễn" if fmt != "csv-fr" else "Nguyen",
             first_name="Théo", birth_date=D(2015, 11, 30), nir=None,
             address="3 av. \"Les Pins\"; bât. B", postcode="06100", city="Nice",
             phone="0493000000", relatives="Anne Nguyen"),
        dict(patient_id="P003", practice_id="CAB01", gp_id=None, sex="M", birth_year=1931,
             birth_month=1, death_date=D(2021, 2, 2), departement_code="83",
             registered_on=D(2000, 1, 3), opposition=True, last_name="Œuvray",
             first_name="Gérard", birth_date=D(1931, 1, 1), nir="131018312345678"),
    ]
    encounter = [
        dict(encounter_id="E01", patient_id="P001", practitioner_id="DR1", date=D(2019, 1, 7),
             kind="cabinet"),
        dict(encounter_id="E02", patient_id="P001", practitioner_id="INT1", supervisor_id="DR1",
             date=D(2020, 2, 29), kind="visite"),
        dict(encounter_id="E03", patient_id="P002", practitioner_id="DR2", date=D(2021, 6, 15),
             kind="teleconsultation"),
        dict(encounter_id="E04", patient_id="P003", practitioner_id="DR1", date=D(2020, 12, 24),
             kind="telephone"),
        dict(encounter_id="E05", patient_id="P002", practitioner_id="DR1", date=D(2022, 1, 3),
             kind=None),
    ]
    problem = [
        dict(problem_id="PB1", encounter_id="E01", patient_id="P001", practitioner_id="DR1",
             date=D(2019, 1, 7), rank=1, reason_text="toux; fièvre 39°", reason_code="R05",
             reason_code_origin="source", result_text="IVRS", result_code="R74",
             result_code_origin="source", procedure_text=None, procedure_code=None,
             procedure_code_origin="none"),
        dict(problem_id="PB2", encounter_id="E01", patient_id="P001", practitioner_id="DR1",
             date=D(2019, 1, 7), rank=2,
             reason_text='renouvellement "HTA"\nTA ok; vu avec sa fille Élodie',
             reason_code_origin="none", result_text="HTA équilibrée", result_code="K86",
             result_code_origin="source", procedure_text="ordonnance 3 mois",
             procedure_code_origin="none"),
        dict(problem_id="PB3", encounter_id="E02", patient_id="P001", practitioner_id="INT1",
             date=D(2020, 2, 29), rank=1, reason_text="douleur genou D\r\ndepuis 3 j",
             reason_code_origin="none", result_text="gonalgie", result_code_origin="none",
             procedure_text="AINS", procedure_code="A50", procedure_code_origin="source"),
        dict(problem_id="PB4", encounter_id="E03", patient_id="P002", practitioner_id="DR2",
             date=D(2021, 6, 15), rank=1, reason_text="otalgie", reason_code_origin="none",
             result_text="OMA", result_code="H71", result_code_origin="source",
             procedure_code_origin="none"),
        dict(problem_id="PB5", encounter_id="E04", patient_id="P003", practitioner_id="DR1",
             date=D(2020, 12, 24), rank=None, reason_code_origin="none",
             result_text="appel de la famille, tél 06 99 88 77 66", result_code_origin="none",
             procedure_code_origin="none"),
    ]
    biometric = [
        dict(biometric_id="B01", patient_id="P001", encounter_id="E01", date=D(2019, 1, 7),
             kind="weight", value=72.5, unit="kg"),
        dict(biometric_id="B02", patient_id="P001", encounter_id="E01", date=D(2019, 1, 7),
             kind="height", value=162.0, unit="cm"),
        dict(biometric_id="B03", patient_id="P001", encounter_id="E01", date=D(2019, 1, 7),
             kind="bmi", value=27.63, unit="kg/m2"),
        dict(biometric_id="B04", patient_id="P001", encounter_id="E01", date=D(2019, 1, 7),
             kind="systolic_bp", value=142.0, unit="mmHg"),
        dict(biometric_id="B05", patient_id="P001", encounter_id="E01", date=D(2019, 1, 7),
             kind="diastolic_bp", value=88.0, unit="mmHg"),
        # Injected dirt: the number as the EHR wrote it.
        dict(biometric_id="B06", patient_id="P002", encounter_id="E03", date=D(2021, 6, 15),
             kind="weight", value=None, unit="kg", raw_value="45,30"),
        dict(biometric_id="B07", patient_id="P002", encounter_id="E03", date=D(2021, 6, 15),
             kind="height", value=None, unit="cm", raw_value="1m48"),
        dict(biometric_id="B08", patient_id="P002", encounter_id="E03", date=D(2021, 6, 15),
             kind="temperature", value=38.4, unit="Cel"),
        dict(biometric_id="B09", patient_id="P002", encounter_id=None, date=D(2016, 2, 1),
             kind="head_circumference", value=41.0, unit="cm"),
        # A duplicated row (injected dirt) must be written, and read, twice.
        dict(biometric_id="B01", patient_id="P001", encounter_id="E01", date=D(2019, 1, 7),
             kind="weight", value=72.5, unit="kg"),
        dict(biometric_id="B10", patient_id="P003", encounter_id="E04", date=D(2020, 12, 24),
             kind="heart_rate", value=64.0, unit="/min"),
        dict(biometric_id="B11", patient_id="P003", encounter_id="E04", date=D(2020, 12, 24),
             kind="waist_circumference", value=101.5, unit="cm"),
    ]
    lab_result = [
        dict(lab_result_id="L1", patient_id="P001", date=D(2019, 3, 1), raw_label="INR",
             value=2.4, unit=None, raw_unit=None),
        dict(lab_result_id="L2", patient_id="P001", date=D(2019, 4, 1), raw_label="I.N.R.",
             value=3.15, unit=None),
        dict(lab_result_id="L3", patient_id="P001", date=D(2019, 4, 1), raw_label="HbA1c",
             value=7.2, unit="%", raw_unit="%"),
        dict(lab_result_id="L4", patient_id="P003", date=D(2020, 10, 10), raw_label="inr (AVK)",
             value=None, raw_value="2,8"),
        dict(lab_result_id="L5", patient_id="P003", date=D(2020, 10, 10),
             raw_label="Sérologie; « covid »", text_value="négatif"),
        dict(lab_result_id="L6", patient_id="P001", date=D(2019, 5, 2), raw_label="Créatinine",
             value=88.0, unit="µmol/L", raw_unit="µmol/L"),
        # A unit without a value (result pending): the unit must survive every format.
        dict(lab_result_id="L7", patient_id="P002", date=D(2021, 6, 16), raw_label="CRP",
             unit="mg/L", raw_unit="mg/L", text_value="en cours"),
    ]
    antecedent = [
        dict(antecedent_id="A1", patient_id="P001", kind="medical", date=D(2005, 1, 1),
             text="HTA", code="K86", code_origin="source"),
        dict(antecedent_id="A2", patient_id="P001", kind="allergy", text="pénicilline",
             code_origin="none"),
        dict(antecedent_id="A3", patient_id="P001", kind="family", text="père : IDM à 50 ans",
             code_origin="none"),
        dict(antecedent_id="A4", patient_id="P003", kind="surgical", date=D(1990, 6, 1),
             text="PTH gauche", code_origin="none"),
    ]
    history = [
        dict(history_id="H1", patient_id="P001", date=D(2010, 1, 1), kind="tobacco",
             label="tabac 20 PA sevré", status="former"),
        dict(history_id="H2", patient_id="P001", kind="alcohol", label="alcool : 0",
             status="no"),
        dict(history_id="H3", patient_id="P003", kind="occupation", label="retraité SNCF",
             status="unknown"),
        dict(history_id="H4", patient_id="P003", kind="drugs", label="cannabis", status="yes"),
    ]
    vaccination = [
        dict(vaccination_id="V1", patient_id="P001", date=D(2013, 9, 2), raw_label="REVAXIS"),
        dict(vaccination_id="V2", patient_id="P002", date=D(2016, 1, 30),
             raw_label="INFANRIX HEXA"),
        dict(vaccination_id="V3", patient_id="P003", date=D(2021, 1, 20),
             raw_label="3 covid et dtp à 25 ans"),
    ]
    prescription = [
        dict(prescription_id="RX1", patient_id="P001", encounter_id="E01", practitioner_id="DR1",
             date=D(2019, 1, 7), drug_label="AMLODIPINE 5 mg gél.", atc="C08CA01",
             cis_code="60234100", dose="1 le matin", duration_days=90, chronic=True),
        dict(prescription_id="RX2", patient_id="P001", encounter_id="E02",
             practitioner_id="INT1", date=D(2020, 2, 29), drug_label="Ibuprofène 400mg",
             atc="M01AE01", dose='1 cp x3/j "si douleur"', duration_days=5, chronic=False),
        dict(prescription_id="RX3", patient_id="P003", encounter_id=None, practitioner_id="DR1",
             date=D(2020, 11, 2), drug_label="PREVISCAN 20 mg", atc="B01AA12", chronic=None),
    ]
    raw = dict(practice=practice, practitioner=practitioner, patient=patient,
               encounter=encounter, problem=problem, biometric=biometric, lab_result=lab_result,
               antecedent=antecedent, history=history, vaccination=vaccination,
               prescription=prescription)
    return {t.name: _t(t.name, raw[t.name], source_id) for t in CLINICAL_TABLES}


def sort_rows(t: pa.Table) -> list[dict]:
    """Rows in a canonical order (duplicates kept) for order-insensitive comparison."""
    rows = t.to_pylist()
    return sorted(rows, key=lambda r: [str(r[k]) for k in t.column_names])


#: A number in each format's own convention (docs/formats/): only these leave ``raw_value``.
NUMBER = {"csv-fr": r"^[+-]?\d+(,\d+)?$", "jsonl": None, "fhir": None}
CANONICAL_UNIT = {"weight": "kg", "height": "cm", "bmi": "kg/m2", "systolic_bp": "mmHg",
                  "diastolic_bp": "mmHg", "heart_rate": "/min", "temperature": "Cel",
                  "head_circumference": "cm", "waist_circumference": "cm"}


def expected(tables: dict[str, pa.Table], fmt: str) -> dict[str, list[dict]]:
    """The fixture as the reader must give it back: the documented normalisations applied."""
    import re

    out = {name: [dict(r) for r in t.to_pylist()] for name, t in tables.items()}
    pattern = NUMBER[fmt]
    for name in ("biometric", "lab_result"):
        for r in out[name]:
            if r["raw_value"] is not None and pattern and re.match(pattern, r["raw_value"]):
                r["value"], r["raw_value"] = float(r["raw_value"].replace(",", ".")), None
    for r in out["lab_result"]:
        r["unit"] = r["raw_unit"] = r["raw_unit"] or r["unit"]
    for r in out["practice"]:
        r["vendor_format"] = fmt
    if fmt == "csv-fr":
        from p4dp.synth.writers.csv_fr import reading_ids

        ids = reading_ids(tables["biometric"]).to_pylist()
        for r, new_id in zip(out["biometric"], ids):
            r["biometric_id"] = new_id
            r["unit"] = CANONICAL_UNIT[r["kind"]]
    return out
