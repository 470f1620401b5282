"""Hand-made central tables: two practices' worth of rows in every clinical table."""

from datetime import date

import pyarrow as pa
import pytest

from p4dp.cdm import CLINICAL_TABLES, table


def central(name: str, rows: list[dict]) -> pa.Table:
    schema = table(name).arrow_schema("central")
    cols = {f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema}
    return pa.table(cols, schema=schema)


@pytest.fixture
def tiny_central():
    """Patients arm_p1 (GP arm_g1) and arm_p2 (GP arm_g2); arm_g2 also saw arm_p1 once."""
    d = date(2022, 3, 1)
    rows = {
        "practice": [dict(source_id="arm", practice_id="P1", region_code="93",
                          departement_code="06", kind="cabinet", vendor_format="csv-fr")],
        "practitioner": [
            dict(source_id="arm", practitioner_id=g, practice_id="P1", sex="F", birth_year=1970,
                 role="gp", participation="active") for g in ("arm_g1", "arm_g2")],
        "patient": [
            dict(source_id="arm", patient_id="arm_p1", practice_id="P1", gp_id="arm_g1", sex="F",
                 birth_year=1950, birth_month=5, opposition=False),
            dict(source_id="arm", patient_id="arm_p2", practice_id="P1", gp_id="arm_g2", sex="M",
                 birth_year=2012, birth_month=1, opposition=False)],
        "encounter": [
            dict(source_id="arm", encounter_id="arm_e1", patient_id="arm_p1",
                 practitioner_id="arm_g1", date=d, kind="cabinet"),
            dict(source_id="arm", encounter_id="arm_e2", patient_id="arm_p1",
                 practitioner_id="arm_g2", date=d, kind="cabinet"),
            dict(source_id="arm", encounter_id="arm_e3", patient_id="arm_p2",
                 practitioner_id="arm_g2", date=d, kind="visite")],
        "problem": [
            dict(source_id="arm", problem_id=f"arm_pb{i}", encounter_id=e, patient_id=p,
                 practitioner_id=g, date=d, rank=1, result_text="HTA", result_code="K86",
                 result_code_origin="auto")
            for i, (e, p, g) in enumerate([("arm_e1", "arm_p1", "arm_g1"),
                                           ("arm_e2", "arm_p1", "arm_g2"),
                                           ("arm_e3", "arm_p2", "arm_g2")])],
        "biometric": [
            dict(source_id="arm", biometric_id="arm_b1", patient_id="arm_p2",
                 encounter_id="arm_e3", date=d, kind="weight", value=35.0, unit="kg"),
            dict(source_id="arm", biometric_id="arm_b2", patient_id="arm_p1",
                 encounter_id="arm_e2", date=d, kind="weight", value=70.0, unit="kg")],
        "lab_result": [dict(source_id="arm", lab_result_id="arm_l1", patient_id="arm_p1", date=d,
                            raw_label="INR", value=2.5)],
        "antecedent": [dict(source_id="arm", antecedent_id="arm_a1", patient_id="arm_p1",
                            kind="medical", text="HTA")],
        "history": [dict(source_id="arm", history_id="arm_h1", patient_id="arm_p2",
                         kind="tobacco", label="tabac", status="no")],
        "vaccination": [dict(source_id="arm", vaccination_id="arm_v1", patient_id="arm_p1",
                             date=d, raw_label="REVAXIS", valences=["d", "T", "P"])],
        "prescription": [
            dict(source_id="arm", prescription_id="arm_rx1", patient_id="arm_p1",
                 encounter_id="arm_e2", practitioner_id="arm_g2", date=d,
                 drug_label="amlodipine 5 mg", atc="C08CA01")],
    }
    return {t.name: central(t.name, rows.get(t.name, [])) for t in CLINICAL_TABLES}
