"""Lab labels → canonical exam (LOINC, unit) and unit conversions, both ways."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from p4dp.terminology import labs


def _one(label):
    return labs.normalise_labels([label]).to_pylist()[0]


@pytest.mark.parametrize(("label", "exam", "loinc"), [
    ("INR", "INR", "6301-6"), ("I.N.R.", "INR", "6301-6"), ("inr (AVK)", "INR", "6301-6"),
    ("Hb A1c", "HBA1C", "4548-4"), ("HbA1c", "HBA1C", "4548-4"),
    ("hémoglobine glyquée", "HBA1C", "4548-4"),
    ("glycémie", "GLYCEMIE", "2345-7"), ("GAJ", "GLYCEMIE", "2345-7"),
    ("Glycémie à jeun", "GLYCEMIE", "2345-7"),
    ("créat", "CREAT", "14682-9"), ("Créatinine", "CREAT", "14682-9"),
    ("créatinine urinaire", "CREAT_U", "14683-7"),
    ("DFG CKD-EPI", "DFG", "62238-1"), ("DFG", "DFG", "62238-1"),
    ("LDL-c", "LDL", "13457-7"), ("LDL cholestérol", "LDL", "13457-7"),
    ("LDL direct", "LDL_DIRECT", "2089-1"),
    ("HDL", "HDL", "2085-9"), ("Cholestérol HDL", "HDL", "2085-9"),
    ("TG", "TG", "2571-8"), ("Triglycérides", "TG", "2571-8"),
    ("chol tot", "CHOL", "2093-3"), ("Cholestérol total", "CHOL", "2093-3"),
    ("TSH us", "TSH", "3016-3"), ("T4 libre", "T4L", "14920-3"),
    ("Hémoglobine", "HB", "718-7"), ("Ferritine", "FERRITINE", "2276-4"),
    ("CRP", "CRP", "1988-5"), ("PSA total", "PSA", "2857-1"),
    ("K+", "K", "2823-3"), ("Kaliémie", "K", "2823-3"), ("Natrémie", "NA", "2951-2"),
    ("SGPT", "ALAT", "1742-6"), ("ALAT", "ALAT", "1742-6"), ("SGOT", "ASAT", "1920-8"),
    ("gamma GT", "GGT", "2324-2"), ("GGT", "GGT", "2324-2"),
    ("Rapport albumine/créatinine urinaire", "RAC", "9318-7"), ("RAC", "RAC", "9318-7"),
    ("microalbuminurie", "ALBU", "14957-5"),
    ("25-OH vitamine D", "VITD", "62292-8"), ("Plaquettes", "PLAQ", "777-3"),
    ("Leucocytes", "LEUCO", "6690-2"), ("BNP", "BNP", "30934-4"),
    ("NT-proBNP", "NTPROBNP", "33762-6"),
])
def test_label_variants_map_to_the_canonical_exam_and_loinc(label, exam, loinc):
    row = _one(label)
    assert (row["exam_code"], row["loinc"], row["matched"]) == (exam, loinc, True)


def test_misspelt_label_is_corrected_and_unknown_is_not_matched():
    assert _one("Ferritinne")["exam_code"] == "FERRITINE"
    assert _one("examen inconnu")["matched"] is False
    assert _one(None)["exam_code"] is None


def test_every_exam_has_a_canonical_unit_and_a_well_formed_loinc():
    t = labs.exams()
    assert t["canonical_unit"].null_count == 0
    units = dict(zip(t["exam_code"].to_pylist(), t["canonical_unit"].to_pylist()))
    assert units["HBA1C"] == "%" and units["CREAT"] == "µmol/L" and units["GLYCEMIE"] == "g/L"


# (exam, value, unit, canonical value, canonical unit, rule) — each hand-computed from the
# constants' definitions, not from the module.
CONVERSIONS = [
    ("HBA1C", 53.0, "mmol/mol", 53.0 / 10.929 + 2.15, "%", "hba1c_ifcc_mmol_mol_vers_pourcent"),
    ("GLYCEMIE", 5.551, "mmol/L", 1.0, "g/L", "glucose_mmol_l_vers_g_l"),
    ("GLYCEMIE", 126.0, "mg/dL", 1.26, "g/L", "mg_dl_vers_g_l"),
    ("CREAT", 10.0, "mg/L", 88.4, "µmol/L", "creatinine_mg_l_vers_umol_l"),
    ("CREAT", 1.0, "mg/dL", 88.4, "µmol/L", "creatinine_mg_dl_vers_umol_l"),
    ("CHOL", 5.172, "mmol/L", 2.0, "g/L", "cholesterol_mmol_l_vers_g_l"),
    ("LDL", 2.586, "mmol/L", 1.0, "g/L", "cholesterol_mmol_l_vers_g_l"),
    ("HDL", 50.0, "mg/dL", 0.5, "g/L", "mg_dl_vers_g_l"),
    ("TG", 2.258, "mmol/L", 2.0, "g/L", "triglycerides_mmol_l_vers_g_l"),
    ("VITD", 75.0, "nmol/L", 75.0 / 2.496, "ng/mL", "vitamine_d_nmol_l_vers_ng_ml"),
    ("RAC", 3.0, "mg/mmol", 26.52, "mg/g", "rac_mg_mmol_vers_mg_g"),
    ("HB", 135.0, "g/L", 13.5, "g/dL", "g_l_vers_g_dl"),
    ("PLAQ", 250000.0, "/mm3", 250.0, "G/L", "par_mm3_vers_g_l"),
    ("CALCIUM", 100.0, "mg/L", 2.495, "mmol/L", "calcium_mg_l_vers_mmol_l"),
    ("ACIDE_URIQUE", 60.0, "mg/L", 356.88, "µmol/L", "acide_urique_mg_l_vers_umol_l"),
]


@pytest.mark.parametrize(("exam", "value", "unit", "expected", "canon", "rule"), CONVERSIONS)
def test_to_canonical_converts_with_the_named_rule(exam, value, unit, expected, canon, rule):
    v, u, r = labs.to_canonical(pa.array([exam]), pa.array([value]), pa.array([unit]))
    assert math.isclose(v[0].as_py(), expected, rel_tol=1e-3)
    assert (u[0].as_py(), r[0].as_py()) == (canon, rule)


@pytest.mark.parametrize(("exam", "value", "unit", "expected", "canon", "rule"), CONVERSIONS)
def test_convert_goes_back_to_the_original_unit(exam, value, unit, expected, canon, rule):
    back = labs.convert(exam, [expected], canon, unit)[0].as_py()
    assert math.isclose(back, value, rel_tol=1e-3)


def test_hba1c_master_equation_both_ways():
    # 7 % ↔ 53 mmol/mol and 6.5 % ↔ 48 mmol/mol (IFCC/NGSP published equivalences).
    assert round(labs.convert("HBA1C", [7.0], "%", "mmol/mol")[0].as_py()) == 53
    assert round(labs.convert("HBA1C", [6.5], "%", "mmol/mol")[0].as_py()) == 48
    assert round(labs.convert("HBA1C", [48.0], "mmol/mol", "%")[0].as_py(), 1) == 6.5


def test_glucose_and_creatinine_both_ways():
    assert math.isclose(labs.convert("GLYCEMIE", [1.0], "g/L", "mmol/L")[0].as_py(), 5.551)
    assert math.isclose(labs.convert("CREAT", [88.4], "µmol/L", "mg/L")[0].as_py(), 10.0)
    assert math.isclose(labs.convert("CREAT", [88.4], "µmol/L", "mg/dL")[0].as_py(), 1.0)
    assert math.isclose(labs.convert("TG", [1.0], "g/L", "mmol/L")[0].as_py(), 1.129)
    assert math.isclose(labs.convert("CHOL", [1.0], "g/L", "mmol/L")[0].as_py(), 2.586)


def test_canonical_units_spelled_differently_are_identity():
    v, u, r = labs.to_canonical(pa.array(["CREAT", "TSH", "INR", "INR", "FERRITINE"]),
                                pa.array([80.0, 2.1, 2.5, 2.7, 120.0]),
                                pa.array(["umol/l", "µUI/mL", None, " ", "ng/mL"]))
    assert v.to_pylist() == [80.0, 2.1, 2.5, 2.7, 120.0]
    assert u.to_pylist() == ["µmol/L", "mUI/L", "1", "1", "µg/L"]
    assert r.to_pylist() == ["identite"] * 5


def test_unknown_units_and_exams_are_left_unconverted_with_rule_null():
    v, u, r = labs.to_canonical(pa.array(["GLYCEMIE", "NOPE", None, "CREAT", "HBA1C"]),
                                pa.array([7.0, 1.0, 2.0, 80.0, None]),
                                pa.array(["furlongs", "g/L", "g/L", None, "%"]))
    assert v.to_pylist() == [7.0, 1.0, 2.0, 80.0, None]
    assert u.to_pylist() == ["furlongs", "g/L", "g/L", None, "%"]
    assert r.to_pylist() == [None, None, None, None, "identite"]


def test_calcium_meq_is_halved_but_potassium_meq_is_not():
    v, _, _ = labs.to_canonical(pa.array(["CALCIUM", "K"]), pa.array([5.0, 4.0]),
                                pa.array(["mEq/L", "mEq/L"]))
    assert v.to_pylist() == [2.5, 4.0]


def test_convert_refuses_a_unit_it_does_not_know():
    with pytest.raises(ValueError, match="no conversion rule for exam 'HBA1C' in unit 'g/L'"):
        labs.convert("HBA1C", [7.0], "%", "g/L")
