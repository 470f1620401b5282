"""One test per check family of the registry (conformance, completeness, plausibility)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from p4dp.cdm import CLINICAL_TABLES, table as cdm_table
from p4dp.quality import all_checks, check_batch, steps_for
from p4dp.quality.constants import VITAL_RANGES
from p4dp.quality.model import Action, Check

D = dt.date(2024, 3, 1)


def _quarantined(outcome) -> dict[str, str]:
    q = outcome.quarantine
    return dict(zip(q.column("row_key").to_pylist(), q.column("check_id").to_pylist()))


def _with_patient(qb, name: str, row: dict) -> dict:
    tables = {"patient": [qb.valid_row("patient")]}
    if name == "patient":
        tables = {"patient": [row]}
    else:
        tables[name] = [row]
    return tables


@pytest.mark.parametrize("name", [t.name for t in CLINICAL_TABLES])
def test_a_valid_row_of_every_table_passes_every_check(qb, name):
    out = qb.run(**_with_patient(qb, name, qb.valid_row(name)))
    assert out.quarantine.num_rows == 0, out.quarantine.column("reason").to_pylist()
    assert out.tables[name].num_rows == 1
    assert out.tables[name].schema.equals(cdm_table(name).arrow_schema("central"))


REQUIRED = [(c.table, c.field) for c in all_checks() if c.id.startswith("completeness.required.")
            and c.field != "source_id"]


@pytest.mark.parametrize(("name", "column"), REQUIRED)
def test_a_row_with_an_empty_required_field_is_quarantined(qb, name, column):
    row = qb.valid_row(name)
    row[column] = None
    out = qb.run(**_with_patient(qb, name, row))
    assert out.quarantine.column("check_id").to_pylist() == [f"completeness.required.{name}.{column}"]
    assert out.tables[name].num_rows == 0


ALLOWED = [(c.table, c.field) for c in all_checks() if c.id.startswith("conformance.allowed.")]


@pytest.mark.parametrize(("name", "column"), ALLOWED)
def test_a_value_outside_the_allowed_list_is_quarantined(qb, name, column):
    row = qb.valid_row(name)
    row[column] = "n'importe quoi"
    out = qb.run(**_with_patient(qb, name, row))
    assert out.quarantine.column("check_id").to_pylist() == [f"conformance.allowed.{name}.{column}"]


def test_every_check_has_bilingual_description_source_and_threshold():
    ids = [c.id for c in all_checks()]
    assert len(ids) == len(set(ids))
    for c in all_checks():
        assert isinstance(c, Check)
        assert c.description_fr and c.description_en and c.source
        assert 0.0 <= c.threshold <= 100.0
        assert c.category.value in ("conformance", "completeness", "plausibility")
        assert c.level.value in ("table", "field", "value")


def test_unreadable_number_is_quarantined_by_the_type_check(qb):
    t = qb.build(patient=[qb.valid_row("patient")], biometric=[qb.valid_row("biometric")])
    bio = t["biometric"]
    i = bio.schema.get_field_index("value")
    t["biometric"] = bio.set_column(i, "value", pa.array(["soixante-dix"]))
    out = check_batch(t, as_of=qb.AS_OF, batch_id="b1", source_id=qb.SRC)
    assert out.quarantine.column("check_id").to_pylist() == ["conformance.type.biometric"]


def test_dates_as_text_are_parsed_in_iso_and_french_notation_or_quarantined(qb):
    rows = [qb.valid_row("encounter") for _ in range(3)]
    for i, r in enumerate(rows):
        r["encounter_id"] = f"arm_e{i}"
        r["kind"] = ("cabinet", "visite", "telephone")[i]
    t = qb.build(patient=[qb.valid_row("patient")], encounter=rows)
    enc = t["encounter"]
    i = enc.schema.get_field_index("date")
    t["encounter"] = enc.set_column(i, "date", pa.array(["2024-03-01", "01/03/2024", "2024-13-45"]))
    out = check_batch(t, as_of=qb.AS_OF, batch_id="b1", source_id=qb.SRC)
    assert _quarantined(out) == {"arm_e2": "conformance.date_format.encounter"}
    assert out.tables["encounter"].column("date").to_pylist() == [D, D]


def test_identifier_with_whitespace_is_quarantined(qb):
    row = qb.valid_row("biometric")
    row["biometric_id"] = "arm b1"
    out = qb.run(patient=[qb.valid_row("patient")], biometric=[row])
    assert _quarantined(out) == {"arm b1": "conformance.id_format.biometric"}


def test_row_of_another_source_is_quarantined(qb):
    row = qb.valid_row("biometric")
    row["source_id"] = "med"
    out = qb.run(patient=[qb.valid_row("patient")], biometric=[row])
    assert _quarantined(out) == {"arm_b1": "conformance.source.biometric"}


def test_pseudonym_without_source_prefix_is_reported_but_loaded(qb):
    p = qb.valid_row("patient")
    p["patient_id"] = "12345"
    out = qb.run(patient=[p])
    assert out.quarantine.num_rows == 0
    assert out.report["checks"]["conformance.pseudonym_prefix.patient.patient_id"]["violations"] == 1


def test_columns_outside_the_central_model_are_dropped_and_reported(qb):
    t = qb.build(patient=[qb.valid_row("patient")])
    t["patient"] = t["patient"].append_column("nir", pa.array(["1800675123456"]))
    out = check_batch(t, as_of=qb.AS_OF, batch_id="b1", source_id=qb.SRC)
    assert "nir" not in out.tables["patient"].column_names
    assert out.report["checks"]["conformance.columns.patient"]["violations"] == 1
    assert out.report["checks"]["conformance.columns.patient"]["examples"][0]["field"] == "nir"
    assert not out.report["checks"]["conformance.columns.patient"]["passed"]


def test_same_id_twice_keeps_the_first_and_quarantines_the_second(qb):
    a, b = qb.bio("1", "p1", D, "weight", 70.0), qb.bio("1", "p1", D, "weight", 71.0)
    out = qb.run(patient=[qb.valid_row("patient")], biometric=[a, b])
    assert out.tables["biometric"].column("value").to_pylist() == [70.0]
    assert out.quarantine.column("check_id").to_pylist() == ["conformance.duplicate_id.biometric"]
    assert out.report["repairs"]["duplicate_removed"]["rows"] == 1


def test_identical_content_under_two_ids_is_a_duplicate_row(qb):
    a, b = qb.bio("1", "p1", D, "weight", 70.0), qb.bio("2", "p1", D, "weight", 70.0)
    out = qb.run(patient=[qb.valid_row("patient")], biometric=[a, b])
    assert _quarantined(out) == {"arm_b2": "plausibility.duplicate_row.biometric"}


def test_twins_are_not_duplicates(qb):
    out = qb.run(patient=[qb.patient("t1", "F", 2015, 4), qb.patient("t2", "F", 2015, 4)])
    assert out.quarantine.num_rows == 0


def test_date_after_the_export_date_is_quarantined(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", qb.AS_OF + dt.timedelta(days=1), "weight", 70.0),
                            qb.bio("2", "p1", qb.AS_OF, "weight", 70.5)])
    assert _quarantined(out) == {"arm_b1": "plausibility.future_date.biometric.date"}


def test_reading_before_the_birth_month_is_quarantined(qb):
    out = qb.run(patient=[qb.patient("p1", "M", 2010, 6)],
                 biometric=[qb.bio("1", "p1", dt.date(2010, 5, 31), "weight", 3.5),
                            qb.bio("2", "p1", dt.date(2010, 6, 1), "weight", 3.4)])
    assert _quarantined(out) == {"arm_b1": "plausibility.before_birth.biometric.date"}


def test_family_antecedent_may_predate_birth(qb):
    a = qb.valid_row("antecedent")
    a.update(kind="family", date=dt.date(1960, 1, 1))
    b = dict(a, antecedent_id="arm_a2", kind="medical")
    out = qb.run(patient=[qb.valid_row("patient")], antecedent=[a, b])
    assert _quarantined(out) == {"arm_a2": "plausibility.before_birth.antecedent.date"}


def test_encounter_after_death_is_quarantined(qb):
    p = qb.patient("p1", death_date=dt.date(2023, 1, 10))
    out = qb.run(patient=[p], encounter=[qb.encounter("1", "p1", dt.date(2023, 1, 10)),
                                         qb.encounter("2", "p1", dt.date(2023, 2, 1))])
    assert _quarantined(out) == {"arm_e2": "plausibility.after_death.encounter.date"}


@pytest.mark.parametrize(("year", "month", "death", "check"), [
    (1850, 6, None, "plausibility.birth_year.patient"),
    (2030, 6, None, "plausibility.birth_year.patient"),
    (1980, 13, None, "conformance.birth_month.patient"),
    (1980, 6, dt.date(1979, 1, 1), "plausibility.death_before_birth.patient"),
    (1980, 6, dt.date(2027, 1, 1), "plausibility.future_date.patient.death_date"),
])
def test_impossible_patient_facts_are_quarantined(qb, year, month, death, check):
    out = qb.run(patient=[qb.patient("p1", "F", year, month, death_date=death)])
    assert out.quarantine.column("check_id").to_pylist() == [check]


def test_missing_sex_is_reported_as_incomplete_but_loaded(qb):
    out = qb.run(patient=[qb.patient("p1", None)] + [qb.patient(f"q{i}") for i in range(9)])
    c = out.report["checks"]["completeness.recommended.patient.sex"]
    assert (c["violations"], c["pct"], c["passed"]) == (1, 10.0, False)
    assert out.tables["patient"].num_rows == 10


def test_reading_of_a_patient_absent_from_the_batch_is_reported_not_quarantined(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "ghost", D, "weight", 70.0)])
    assert out.quarantine.num_rows == 0
    assert out.report["checks"]["completeness.patient_known.biometric"]["violations"] == 1


@pytest.mark.parametrize(("kind", "value", "kept"), [
    ("weight", 80.0, True), ("weight", 345.0, False), ("weight", 20.0, False),
    ("height", 172.0, True), ("height", 240.0, False), ("height", 95.0, False),
])
def test_adult_weight_and_height_ranges(qb, kind, value, kept):
    out = qb.run(patient=[qb.valid_row("patient")], biometric=[qb.bio("1", "p1", D, kind, value)])
    assert (out.tables["biometric"].num_rows == 1) is kept
    if not kept:
        assert out.quarantine.column("check_id").to_pylist() == [f"plausibility.{kind}.biometric"]


@pytest.mark.parametrize("kind", sorted(VITAL_RANGES))
def test_vital_sign_outside_its_range_is_quarantined(qb, kind):
    r = VITAL_RANGES[kind]
    mid = (r.low + r.high) / 2
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, kind, mid), qb.bio("2", "p1", D, kind, r.high + 1),
                            qb.bio("3", "p1", D, kind, r.low - 1)])
    assert _quarantined(out) == {"arm_b2": f"plausibility.range.biometric.{kind}",
                                 "arm_b3": f"plausibility.range.biometric.{kind}"}


def test_adult_weight_giving_an_impossible_bmi_with_the_same_day_height_is_quarantined(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", 300.0),
                            qb.bio("2", "p1", D, "height", 150.0)])
    assert _quarantined(out) == {"arm_b1": "plausibility.weight_bmi_pair.biometric"}


def test_teenager_weight_beyond_the_absolute_bounds_is_quarantined(qb):
    out = qb.run(patient=[qb.patient("t", "F", 2011, 1)],
                 biometric=[qb.bio("1", "t", D, "weight", 5.0), qb.bio("2", "t", D, "weight", 45.0)])
    assert _quarantined(out) == {"arm_b1": "plausibility.weight.biometric"}


def test_unreadable_biometric_value_is_quarantined(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 biometric=[qb.bio("1", "p1", D, "weight", None, "soixante")])
    assert _quarantined(out) == {"arm_b1": "conformance.value.biometric"}
    assert "soixante" in out.quarantine.column("record")[0].as_py()


@pytest.mark.parametrize(("label", "value", "unit", "kept"), [
    ("INR", 2.5, None, True), ("I.N.R.", 20.0, None, False), ("inr (AVK)", 0.3, None, False),
    ("HbA1c", 7.1, "%", True), ("HbA1c", 25.0, "%", False), ("Hémoglobine glyquée", 53.0,
                                                             "mmol/mol", True),
    ("HbA1c", 250.0, "mmol/mol", False), ("Créatinine", 2500.0, "µmol/L", True),
])
def test_lab_result_ranges_per_exam_and_unit(qb, label, value, unit, kept):
    out = qb.run(patient=[qb.valid_row("patient")], lab_result=[qb.lab("1", "p1", D, label, value,
                                                                       unit)])
    assert (out.tables["lab_result"].num_rows == 1) is kept
    if not kept:
        assert out.quarantine.column("check_id")[0].as_py().startswith(
            "plausibility.range.lab_result.")


def test_lab_exam_code_from_the_coder_wins_over_the_label(qb):
    row = qb.lab("1", "p1", D, "anticoagulation", 30.0, exam_code="inr")
    out = qb.run(patient=[qb.valid_row("patient")], lab_result=[row])
    assert _quarantined(out) == {"arm_l1": "plausibility.range.lab_result.inr"}


def test_unreadable_lab_value_without_text_is_quarantined_textual_result_kept(qb):
    a = qb.lab("1", "p1", D, "INR", None, raw="??")
    b = qb.lab("2", "p1", D, "Sérologie", None, raw="positif", text_value="positif")
    out = qb.run(patient=[qb.valid_row("patient")], lab_result=[a, b])
    assert _quarantined(out) == {"arm_l1": "conformance.value.lab_result"}


def test_quarantine_checks_remove_rows_report_checks_do_not(qb):
    for name in ("biometric", "patient"):
        for step in steps_for(name):
            if isinstance(step, Check) and step.action is Action.REPORT:
                assert step.id.split(".")[0] in ("conformance", "completeness")


def test_two_encounters_with_the_same_gp_on_the_same_day_are_both_kept(qb):
    out = qb.run(patient=[qb.valid_row("patient")],
                 encounter=[qb.encounter("1", "p1", D), qb.encounter("2", "p1", D)])
    assert out.quarantine.num_rows == 0 and out.tables["encounter"].num_rows == 2


def test_practitioner_born_before_1900_is_quarantined(qb):
    row = qb.valid_row("practitioner")
    row["birth_year"] = 1850
    out = qb.run(practitioner=[row])
    assert out.quarantine.column("check_id").to_pylist() == ["plausibility.birth_year.practitioner"]
