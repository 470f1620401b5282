"""The lexicon data files: valid codes, coverage of chapters and of frequent primary-care codes."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p4dp.coding import icpc
from p4dp.coding.coder import NO_CODE, Coder
from p4dp.coding.evaluate import evaluate_csv
from p4dp.coding.lexicon import combinations, load, raw_terms, split_letter
from p4dp.coding.normalise import normalise, term_keys

#: Codes the issue names as the frequent primary-care codes the lexicon must cover.
FREQUENT = (
    "R74 R75 R76 R77 R78 R80 R81 H71 H70 H72 U71 D73 K86 K87 T90 T89 T93 T82 K78 R95 R96 P76 P74 "
    "P06 T86 L89 L90 L03 L02 L86 L87 L15 L92 L99 H81 A62 R05 A44 A50 A97 A98 K95 K77 S87 S74"
).split()


def test_lexicon_has_several_thousand_entries() -> None:
    assert len(load()) >= 5000
    assert len(raw_terms()) >= 5000


def test_every_chapter_and_every_component_is_covered() -> None:
    codes = {e.code for e in load().entries}
    letters = {c[0] for c in codes if not c.startswith("-")}
    assert set(icpc.CHAPTERS) <= letters
    numbers = {icpc.number(c) for c in codes}
    assert set(range(30, 70)) <= numbers, "every process number has French terms"


@pytest.mark.parametrize("code", FREQUENT)
def test_frequent_primary_care_codes_have_several_terms(code: str) -> None:
    # Process codes are written chapter-less ("-50") unless specific to a chapter ("R44").
    terms = [e for e in load().entries if e.code in (code, "-" + code[1:])]
    assert len(terms) >= 3, code


def test_every_code_in_the_data_files_is_a_valid_icpc2_code() -> None:
    for marked, term, where in raw_terms():
        code, letter = split_letter(marked.lstrip("~"))  # "~": a weak term, same code
        probe = "A" + code[1:] if code.startswith("-") else code
        assert icpc.is_valid(probe), f"{where}: {code} ({term})"
        assert letter == "" or (code.startswith("-") and letter in icpc.CHAPTERS), where
    for (a, b), c in combinations().items():
        assert icpc.is_valid(a) and icpc.is_valid(b) and icpc.is_valid(c)


def test_no_term_is_only_negation_or_stop_words() -> None:
    for e in load().entries:
        assert e.keys - {"pa", "san", "absence", "aucun", "non", "ni"}, e


@pytest.mark.parametrize("name", ["dev_set.csv", "dev_set_2.csv", "dev_set_4.csv"])
def test_dev_set_has_enough_texts_that_are_not_lexicon_lines(name: str) -> None:
    """Short texts ("HTA") are lexicon terms by nature; the dev set must also hold enough
    sentences the lexicon does not contain verbatim, on which figures are reported apart."""
    lexicon_keys = {frozenset(term_keys(t)) for _, t, _ in raw_terms()}  # noqa: C416
    path = resources.files("p4dp.coding.data").joinpath(name)
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    assert len(rows) >= 500
    novel = sum(frozenset(normalise(r["text"]).key.split()) not in lexicon_keys for r in rows)
    assert novel >= 300


#: The development sets after their fixes (docs/coding.md: 0.993 and 0.983): a training
#: figure, so a regression guard for the rules and data files, not an estimate.
DEV_SET_FLOOR = 0.98


@pytest.mark.parametrize("name", ["dev_set.csv", "dev_set_2.csv", "dev_set_3.csv", "dev_set_4.csv",
                                  "dev_set_5.csv"])
def test_the_development_sets_stay_coded_as_fixed(name: str) -> None:
    result = evaluate_csv(Path(str(resources.files("p4dp.coding.data").joinpath(name))))
    assert result["accuracy"] >= DEV_SET_FLOOR, result["accuracy"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_unicode_text_gets_an_answer_without_crashing(text: str) -> None:
    c = Coder(min_confidence=0.5).code(text, "motif")
    assert c.code == NO_CODE or icpc.is_valid(c.code)
    assert 0.0 <= c.confidence <= 1.0
    assert c.explanation


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_get_an_answer_without_crashing(data: bytes) -> None:
    c = Coder(min_confidence=0.5).code(data, "procedure")
    assert c.code == NO_CODE or icpc.is_valid(c.code)


def test_atc_chapter_table_uses_atc_groups_and_icpc_chapters() -> None:
    from p4dp.coding.lexicon import atc_chapter, atc_chapters

    table = atc_chapters()
    assert table and all(p[0] in "ABCDGHJLMNPRSV" for p in table)  # WHO ATC anatomical groups
    assert atc_chapter("C10AA05") == "T" and atc_chapter("C07AB07") == "K"  # longest prefix
    assert atc_chapter("N02BE01") is None  # paracetamol treats every chapter's pain
