"""Scrubbing examples a clinician can read: what goes, and the clinical words that stay."""

import json
from datetime import date

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p4dp.privacy.scrub import (
    Identities,
    PatientIdentity,
    PatientScrubber,
    clinical_words,
    scrub_patterns,
    scrub_record_json,
    scrub_texts,
)

TOUX = PatientIdentity(last_names=("Toux", "Vaillant"), first_names=("Rose",),
                       relatives=("Paul Toux", "Marie-Hélène Le Goff"),
                       birth_date=date(1956, 3, 12), address="12 rue des Lilas")


def scrub(text: str, identity: PatientIdentity = TOUX) -> str:
    return PatientScrubber(identity).scrub(scrub_patterns(text))


@pytest.mark.parametrize("text, expected", [
    ("Toux grasse depuis 3 jours", "Toux grasse depuis 3 jours"),
    ("toux sèche, pas de fièvre", "toux sèche, pas de fièvre"),
    ("Mme TOUX revue ce jour pour toux sèche", "Mme [NOM] revue ce jour pour toux sèche"),
    ("Rose Toux, 68 ans, peau rose", "[PRENOM] [NOM], 68 ans, peau rose"),
    ("vue avec son mari Paul", "vue avec son mari [PROCHE]"),
    ("mère Marie-Helene LE GOFF diabétique", "mère [PROCHE] diabétique"),
    ("née VAILLANT", "née [NOM]"),
    ("vaillant, bon état général", "[NOM], bon état général"),
    ("habite 12, rue des Lilas", "habite [ADRESSE]"),
    ("DDN 12/03/1956", "DDN [DATE_NAISSANCE]"),
    ("anniversaire 12 mars 1956", "anniversaire [DATE_NAISSANCE]"),
    ("1956-03-12 : appendicectomie", "[DATE_NAISSANCE] : appendicectomie"),
    ("née le 12/3/56", "née le [DATE_NAISSANCE]"),
    ("TA 12/08, contrôle le 12/03/2024", "TA 12/08, contrôle le 12/03/2024"),
])
def test_patient_named_toux_keeps_her_cough(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("rappeler au 06 12 34 56 78", "rappeler au [TEL]"),
    ("tel 0612345678 ou 04.93.12.34.56", "tel [TEL] ou [TEL]"),
    ("portable +33 6 12 34 56 78, fixe 04-93-12-34-56", "portable [TEL], fixe [TEL]"),
    ("NIR 2 56 03 75 112 345 67", "NIR [NIR]"),
    ("secu 256037511234567", "secu [NIR]"),
    ("ss 1 84 02 2A 012 345", "ss [NIR]"),
    ("écrire à jean.dupont42@orange.fr svp", "écrire à [EMAIL] svp"),
    ("frère né le 3 avril 1950, cardiopathe", "frère né le [DATE_NAISSANCE], cardiopathe"),
    ("DOLIPRANE 1000 mg, CIP 3400930000001", "DOLIPRANE 1000 mg, CIP 3400930000001"),
    ("INR 2,5 le 12/03/2024, TA 135/85, pouls 72", "INR 2,5 le 12/03/2024, TA 135/85, pouls 72"),
])
def test_patterns_replace_phone_nir_email_and_stated_birth_dates(text, expected):
    assert scrub_patterns(text) == expected


def test_names_that_are_words_are_removed_only_in_name_position():
    petit = PatientIdentity(last_names=("Petit",), first_names=("Claude",))
    assert scrub("petit malaise ce matin", petit) == "petit malaise ce matin"
    assert scrub("Petit malaise ce matin", petit) == "Petit malaise ce matin"
    assert scrub("vu M. Petit pour malaise", petit) == "vu M. [NOM] pour malaise"
    assert scrub("appel de Claude petit", petit) == "appel de [PRENOM] [NOM]"
    assert scrub("malaise chez PETIT, à revoir", petit) == "malaise chez [NOM], à revoir"
    assert scrub("PETIT MALAISE", petit) == "PETIT MALAISE"
    assert {"petit", "toux", "rose", "rein", "fievre", "grand", "blanc"} <= clinical_words()


