"""Normalisation of GP free text: case, accents, punctuation, abbreviations, bad input."""

from __future__ import annotations

import pytest

from p4dp.coding.normalise import (
    MAX_TEXT_BYTES,
    SEP,
    BadText,
    abbreviations,
    check_text,
    fold,
    normalise,
    stem,
)


def test_fold_removes_case_accents_and_ligatures() -> None:
    assert fold("Œdème  ÉPAULE").split() == ["oedeme", "epaule"]
    assert fold("Gastro-entérite aiguë").split() == ["gastro", "enterite", "aigue"]


def test_fold_keeps_decimal_numbers_whole_and_dotted_acronyms_joined() -> None:
    assert "," not in fold("fièvre 38,5")
    assert fold("I.N.R. bas").split() == ["inr", "bas"]


def test_test_signs_are_results_not_separators() -> None:
    assert fold("angine TDR+").split() == ["angine", "tdr", "positif"]
    assert fold("BU -").split() == ["bu", "negatif"]


def test_plural_folding_is_shared_by_terms_and_texts() -> None:
    assert stem("douleurs") == "douleur"
    assert stem("genoux") == "genou"
    assert stem("ras") == "ras"  # too short to be a plural
    assert stem("12") == "12"


@pytest.mark.parametrize("abbr, expansion", [
    ("hta", ("hypertension", "arterielle")),
    ("dt2", ("diabete", "type", "2")),
    ("dnid", ("diabete", "non", "insulinodependant")),
    ("bpco", ("bronchopneumopathie", "chronique", "obstructive")),
    ("rgo", ("reflux", "gastro", "oesophagien")),
    ("oma", ("otite", "moyenne", "aigue")),
    ("ecbu", ("examen", "cytobacteriologique", "urines")),
    ("renouv", ("renouvellement",)),
    ("ttt", ("traitement",)),
    ("atcd", ("antecedent",)),
    ("vat", ("vaccin", "antitetanique")),
])
def test_gp_abbreviations_are_expanded(abbr: str, expansion: tuple[str, ...]) -> None:
    assert abbreviations()[abbr] == expansion


def test_abbreviation_list_covers_the_gp_shorthand_of_issue_4() -> None:
    wanted = "hta dt2 dnid bpco rgo oma tdr ecbu ist avk fa ic sas tms renouv ttt ctrl cs ras sd atcd vat"
    assert set(wanted.split()) <= abbreviations().keys()


def test_normalise_expands_abbreviations_in_context_and_splits_problems() -> None:
    n = normalise("HTA + DT2")
    assert n.tokens == ("hypertension", "arterielle", SEP, "diabete", "type", "2")
    assert normalise("renouv ttt").key == "renouvellement traitement"


def test_stopwords_and_laterality_do_not_reach_the_matcher() -> None:
    assert normalise("douleur du genou droit depuis 3 jours").key == "douleur genou 3"


def test_two_spellings_of_one_text_share_a_cache_key() -> None:
    assert normalise("Otite Moyenne Aiguë").key == normalise("otite moyenne aigue").key


def test_qualifier_cues_are_detected_only_when_present() -> None:
    assert normalise("pas de fièvre").cues
    assert normalise("ATCD familial de diabète").cues
    assert normalise("angine ?").cues
    assert not normalise("angine erythemateuse").cues


@pytest.mark.parametrize("value, reason", [
    (None, "absent"),
    ("", "vide"),
    ("   \t ", "vide"),
    ("x" * (MAX_TEXT_BYTES + 1), "trop long"),
    ("toux\x00\x01", "binaires"),
    (b"\xff\xfe\xfa", "octets"),
    ("fiÃ¨vre", "encodage mixte"),
    (12.5, "non textuelle"),
])
def test_bad_input_is_refused_with_a_reason(value: object, reason: str) -> None:
    with pytest.raises(BadText) as e:
        check_text(value)
    assert reason in e.value.reason


def test_utf8_bytes_are_accepted() -> None:
    assert check_text("fièvre".encode()) == "fièvre"
