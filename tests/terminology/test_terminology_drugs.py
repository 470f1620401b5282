"""Prescription labels → substance and ATC level 5."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from p4dp.terminology import drugs

# INN → ATC as given by the WHO ATC index (the task brief lists them; they must be exact).
INN_ATC = {
    "paracétamol": "N02BE01", "amoxicilline": "J01CA04", "lévothyroxine": "H03AA01",
    "metformine": "A10BA02", "atorvastatine": "C10AA05", "ramipril": "C09AA05",
    "amlodipine": "C08CA01", "ibuprofène": "M01AE01", "oméprazole": "A02BC01",
    "ésoméprazole": "A02BC05", "bisoprolol": "C07AB07", "furosémide": "C03CA01",
    "warfarine": "B01AA03", "fluindione": "B01AA12", "acénocoumarol": "B01AA07",
    "apixaban": "B01AF02", "rivaroxaban": "B01AF01", "zolpidem": "N05CF02", "zopiclone": "N05CF01",
    "bromazépam": "N05BA08", "alprazolam": "N05BA12", "sertraline": "N06AB06",
    "escitalopram": "N06AB10",
}

BRANDS = {
    "DOLIPRANE": "paracétamol", "DAFALGAN": "paracétamol", "EFFERALGAN": "paracétamol",
    "LEVOTHYROX": "lévothyroxine", "GLUCOPHAGE": "metformine", "TAHOR": "atorvastatine",
    "KARDEGIC": "acide acétylsalicylique (antiagrégant)", "PREVISCAN": "fluindione",
    "COUMADINE": "warfarine", "SINTROM": "acénocoumarol", "ELIQUIS": "apixaban",
    "XARELTO": "rivaroxaban", "INEXIUM": "ésoméprazole", "MOPRAL": "oméprazole",
    "AUGMENTIN": "amoxicilline + acide clavulanique", "SPASFON": "phloroglucinol",
    "STILNOX": "zolpidem", "XANAX": "alprazolam", "LEXOMIL": "bromazépam", "DEROXAT": "paroxétine",
    "SERESTA": "oxazépam",
}


def _one(label):
    return drugs.normalise_labels([label]).to_pylist()[0]


@pytest.mark.parametrize(("inn", "atc"), sorted(INN_ATC.items()))
def test_inn_gives_the_exact_atc_code(inn, atc):
    row = _one(inn)
    assert (row["substance"], row["atc"], row["matched"]) == (inn, atc, True)


@pytest.mark.parametrize(("brand", "substance"), sorted(BRANDS.items()))
def test_brand_names_map_to_their_substance(brand, substance):
    assert _one(brand)["substance"] == substance
    assert _one(brand.lower() + " 10 mg cp")["substance"] == substance


@pytest.mark.parametrize(("label", "substance", "atc"), [
    ("DOLIPRANE 1000MG CPR", "paracétamol", "N02BE01"),
    ("amlodipine 5 mg gél", "amlodipine", "C08CA01"),
    ("Metformine 850mg x3/j", "metformine", "A10BA02"),
    ("LEVOTHYROX 75 µg cp séc", "lévothyroxine", "H03AA01"),
    ("Paracétamol Biogaran 1g si douleur", "paracétamol", "N02BE01"),
    ("AUGMENTIN 1g/125mg sachet", "amoxicilline + acide clavulanique", "J01CR02"),
    ("amoxicilline/acide clavulanique 1 g", "amoxicilline + acide clavulanique", "J01CR02"),
    ("DAFALGAN CODEINE 500/30", "codéine + paracétamol", "N02AJ06"),
    ("KARDEGIC 75MG PDRE SACHET", "acide acétylsalicylique (antiagrégant)", "B01AC06"),
    ("Aspirine UPSA 1g", "acide acétylsalicylique (antalgique)", "N02BA01"),
])
def test_dose_form_and_laboratory_noise_is_ignored(label, substance, atc):
    row = _one(label)
    assert (row["substance"], row["atc"]) == (substance, atc)


@pytest.mark.parametrize(("label", "substance"), [
    ("levotyrox 50", "lévothyroxine"), ("amlodipin 5mg", "amlodipine"),
    ("metfromine 1000", "metformine"),
])
def test_a_misspelt_name_is_corrected(label, substance):
    assert _one(label)["substance"] == substance


@pytest.mark.parametrize("label", ["", "comprimé 1000 mg", "sérum physiologique", None])
def test_unknown_labels_are_not_matched(label):
    row = _one(label)
    assert row["matched"] is False and row["atc"] is None


def test_at_least_300_substances_with_well_formed_atc_codes():
    t = drugs.substances()
    assert t.num_rows >= 300
    assert len(set(t["substance"].to_pylist())) == t.num_rows
    level5 = [a for a in t["atc"].to_pylist() if re.fullmatch(r"[A-Z]\d\d[A-Z]{2}\d\d", a)]
    assert len(level5) >= t.num_rows - 2


def test_vectorised_over_an_arrow_array_with_repeats():
    labels = pa.array(["TAHOR 20"] * 1000 + [None, "XANAX"])
    t = drugs.normalise_labels(labels)
    assert t.num_rows == 1002
    assert t["atc"].to_pylist()[0] == "C10AA05" and t["atc"].to_pylist()[-1] == "N05BA12"
    assert t["atc"].to_pylist()[1000] is None