def test_scrubbing_is_case_and_accent_insensitive_and_whole_word():
    lefevre = PatientIdentity(last_names=("Lefèvre",), first_names=("Jean-Pierre",),
                              relatives=("Hélène Lefèvre",))
    assert scrub("M. LEFEVRE et son épouse helene", lefevre) == "M. [NOM] et son épouse [PROCHE]"
    assert scrub("jean-pierre lefévre", lefevre) == "[PRENOM] [NOM]"
    assert scrub("Lefèvreux n'est pas Lefèvre", lefevre) == "Lefèvreux n'est pas [NOM]"


def test_columns_are_scrubbed_with_each_texts_own_patient():
    patient = pa.table({"patient_id": ["1", "2"], "last_name": ["Toux", "Dupont"],
                        "first_name": ["Rose", "Marc"], "birth_name": [None, None],
                        "relatives": [None, "Lise Dupont"], "birth_date": [None, None],
                        "address": [None, None]})
    ids = Identities.from_patient_table(patient)
    texts = pa.array(["Mme Toux vue", "Mme Toux vue", "Marc Dupont et Lise", None, "rien"])
    owners = pa.array(["1", "2", "2", "1", "1"])
    out = scrub_texts(texts, owners, ids).to_pylist()
    # "Toux" is patient 1's name, not patient 2's: for patient 2 it is a cough.
    assert out == ["Mme [NOM] vue", "Mme Toux vue", "[PRENOM] [NOM] et [PROCHE]", None, "rien"]


def test_json_record_loses_identifying_fields_and_its_names_elsewhere():
    record = json.dumps({"nom": "Zerbib", "prenom": "Anouk", "telecom": [{"value": "0601"}],
                         "note": "Anouk Zerbib, tel 06 01 02 03 04", "poids": "1m48"})
    out = json.loads(scrub_record_json(record, None, None))
    assert out == {"note": "[PRENOM] [NOM], tel [TEL]", "poids": "1m48"}


PATTERN_TEXTS = [
    "rappeler au 06 12 34 56 78", "tel 0612345678", "+33 6 12 34 56 78", "04-93-12-34-56",
    "NIR 2 56 03 75 112 345 67", "ss 1 84 02 2A 012 345", "jean.dupont42@orange.fr",
    "né le 3 avril 1950", "DDN 12/3/56", "1956-03-12", "12031956", "12 mars 56",
]


def test_prefilter_lets_through_every_text_with_a_pattern_and_skips_plain_text():
    from p4dp.privacy.scrub import candidate_rows

    plain = ["toux grasse", "DOLIPRANE 1000 mg 1 cp x3/j", "TA 13/8", "HbA1c 7,1 %", None]
    texts = pa.array(PATTERN_TEXTS + plain)
    rows = candidate_rows(texts, pa.array(["1"] * len(texts)), None).tolist()
    assert rows == list(range(len(PATTERN_TEXTS)))
    birth = PatientIdentity(birth_date=date(1956, 3, 12))
    for text in PATTERN_TEXTS[-4:]:
        assert "[DATE_NAISSANCE]" in PatientScrubber(birth).scrub(text) or \
            "[DATE_NAISSANCE]" in scrub_patterns(text), text


def test_birth_date_written_as_first_of_the_month():
    first = PatientIdentity(birth_date=date(1956, 3, 1))
    assert scrub("anniversaire le 1er mars 1956", first) == "anniversaire le [DATE_NAISSANCE]"
    assert scrub("vu le 1er mars 2024", first) == "vu le 1er mars 2024"


