"""The documented ICPC-2 coding conventions the coder follows (docs/coding.md, "Conventions"):
procedures are always acts, the first act written wins, empty texts and normal findings get no
code outside the result field, lab tests keep the body system they explore."""

from __future__ import annotations

import pytest

from p4dp.coding import icpc
from p4dp.coding.coder import NO_CODE, Coder


@pytest.fixture(scope="module")
def coder() -> Coder:
    return Coder(min_confidence=0.5)


@pytest.mark.parametrize("text", ["vu", "idem", "cs", "RDV annulé", "pt pas venu", "cf courrier",
                                  "voir notes", "xxx", "??", "."])
@pytest.mark.parametrize("field", ["motif", "resultat", "procedure"])
def test_texts_without_content_get_no_code(coder: Coder, text: str, field: str) -> None:
    assert coder.code(text, field).code == NO_CODE


def test_pointer_words_do_not_hide_content(coder: Coder) -> None:
    # "voir" followed by a clinical word is not a pointer to another document.
    assert coder.code("voir cardiologue", "procedure").code == "K67"
    assert coder.code("courrier", "procedure").code != NO_CODE


@pytest.mark.parametrize("field, code", [("motif", NO_CODE), ("procedure", NO_CODE),
                                         ("resultat", "A97")])
def test_normal_finding_only_codes_a_result(coder: Coder, field: str, code: str) -> None:
    assert coder.code("RAS", field).code == code


@pytest.mark.parametrize("text, code", [
    ("ECG + bilan lipidique", "K42"),         # the first act written
    ("bilan lipidique + ECG", "T34"),
    ("2ème injection Gardasil", "A44"),        # the vaccine, not the generic injection
    ("prescription ECBU", "U33"),
    ("ordonnance kiné", "A57"),
    ("arrêt de l'antibiotique", "A50"),
    ("arrêt de travail", "A62"),
    ("arrêt", "A62"),
    ("revoir si persistance", "A63"),
    ("RDV pris chez le cardio", "K67"),
    ("pose stérilet", "W54"),  # ICPC-2e: a device applied or removed is -54
    ("retrait implant", "W54"),  # (-53 excludes hormone implants: -54)
    ("bilan lipidique", "T34"),
    ("INR", "K34"),
    ("doppler des TSA", "K41"),
])
def test_procedure_acts(coder: Coder, text: str, code: str) -> None:
    assert coder.code(text, "procedure").code == code


@pytest.mark.parametrize("text", ["Zyrtec", "Kardegic 75", "amox 1g x3 6j", "Tobrex collyre"])
def test_a_drug_named_in_a_procedure_is_its_prescription(coder: Coder, text: str) -> None:
    result = coder.code(text, "procedure")
    assert result.code.endswith("50"), result


@pytest.mark.parametrize("text", ["angine", "HTA", "toux", "lumbago", "Kardegic", "xyzzyq",
                                  "pilule", "sterilet", "entorse cheville"])
def test_a_procedure_is_never_a_problem_code(coder: Coder, text: str) -> None:
    code = coder.code(text, "procedure").code
    assert code == NO_CODE or icpc.component(code) == "process", code


def test_a_problem_named_alone_as_procedure_is_its_treatment(coder: Coder) -> None:
    result = coder.code("angine", "procedure")
    assert result.code == "R50"
    assert "présumé" in result.explanation


def test_family_history_plural_is_still_family(coder: Coder) -> None:
    assert coder.code("ATCD familiaux de mort subite", "resultat").code == "K22"
    assert coder.code("ATCD familiaux de diabète", "resultat").code == "A23"


@pytest.mark.parametrize("text, code", [
    ("suivi de grossesse", "W63"),            # the act word wins over the problem term holding it
    ("déclaration de grossesse", "W62"),
    ("implant retiré", "W54"),
    ("rendez-vous dans 3 mois", "A63"),       # a dated appointment is a follow-up
    ("cryo verrue", "S52"),                   # cryotherapy (52), not "cryo" as an ice pack (59)
    ("dossier MDPH", "A62"),                  # a social problem names no body system
    ("certificat de coups et blessures", "A62"),
    ("arrêt du tabac : patchs", "P50"),
])
def test_procedure_acts_more(coder: Coder, text: str, code: str) -> None:
    assert coder.code(text, "procedure").code == code


def test_generic_family_history_yields_to_the_disease_named(coder: Coder) -> None:
    assert coder.code("ATCD familiaux de K du sein", "resultat").code == "A21"


