"""ICPC-2 / CISP-2: the code list, the seed's French titles, process codes and the picker search."""

from __future__ import annotations

import pytest

from p4dp.terminology import icpc2

# The titles the seed shows (DOMAIN.md §2, and the task brief for S88): they must match exactly.
SEED_TITLES = {
    "R74": "Infection aiguë des voies respiratoires supérieures",
    "R77": "Laryngite, trachéite aiguë",
    "R75": "Sinusite aiguë ou chronique",
    "H71": "Otite moyenne aiguë ou myringite",
    "R76": "Angine aiguë",
    "L87": "Bursite, tendinite, synovite NCA",
    "R80": "Grippe",
    "L03": "Symptôme et plainte des lombes",
    "D73": "Gastro-entérite présumée infectieuse",
    "R78": "Bronchite aiguë, bronchiolite",
    "K86": "Hypertension non compliquée",
    "U71": "Cystite ou autre infection urinaire",
    "R81": "Pneumonie",
    "L99": "Autre maladie ostéo-articulaire",
    "H72": "Otite moyenne séreuse",
    "L86": "Syndrome dorso-lombaire avec irradiation",
    "H81": "Excès de cérumen",
    "H70": "Otite externe",
    "T90": "Diabète non insulino-dépendant",
    "A62": "Contact administratif",
    "R05": "Toux",
    "P76": "Dépression",
    "P06": "Perturbation du sommeil",
    "A44": "Vaccination ou médication préventive",
    "A50": "Médication ou prescription ou injection",
    "T93": "Trouble du métabolisme des lipides",
    "L15": "Symptôme et plainte du genou",
    "S88": "Dermatite et allergie de contact",
}


@pytest.mark.parametrize(("code", "title"), sorted(SEED_TITLES.items()))
def test_seed_french_titles_match_exactly(code, title):
    assert icpc2.title_fr(code) == title


def test_no_code_has_the_seed_title():
    assert icpc2.title_fr("_") == "Pas de code attribué"
    assert icpc2.is_valid("_")


def test_classification_has_726_codes_686_rubrics_and_40_process_codes():
    cls = icpc2.load_classification()
    codes = cls["code"].to_pylist()
    assert len(codes) == len(set(codes)) == 726
    assert sum(c.startswith("-") for c in codes) == 40
    assert all(t.strip() for t in cls["title_fr"].to_pylist())


def test_load_has_one_row_per_concrete_code_with_every_column():
    t = icpc2.load()
    assert t.num_rows == 686 + 40 * 17
    assert t.column_names == ["code", "title_fr", "title_en", "chapter", "chapter_title_fr",
                              "component", "inclusion", "exclusion", "criteria", "icd10"]
    assert t["chapter"].null_count == 0
    assert set(t["chapter"].to_pylist()) == set(icpc2.CHAPTERS)


def test_every_rubric_has_an_icd10_map_and_process_codes_have_none():
    rows = {r["code"]: r for r in icpc2.load().to_pylist()}
    assert rows["R80"]["icd10"] == ["J09", "J10.1", "J10.8", "J11.1", "J11.8"]
    assert all(r["icd10"] for c, r in rows.items() if not icpc2.is_process(c))
    assert not rows["K31"]["icd10"]


@pytest.mark.parametrize(("code", "component"),
                         [("R05", 1), ("K31", 2), ("A44", 2), ("A50", 3), ("A60", 4), ("A61", 4),
                          ("A62", 5), ("A67", 6), ("R74", 7), ("A99", 7)])
def test_component_follows_the_number_ranges(code, component):
    assert icpc2.component(code) == component


def test_process_codes_expand_to_every_chapter_and_keep_the_generic_title():
    expanded = icpc2.expand_process("-31")
    assert expanded[0] == "A31" and "K31" in expanded and len(expanded) == 17
    assert icpc2.is_valid("K31") and icpc2.is_valid("R44") and icpc2.is_valid("A62")
    assert icpc2.title_fr("K31") == "Examen médical partiel"
    assert icpc2.chapter("K31") == "K"
    assert icpc2.generic_process("K31") == "-31"
    assert icpc2.generic_process("R74") is None
    row = next(r for r in icpc2.load().to_pylist() if r["code"] == "K31")
    assert row["chapter_title_fr"].startswith("Circulation")
    with pytest.raises(ValueError, match="process code"):
        icpc2.expand_process("-74")