def test_synthetic_network_identity_tokens_all_removed_and_clinical_words_kept():
    synth = pytest.importorskip("p4dp.synth")
    if not hasattr(synth, "build_network"):
        pytest.skip("p4dp.synth.build_network is not there yet")
    import pyarrow.compute as pc

    from p4dp.privacy.scrub import evaluate, scrub_tables

    net = synth.build_network("tiny", 1)
    truth = net.ground_truth["identity_tokens"]
    assert truth.num_rows > 0
    tokens = removed = words = lost = 0
    for src in net.practices["source_id"].to_pylist():
        tables = {k: t.filter(pc.equal(t["source_id"], src)) for k, t in net.tables.items()}
        after = scrub_tables(tables, Identities.from_patient_table(tables["patient"],
                                                                  tables["practitioner"]))
        r = evaluate(tables, after, truth.filter(pc.equal(truth["source_id"], src)))
        assert r["removal_rate"] == 1.0, r["misses"]
        tokens += r["tokens"]
        removed += r["removed"]
        words += r["words"]
        lost += r["falsely_removed"]
    # A duplicated row (an injected error) carries its token twice: both copies are checked.
    assert tokens >= truth.num_rows and removed == tokens
    assert lost / words < 0.001, (lost, words)
    print(f"identity tokens removed {removed}/{tokens}; clinical words falsely removed "
          f"{lost}/{words} = {lost / words:.5%}")


def test_practitioners_named_in_text_are_replaced_for_every_patient():
    patient = pa.table({"patient_id": ["1"], "last_name": ["Toux"], "first_name": ["Rose"]})
    staff = pa.table({"practitioner_id": ["D1", "D2"], "last_name": ["Grimaud", "Petit"],
                      "first_name": ["Hortense", "Ulysse"]})
    ids = Identities.from_patient_table(patient, staff)
    texts = pa.array(["avis du Dr Grimaud", "courrier à Ulysse Petit", "petit malaise",
                      "vu par Dr PETIT"])
    out = scrub_texts(texts, pa.array(["1", "2", "1", None]), ids).to_pylist()
    assert out == ["avis du Dr [SOIGNANT]", "courrier à [SOIGNANT] [SOIGNANT]", "petit malaise",
                   "vu par Dr [SOIGNANT]"]


TRICKY_LAST = ["Toux", "Petit", "Blanc", "Grand", "Rein", "Fièvre", "Le Goff", "Boulanger",
               "Masse", "Roux", "Noël", "Léger", "D'Alembert", "N'Diaye", "Ba", "Dupont-Moretti"]
TRICKY_FIRST = ["Rose", "Pierre", "Marie-Hélène", "Claire", "Jean-Pierre", "Avril", "Ambre"]
CLINICAL = ["toux grasse depuis 3 jours", "petit malaise", "rein droit douloureux",
            "fièvre 39", "plaque rose", "grand fatigue", "masse abdominale", "RAS"]
NAME_TEMPLATES = [
    ("vu avec Mme {L}", "vu avec Mme [NOM]"),
    ("M. {L} absent au RDV", "M. [NOM] absent au RDV"),
    ("{F} {L} dit aller mieux", "[PRENOM] [NOM] dit aller mieux"),
    ("courrier pour {LU}", "courrier pour [NOM]"),
    ("appeler {F} demain", "appeler [PRENOM] demain"),
    ("patiente {F}", "patiente [PRENOM]"),
]


@given(last=st.sampled_from(TRICKY_LAST), first=st.sampled_from(TRICKY_FIRST),
       clinical=st.sampled_from(CLINICAL), template=st.sampled_from(NAME_TEMPLATES),
       sep=st.sampled_from([", ", " - ", ". ", " ; "]))
@settings(max_examples=300, deadline=None)
def test_names_in_name_position_always_go_and_clinical_text_before_them_stays(
        last, first, clinical, template, sep):
    identity = PatientIdentity(last_names=(last,), first_names=(first,))
    pattern, expected = template
    text = clinical + sep + pattern.format(L=last, F=first, LU=last.upper())
    out = scrub(text, identity)
    assert out.endswith(expected), (text, out)
    assert out.startswith(clinical), (text, out)
