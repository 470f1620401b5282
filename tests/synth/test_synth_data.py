"""The generator's data files are consistent with each other and with ICPC-2."""

import json
from importlib.resources import files

from p4dp.synth._data import phrase_bank, read_csv
from p4dp.synth.text import UNCODABLE


def _icpc2_codes() -> set[str]:
    path = files("p4dp.terminology").joinpath("data", "icpc2e_en_uk_icd10.json")
    return {c["code"] for c in json.loads(path.read_text(encoding="utf-8"))}


def test_every_phrase_bank_code_is_an_icpc2_code():
    known = _icpc2_codes()
    for code in phrase_bank():
        if code == UNCODABLE:
            continue
        # Process codes (30–69) are listed once as "-NN" and written with a chapter letter.
        assert code in known or f"-{code[1:]}" in known, code


def test_every_code_the_generator_draws_has_phrases():
    bank = phrase_bank()
    drawn = set()
    for r in read_csv("problem_mix.csv") + read_csv("conditions.csv"):
        drawn.add(r["code"])
        drawn.update(r["reasons"].split())
        drawn.update(r["procedures"].split())
    assert drawn <= set(bank), drawn - set(bank)


def test_the_bank_has_uncodable_texts_and_typical_abbreviations():
    bank = phrase_bank()
    assert len(bank[UNCODABLE]) >= 10
    assert "HTA" in bank["K86"] and "DT2" in bank["T90"] and "RGO" in bank["D84"]
    assert "OMA" in bank["H71"] and "BPCO" in bank["R95"] and "renouv" in bank["A50"]