@pytest.mark.parametrize("text, field, code", [
    ("ECBU négatif, brûlures urinaires", "motif", "U01"),   # a test yields to the complaint
    ("frottis", "motif", "X37"),                             # alone it is the reason
    ("mère décédée d'un cancer du côlon", "motif", "A21"),   # the family risk, not the loss
    ("père décédé d'infarctus", "motif", "K22"),
    ("décès de sa mère", "motif", "Z23"),                    # a loss alone stays social
    ("rhume", "resultat", "R74"),
    ("RDV non honoré", "motif", NO_CODE),
    ("extrasystoles", "resultat", "K80"),                    # the conclusion
    ("extrasystoles", "motif", "K05"),                       # the complaint
])
def test_reason_and_result_choices(coder: Coder, text: str, field: str, code: str) -> None:
    assert coder.code(text, field).code == code


def test_a_drug_named_alone_is_a_prescription_in_every_field(coder: Coder) -> None:
    assert coder.code("Zyrtec", "motif").code == "A50"


def test_a_fuzzy_drug_lookalike_is_not_a_drug() -> None:
    from p4dp.coding.coder import _names_drug

    assert _names_drug("zyrtec")
    assert not _names_drug("moral bas")  # the drug table's fuzzy match reads "Mopral"


@pytest.mark.parametrize("text, code", [
    ("TA", "K31"),                       # the measurement, not the hypertension
    ("spéculum", "X31"),
    ("manoeuvre de Semont", "H59"),
    ("béquilles", "L54"),
    ("lit médicalisé", "A50"),
    ("explication des résultats", "A60"),
    ("résultats biologiques commentés", "A60"),
])
def test_short_procedures(coder: Coder, text: str, code: str) -> None:
    assert coder.code(text, "procedure").code == code


def test_a_measurement_stays_behind_the_problem_as_reason_or_result(coder: Coder) -> None:
    assert coder.code("TA", "motif").code == "K86"
    # the conclusion (normal, or the health-maintenance problem), not the visit type A30
    assert coder.code("bilan de santé normal", "resultat").code in {"A97", "A98"}


def test_a_generic_act_yields_to_a_test_as_reason(coder: Coder) -> None:
    assert coder.code("RDV pour frottis", "motif").code == "X37"
    assert coder.code("cs pré-op", "motif").code == "A30"


def test_a_social_problem_named_as_procedure_is_a_social_referral(coder: Coder) -> None:
    result = coder.code("difficultés financières", "procedure")
    assert result.code == "A68"
    assert "orientation sociale" in result.explanation
    assert coder.code("douleur cage thoracique", "motif").code == "A11"  # "cage" is no test


@pytest.mark.parametrize("text, code", [
    ("pas d'ATB", "A45"),                # an act written as not done is watchful waiting
    ("pas de bilan", "A45"),
    ("angine : pas d'ATB", "R45"),
    ("TDR négatif", "R33"),              # a result after the act: the act was done
])
def test_acts_written_as_not_done(coder: Coder, text: str, code: str) -> None:
    assert coder.code(text, "procedure").code == code


@pytest.mark.parametrize("text, code", [
    ("suture 2 points", "S54"),            # the technique names the body system: skin
    ("ablation des agrafes", "S54"),
    ("infiltration", "L55"),
    ("infiltration canal carpien", "N55"),  # the problem named beats the technique's letter
    ("pansement plaie", "S56"),
    ("sondage urinaire", "U53"),
    ("radio du thorax", "R41"),
    ("radio", "A41"),                      # no body system named: A
    ("kiné", "A57"),
])
def test_an_act_whose_technique_names_a_body_system_takes_its_letter(coder: Coder, text: str,
                                                                    code: str) -> None:
    assert coder.code(text, "procedure").code == code


@pytest.mark.parametrize("text, code", [
    ("migrène", "N89"),       # spelt as it sounds: "ai" written "è"
    ("excema", "S88"),        # "cz" written "xc"; eczema NOS is S88 (ICPC-2e inclusion)
    ("lombalige", "L03"),     # two letters swapped
])
def test_spelling_slips_are_corrected(coder: Coder, text: str, code: str) -> None:
    result = coder.code(text, "resultat")
    assert result.code == code
    assert "orthographe corrigée" in result.explanation


@pytest.mark.parametrize("text, code", [
    ("RDV pneumo", "R67"),        # an appointment with a specialist is the referral
    ("cardio", "K67"),            # the specialist named alone
    ("RDV dans 15j", "A63"),      # a delay glued to its unit is a dated appointment
    ("otoscopie", "H31"),         # a partial examination of one body system
    ("examen des seins", "X31"),
])
def test_referrals_appointments_and_partial_examinations(coder: Coder, text: str,
                                                         code: str) -> None:
    assert coder.code(text, "procedure").code == code
