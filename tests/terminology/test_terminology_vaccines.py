"""Vaccination labels → product and valences (DOMAIN.md §3 labels, brands, GP shorthand)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from p4dp.terminology import vaccines

DTP_BOOSTER = ["d", "T", "P"]
DTCAP_BOOSTER = ["d", "T", "ca", "P"]
DTCAP_FULL = ["D", "T", "Ca", "P"]

# Every label named in DOMAIN.md §3, with its product and valences.
DOMAIN_LABELS = [
    ("REVAXIS", "REVAXIS", DTP_BOOSTER),
    ("DTP", None, DTP_BOOSTER),
    ("dTP", None, DTP_BOOSTER),
    ("DTCP", None, DTCAP_BOOSTER),
    ("REPEVAX", "REPEVAX", DTCAP_BOOSTER),
    ("BOOSTRIXTETRA", "BOOSTRIXTETRA", DTCAP_BOOSTER),
    ("TETRAVAC", "TETRAVAC-ACELLULAIRE", DTCAP_FULL),
    ("INFANRIXTETRA", "INFANRIXTETRA", DTCAP_FULL),
    ("PENTAVAC", "PENTAVAC", DTCAP_FULL + ["Hib"]),
    ("INFANRIX QUINTA", "INFANRIX QUINTA", DTCAP_FULL + ["Hib"]),
    ("INFANRIX HEXA", "INFANRIX HEXA", DTCAP_FULL + ["Hib", "HepB"]),
    ("HEXYON", "HEXYON", DTCAP_FULL + ["Hib", "HepB"]),
    ("VAXELIS", "VAXELIS", DTCAP_FULL + ["Hib", "HepB"]),
    ("3 covid et dtp à 25 ans", None, DTP_BOOSTER + ["COVID-19"]),
]


@pytest.mark.parametrize(("label", "product", "valences"), DOMAIN_LABELS)
def test_every_domain_label_gets_its_product_and_valences(label, product, valences):
    row = vaccines.normalise_labels([label]).to_pylist()[0]
    assert row == {"label": label, "product": product, "valences": valences, "matched": True}


@pytest.mark.parametrize(("label", "valences"), [
    ("dtcp", DTCAP_BOOSTER),
    ("dTcaP", DTCAP_BOOSTER),
    ("DTCaP", DTCAP_FULL),
    ("DTCaP-Hib", DTCAP_FULL + ["Hib"]),
    ("ROR", ["ROR"]),
    ("grippe", ["grippe"]),
    ("vaccin grippe", ["grippe"]),
    ("covid", ["COVID-19"]),
    ("rappel dtp", DTP_BOOSTER),
    ("HVB", ["HepB"]),
    ("hep b", ["HepB"]),
    ("méningo C", ["méningocoque C"]),
    ("Méningocoque ACWY", ["méningocoque ACWY"]),
    ("pneumo", ["pneumocoque"]),
    ("ROR + varicelle", ["ROR", "varicelle"]),
])
def test_gp_shorthand_gives_valences_without_a_product(label, valences):
    row = vaccines.normalise_labels([label]).to_pylist()[0]
    assert row["valences"] == valences and row["matched"]
    assert row["product"] is None


@pytest.mark.parametrize(("label", "product", "valences"), [
    ("pneumo 23", "PNEUMO 23", ["pneumocoque"]),
    ("PRIORIX", "PRIORIX", ["ROR"]),
    ("M-M-RVAXPRO", "M-M-RVAXPRO", ["ROR"]),
    ("gardasil 9", "GARDASIL 9", ["HPV"]),
    ("CERVARIX", "CERVARIX", ["HPV"]),
    ("Prevenar 13", "PREVENAR 13", ["pneumocoque"]),
    ("PREVENAR 20", "PREVENAR 20", ["pneumocoque"]),
    ("VAXNEUVANCE", "VAXNEUVANCE", ["pneumocoque"]),
    ("PNEUMOVAX", "PNEUMOVAX", ["pneumocoque"]),
    ("NEISVAC", "NEISVAC", ["méningocoque C"]),
    ("MENQUADFI", "MENQUADFI", ["méningocoque ACWY"]),
    ("NIMENRIX", "NIMENRIX", ["méningocoque ACWY"]),
    ("BEXSERO", "BEXSERO", ["méningocoque B"]),
    ("TRUMENBA", "TRUMENBA", ["méningocoque B"]),
    ("SHINGRIX", "SHINGRIX", ["zona"]),
    ("ZOSTAVAX", "ZOSTAVAX", ["zona"]),
    ("Vaxigrip Tetra 2023-2024", "VAXIGRIP TETRA", ["grippe"]),
    ("INFLUVAC TETRA", "INFLUVAC TETRA", ["grippe"]),
    ("EFLUELDA", "EFLUELDA", ["grippe"]),
    ("FLUARIX", "FLUARIX TETRA", ["grippe"]),
    ("COMIRNATY", "COMIRNATY", ["COVID-19"]),
    ("SPIKEVAX", "SPIKEVAX", ["COVID-19"]),
    ("NUVAXOVID", "NUVAXOVID", ["COVID-19"]),
    ("ENGERIX B20", "ENGERIX B", ["HepB"]),
    ("HBVAXPRO", "HBVAXPRO", ["HepB"]),
    ("TWINRIX", "TWINRIX", ["HepB", "HepA"]),
    ("HAVRIX 1440", "HAVRIX", ["HepA"]),
    ("AVAXIM", "AVAXIM", ["HepA"]),
    ("TYPHIM VI", "TYPHIM VI", ["typhoïde"]),
    ("STAMARIL", "STAMARIL", ["fièvre jaune"]),
    ("IXIARO", "IXIARO", ["encéphalite japonaise"]),
    ("ENCEPUR", "ENCEPUR", ["encéphalite à tiques"]),
    ("TICOVAC", "TICOVAC", ["encéphalite à tiques"]),
    ("VARIVAX", "VARIVAX", ["varicelle"]),
    ("VARILRIX", "VARILRIX", ["varicelle"]),
    ("ROTARIX", "ROTARIX", ["rotavirus"]),
    ("ROTATEQ", "ROTATEQ", ["rotavirus"]),
    ("BCG", "BCG", ["BCG"]),
    ("ABRYSVO", "ABRYSVO", ["VRS"]),
    ("AREXVY", "AREXVY", ["VRS"]),
    ("Boostrix Tétra", "BOOSTRIXTETRA", DTCAP_BOOSTER),
])
def test_brand_names_give_the_product(label, product, valences):
    row = vaccines.normalise_labels([label]).to_pylist()[0]
    assert (row["product"], row["valences"], row["matched"]) == (product, valences, True)


def test_nirsevimab_is_recorded_but_is_not_a_vaccine():
    row = vaccines.normalise_labels(["BEYFORTUS 50 mg"]).to_pylist()[0]
    assert row["product"] == "BEYFORTUS" and row["valences"] == ["VRS"]
    assert not vaccines.is_vaccine("BEYFORTUS")
    assert vaccines.is_vaccine("ABRYSVO")


def test_a_misspelt_brand_is_still_recognised():
    row = vaccines.normalise_labels(["revaxsis"]).to_pylist()[0]
    assert row["product"] == "REVAXIS" and row["valences"] == DTP_BOOSTER


@pytest.mark.parametrize("label", ["vaccin", "", "blabla", "rappel", None])
def test_labels_without_a_valence_are_not_matched(label):
    row = vaccines.normalise_labels([label]).to_pylist()[0]
    assert row["matched"] is False and row["valences"] == [] and row["product"] is None


def test_arrow_input_keeps_order_length_and_nulls():
    labels = pa.chunked_array([["ROR", None, "REVAXIS"], ["ROR"]])
    t = vaccines.normalise_labels(labels)
    assert t.column_names == ["label", "product", "valences", "matched"]
    assert t["label"].to_pylist() == ["ROR", None, "REVAXIS", "ROR"]
    assert t["matched"].to_pylist() == [True, False, True, True]
    assert t.schema.field("valences").type == pa.list_(pa.string())


def test_every_product_valence_is_in_the_notation():
    for vals in vaccines.products()["valences"].to_pylist():
        assert vals and set(vals) <= set(vaccines.VALENCES)


@pytest.mark.parametrize(("label", "product", "valences"), [
    ("Repevax (dTcaP)", "REPEVAX", DTCAP_BOOSTER),
    ("zona shingrix", "SHINGRIX", ["zona"]),
    ("Fièvre jaune - Stamaril", "STAMARIL", ["fièvre jaune"]),
    ("covid pfizer", "COMIRNATY", ["COVID-19"]),
    ("REVAXIS + grippe", None, DTP_BOOSTER + ["grippe"]),
])
def test_product_is_kept_only_when_the_label_names_nothing_beyond_it(label, product, valences):
    row = vaccines.normalise_labels([label]).to_pylist()[0]
    assert (row["product"], row["valences"]) == (product, valences)


@pytest.mark.parametrize(("label", "valences"), [
    ("DTPCa", DTCAP_FULL), ("dTPca", DTCAP_BOOSTER), ("dTca", ["d", "T", "ca"]),
    ("D.T.P.", DTP_BOOSTER), ("Vaccin DTPolio", DTP_BOOSTER),
])
def test_notation_in_either_order_and_with_punctuation(label, valences):
    assert vaccines.normalise_labels([label]).to_pylist()[0]["valences"] == valences
