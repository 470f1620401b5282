"""Entries, versions, permissions and bad input — on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from p4dp.governance import audit
from p4dp.logbook import service as S
from p4dp.logbook.models import LogbookEntry, LogbookProblem, LogbookVersion
from p4dp.logbook.service import CompetenceInput, EntryInput, ProblemInput

from logbook_helpers import TODAY, entry


def _counts(store) -> tuple[int, int, int]:
    with store.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(t))
                     for t in (LogbookEntry, LogbookVersion, LogbookProblem))


def test_intern_saves_a_draft_with_codes_titles_and_coder_suggestions(store, net):
    view = S.create_entry(store, net["int.a"], entry(), today=TODAY)
    assert (view.version, view.status, view.status_fr) == (1, "draft", "Brouillon")
    assert view.supervisor == "Dr Alpha" and view.practice == "arm_p1"
    p = view.problems[0]
    assert (p.result.code, p.result.title_fr) == ("R76", "Angine aiguë")
    assert p.result.suggested == "R76" and p.result.accepted
    assert p.reason.code == "R21" and p.reason.text == "mal de gorge"
    assert [c.label_fr for c in view.competences] == ["Premier recours, urgences"]
    again = S.get_entry(store, net["int.a"], view.id)
    assert again == view


def test_typed_codes_are_tidied_and_an_overridden_suggestion_is_not_accepted(store, net):
    data = entry(problems=(ProblemInput(result_text="angine", result_code=" r 74 "),))
    p = S.create_entry(store, net["int.a"], data, today=TODAY).problems[0]
    assert p.result.code == "R74" and p.result.suggested == "R76" and not p.result.accepted


def test_draft_is_edited_in_place_then_validation_locks_and_edits_make_new_versions(store, net):
    e = S.create_entry(store, net["int.a"], entry(), today=TODAY)
    e = S.update_entry(store, net["int.a"], e.id, entry(age_band="16-24"), submit=True,
                       today=TODAY)
    assert (e.version, e.status, e.age_band) == (1, "submitted", "16-24")
    e = S.review_entry(store, net["sup.a"], e.id, "Très bien.")
    assert (e.status, e.supervisor_comment) == ("validated", "Très bien.") and e.locked
    changed = entry(problems=(ProblemInput(result_text="angine", result_code="R76"),
                              ProblemInput(result_text="HTA", result_code="K86")))
    e2 = S.update_entry(store, net["int.a"], e.id, changed, today=TODAY)
    assert (e2.version, e2.status, len(e2.problems)) == (2, "draft", 2)
    versions = S.entry_versions(store, net["int.a"], e.id)
    assert [(v.version, v.status, len(v.problems)) for v in versions] == [
        (1, "validated", 1), (2, "draft", 2)]
    assert versions[0].supervisor_comment == "Très bien."
    assert S.get_entry(store, net["sup.a"], e.id, version=1).age_band == "16-24"
    assert _counts(store) == (1, 2, 3)
    result = audit.verify(store)
    assert result.ok, result.problems
    with store.sessions() as s:
        from p4dp.governance.models import AuditEntry
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("logbook.%"))
                            .order_by(AuditEntry.seq)).all()
    assert actions == ["logbook.create", "logbook.update", "logbook.validate",
                       "logbook.new_version"]


def test_supervisor_sends_back_with_a_comment_and_cannot_validate_a_draft(store, net):
    e = S.create_entry(store, net["int.a"], entry(), today=TODAY)
    with pytest.raises(S.LogbookError, match="pas encore soumise"):
        S.review_entry(store, net["sup.a"], e.id)
    S.submit_entry(store, net["int.a"], e.id)
    with pytest.raises(S.LogbookError, match="indiquer ce que l'interne doit reprendre"):
        S.review_entry(store, net["sup.a"], e.id, validate=False)
    back = S.review_entry(store, net["sup.a"], e.id, "Préciser le score de Mac Isaac.",
                          validate=False)
    assert (back.status, back.version) == ("draft", 1)
    with pytest.raises(S.LogbookError, match="pas encore soumise"):
        S.review_entry(store, net["sup.a"], e.id)


def test_who_sees_what(store, net):
    a = S.create_entry(store, net["int.a"], entry(), today=TODAY).id
    b = S.create_entry(store, net["int.b"], entry(), today=TODAY).id
    c = S.create_entry(store, net["int.c"], entry(), today=TODAY).id

    def ids(user):
        return {x.id for x in S.list_entries(store, net[user])}

    assert ids("int.a") == {a} and ids("int.b") == {b} and ids("int.c") == {c}
    assert ids("sup.a") == {a} and ids("sup.b") == {b, c}
    assert ids("dmg.nice") == {a, b} and ids("dmg.rouen") == {c}
    assert {u.username for u in S.visible_interns(store, net["dmg.nice"])} == {"int.a", "int.b"}
    for outsider in ("dr.gp", "chercheur"):
        with pytest.raises(S.LogbookForbidden, match="réservé aux internes"):
            S.list_entries(store, net[outsider])
    for user, other in (("int.a", b), ("sup.a", b), ("dmg.rouen", a), ("int.b", 999_999)):
        with pytest.raises(S.EntryNotFound, match="introuvable"):
            S.get_entry(store, net[user], other)


def test_someone_elses_entry_cannot_be_changed_and_nothing_is_written(store, net):
    b = S.create_entry(store, net["int.b"], entry(), submit=True, today=TODAY).id
    before, entries_before = audit.verify(store).entries, _counts(store)
    with pytest.raises(S.EntryNotFound):
        S.update_entry(store, net["int.a"], b, entry(age_band="0-1"), today=TODAY)
    with pytest.raises(S.EntryNotFound):
        S.review_entry(store, net["sup.a"], b)  # not int.b's supervisor
    with pytest.raises(S.LogbookForbidden, match="maître de stage"):
        S.review_entry(store, net["int.b"], b)  # an intern cannot validate their own entry
    with pytest.raises(S.LogbookForbidden):
        S.update_entry(store, net["sup.b"], b, entry(), today=TODAY)
    with pytest.raises(S.LogbookForbidden, match="Seul l'interne"):
        S.create_entry(store, net["sup.a"], entry(), today=TODAY)
    assert S.get_entry(store, net["int.b"], b).age_band == "25-44"
    assert (audit.verify(store).entries, _counts(store)) == (before, entries_before)


@pytest.mark.parametrize("data, field, message", [
    (entry(when=date(2026, 11, 30)), "consultation_date", "30/11/2026 est dans le futur"),
    (EntryInput("pas une date", "25-44", "F", entry().problems), "consultation_date",
     "illisible"),
    (entry(problems=(ProblemInput(result_text="angine", result_code="R999"),)),
     "problems.0.result_code", "Problème n°1 — Résultat : code CISP-2 « R999 » inconnu"),
    (entry(competences=(CompetenceInput("astrologie", "novice"),)), "competences.0.competence",
     "ne fait pas partie des six compétences"),
    (entry(competences=(CompetenceInput(None, "competent"),)), "competences.0.competence",
     "un niveau sans compétence"),
    (entry(competences=(CompetenceInput("relation", None),)), "competences.0.level",
     "niveau manquant"),
    (entry(competences=(CompetenceInput("relation", "expert"),)), "competences.0.level",
     "niveau « expert » inconnu"),
    (entry(competences=(CompetenceInput("relation", "novice"),) * 2), "competences.1.competence",
     "déjà choisie"),
    (entry(competences=tuple(CompetenceInput(k, "novice") for k in
                             ("relation", "prevention", "continuite", "premier_recours"))),
     "competences", "au plus 3"),
    (entry(age_band="3 ans"), "age_band", "tranche « 3 ans » inconnue"),
    (entry(sex="X"), "patient_sex", "Sexe du patient"),
    (entry(problems=(ProblemInput(),)), "problems.0", "Problème n°1 : vide"),
    (EntryInput(date(2026, 11, 2), "25-44", "F", ()), "problems", "au moins un problème"),
    (entry(analysis="x" * 5000), "analysis", "au plus 4000"),
])
def test_bad_input_names_the_field_and_nothing_is_saved(store, net, data, field, message):
    with pytest.raises(S.LogbookError, match=message) as err:
        S.create_entry(store, net["int.a"], data, today=TODAY)
    assert field in {e.field for e in err.value.errors}
    assert _counts(store) == (0, 0, 0)
    assert audit.verify(store).entries == 9  # the accounts only


def test_every_wrong_field_is_reported_at_once(store, net):
    data = EntryInput(date(2027, 1, 1), "?", "?",
                      (ProblemInput(reason_text="toux", reason_code="ZZZ"),),
                      (CompetenceInput(None, "novice"),))
    with pytest.raises(S.LogbookError) as err:
        S.create_entry(store, net["int.a"], data, today=TODAY)
    assert [e.field for e in err.value.errors] == [
        "consultation_date", "age_band", "patient_sex", "problems.0.reason_code",
        "competences.0.competence"]


def test_blank_competence_slots_are_ignored_and_from_mapping_reads_a_json_body(store, net):
    body = {"consultation_date": "02/11/2026", "age_band": "2-15", "patient_sex": "M",
            "problems": [{"reason_text": "fièvre", "result_text": "otite", "result_code": "H71",
                          "ignored": 1}],
            "competences": [{"competence": "relation", "level": "intermediaire",
                             "justification": "parents inquiets"}, {}, {"competence": ""}],
            "analysis": ""}
    view = S.create_entry(store, net["int.a"], EntryInput.from_mapping(body), today=TODAY)
    assert view.consultation_date == date(2026, 11, 2)
    assert [(c.competence, c.level_fr) for c in view.competences] == [
        ("relation", "Intermédiaire")]
    assert view.to_dict()["consultation_date"] == "2026-11-02"


def test_intern_without_supervisor_is_told_what_to_do(store, net):
    from p4dp.governance import accounts
    from p4dp.governance.accounts import NewUser

    lone = accounts.add_user(store, NewUser("int.seul", "intern", "Interne-2026!ok",
                                            practitioner_id="x", practice_id="p"))
    with pytest.raises(S.LogbookError, match="aucun n'est associé"):
        S.create_entry(store, lone, entry(), today=TODAY)