@pytest.mark.parametrize("code", ["-31", "r74", "R74 ", "Q01", "R12", "", "R740"])
def test_is_valid_rejects_non_canonical_or_unknown_codes(code):
    assert not icpc2.is_valid(code)


def test_unknown_code_raises_key_error_that_suggests_the_fix():
    with pytest.raises(KeyError, match="did you mean 'R74'"):
        icpc2.title_fr("r 74")
    with pytest.raises(KeyError, match="unknown ICPC-2 code 'Q99'"):
        icpc2.chapter("Q99")


def test_canonical_tidies_typed_codes():
    assert icpc2.canonical(" r 74 ") == "R74"
    assert icpc2.canonical("k-31") == "K31"
    assert icpc2.canonical("R12") is None


def _codes(query, limit=20):
    return [h.code for h in icpc2.search(query, limit)]


@pytest.mark.parametrize("query", ["R74", "r74", "R 74", " r-74 "])
def test_search_by_exact_code_returns_it_first(query):
    hits = icpc2.search(query)
    assert hits[0].code == "R74" and hits[0].matched == "code"
    assert hits[0].title_fr == SEED_TITLES["R74"]


def test_search_by_code_prefix_lists_the_codes_in_order():
    assert _codes("R7", 30) == [f"R{n}" for n in range(70, 80) if icpc2.is_valid(f"R{n}")]
    assert _codes("k", 3) == ["K01", "K02", "K03"]


def test_search_by_title_word_prefixes_requires_every_word():
    codes = _codes("infec resp")
    assert "R74" in codes[:3] and "R83" in codes[:3]
    assert all("respir" in icpc2.title_fr(c).lower() or icpc2.chapter(c) == "R" for c in codes)


@pytest.mark.parametrize(("query", "code"), [
    ("rhume", "R74"), ("HTA", "K86"), ("hta", "K86"), ("lombalgie", "L03"), ("angine", "R76"),
    ("BPCO", "R95"), ("gastro", "D73"), ("cystite", "U71"), ("renouvellement ordonnance", "A50"),
    ("certificat de sport", "A62"), ("bouchon de cérumen", "H81"), ("DT2", "T90"),
])
def test_search_by_french_synonym_or_abbreviation(query, code):
    assert _codes(query)[0] == code


def test_lombalgie_offers_both_low_back_codes():
    assert _codes("lombalgie")[:2] == ["L03", "L84"]


def test_search_ignores_accents_and_case():
    assert _codes("GASTRO-ENTERITE")[0] == "D73"
    assert _codes("otite moyenne aigue")[0] == "H71"
    assert _codes("Excès de cérumen")[0] == _codes("exces de cerumen")[0] == "H81"


def test_search_uses_chapter_names_to_place_process_codes():
    assert _codes("vaccination")[0] == "A44"
    assert _codes("vaccination respiratoire")[0] == "R44"
    assert _codes("examen cardio")[0] == "K31"


def test_search_tolerates_a_typo_when_nothing_matches_as_typed():
    hits = icpc2.search("bronchitte aigue")
    assert hits[0].code == "R78" and hits[0].matched.startswith("approché")


def test_search_offers_no_code_and_nothing_for_empty_or_unknown_queries():
    assert _codes("_") == ["_"] and _codes("pas de code") == ["_"]
    assert icpc2.search("") == [] and icpc2.search("   ") == [] and icpc2.search("zzzzqx") == []
    assert len(icpc2.search("douleur", limit=3)) == 3


def test_synonyms_file_has_a_few_hundred_valid_entries():
    syn = icpc2.synonyms()
    assert syn.num_rows >= 300
    assert all(icpc2.is_valid(c) for c in syn["code"].to_pylist())


def test_process_code_title_in_context_names_the_chapter():
    assert icpc2.title_fr_in_context("K31") == (
        "Examen médical partiel (Circulation, système cardiovasculaire)")
    assert icpc2.title_fr_in_context("R44") == (
        "Vaccination ou médication préventive (Système respiratoire)")
    assert icpc2.title_fr_in_context("R74") == SEED_TITLES["R74"]
    assert icpc2.title_fr_in_context("_") == "Pas de code attribué"
