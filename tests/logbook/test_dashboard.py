"""Dashboard figures checked against a hand-made set of entries, and its scopes on the store."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
from logbook_helpers import TODAY, entry

from p4dp.logbook import service as S
from p4dp.logbook.dashboard import BaseProfile, build_dashboard, dashboard
from p4dp.logbook.frames import COMPETENCE_SCHEMA, ENTRY_SCHEMA, PROBLEM_SCHEMA, Frames
from p4dp.logbook.service import CompetenceInput, ProblemInput
from p4dp.terminology.icpc2 import chapter_title_fr

# entry, intern, date, age band, sex, status
ENTRIES = [
    (1, 10, "A", date(2026, 1, 10), "25-44", "F", "validated"),
    (2, 10, "A", date(2026, 2, 15), "2-15", "M", "submitted"),
    (3, 20, "B", date(2026, 2, 20), "75+", "F", "draft"),
]
# entry, position, reason code, result code, procedure code
PROBLEMS = [
    (1, 1, "R05", "R76", "R33"),
    (1, 2, None, "K86", None),
    (2, 1, "A03", "R76", None),
    (3, 1, None, "K86", None),
    (3, 2, None, "T90", None),
    (3, 3, None, None, "A62"),
]
# entry, position, competence, level
COMPETENCES = [
    (1, 1, "premier_recours", "novice"),
    (1, 2, "relation", "novice"),
    (2, 1, "premier_recours", "intermediaire"),
    (3, 1, "continuite", "competent"),
]


def _frames() -> Frames:
    e = [{"entry_id": i, "version": 1, "status": st, "intern_id": who, "intern": name,
          "consultation_date": d, "age_band": band, "patient_sex": sex, "supervisor_id": 1,
          "practice": "p", "analysis": ""} for i, who, name, d, band, sex, st in ENTRIES]
    p = [{"entry_id": i, "position": k, "reason_code": rc, "result_code": res,
          "procedure_code": pc} for i, k, rc, res, pc in PROBLEMS]
    c = [{"entry_id": i, "position": k, "competence": comp, "level": lvl, "justification": ""}
         for i, k, comp, lvl in COMPETENCES]
    return Frames(pa.Table.from_pylist(e, ENTRY_SCHEMA), pa.Table.from_pylist(p, PROBLEM_SCHEMA),
                  pa.Table.from_pylist(c, COMPETENCE_SCHEMA))


BASE = BaseProfile(chapters={"R": 0.5, "K": 0.2, "P": 0.1, "X": 0.01, "L": 0.19},
                   age_bands={"25-44": 0.5, "2-15": 0.3, "75+": 0.2}, n_problems=1000)


@pytest.fixture(scope="module")
def dash():
    return build_dashboard(_frames(), date(2026, 1, 1), date(2026, 12, 31), "test", BASE)


def test_counts_and_share_validated(dash):
    assert (dash.n_entries, dash.n_problems, dash.n_interns, dash.n_validated) == (3, 6, 2, 1)
    assert dash.share_validated == 33.3


def test_top_results_reasons_procedures_with_titles(dash):
    assert dash.top["result"].to_pylist() == [
        {"code": "K86", "title_fr": "Hypertension non compliquée", "n": 2, "percent": 40.0},
        {"code": "R76", "title_fr": "Angine aiguë", "n": 2, "percent": 40.0},
        {"code": "T90", "title_fr": "Diabète non insulino-dépendant", "n": 1, "percent": 20.0}]
    assert [r["code"] for r in dash.top["reason"].to_pylist()] == ["A03", "R05"]
    assert dash.top["procedure"]["code"].to_pylist() == ["A62", "R33"]
    assert dash.top["procedure"]["title_fr"][0].as_py().startswith("Contact administratif")


def test_problems_by_chapter_use_the_result_then_the_reason_code(dash):
    assert [(r["chapter"], r["n"], r["percent"]) for r in dash.chapters.to_pylist()] == [
        ("K", 2, 33.3), ("R", 2, 33.3), ("T", 1, 16.7), ("_", 1, 16.7)]
    assert dash.chapters["title_fr"][-1].as_py() == "Pas de code attribué"


def test_age_bands_and_sex_list_every_band(dash):
    rows = {r["age_band"]: (r["F"], r["M"], r["total"]) for r in dash.age_sex.to_pylist()}
    assert list(rows) == ["0-1", "2-15", "16-24", "25-44", "45-64", "65-74", "75+"]
    assert rows["0-1"] == (0, 0, 0) and rows["2-15"] == (0, 1, 1)
    assert rows["25-44"] == (1, 0, 1) and rows["75+"] == (1, 0, 1)
    assert dash.age_sex["label_fr"][0].as_py() == "Moins de 2 ans"


def test_competences_and_their_progression(dash):
    comp = {r["competence"]: (r["n"], r["novice"], r["intermediaire"], r["competent"])
            for r in dash.competences.to_pylist()}
    assert len(comp) == 6 and comp["professionnalisme"] == (0, 0, 0, 0)
    assert comp["premier_recours"] == (2, 1, 1, 0) and comp["continuite"] == (1, 0, 0, 1)
    prog = [(r["month"], r["competence"], r["n"], r["mean_level"])
            for r in dash.progression.to_pylist()]
    assert prog == [(date(2026, 1, 1), "premier_recours", 1, 1.0),
                    (date(2026, 1, 1), "relation", 1, 1.0),
                    (date(2026, 2, 1), "continuite", 1, 3.0),
                    (date(2026, 2, 1), "premier_recours", 1, 2.0)]


def test_per_intern_table(dash):
    assert [(r["intern"], r["n_entries"], r["n_problems"], r["n_validated"], r["last_date"])
            for r in dash.interns.to_pylist()] == [("A", 2, 3, 1, date(2026, 2, 15)),
                                                   ("B", 1, 3, 0, date(2026, 2, 20))]


def test_case_mix_beside_the_base_shows_what_was_not_met(dash):
    rows = {(r["kind"], r["key"]): r for r in dash.casemix.to_pylist()}
    assert (rows["chapitre", "R"]["share"], rows["chapitre", "R"]["base_share"]) == (40.0, 50.0)
    assert rows["chapitre", "R"]["status"] == ""
    assert rows["chapitre", "P"]["status"] == "non rencontré"
    assert rows["chapitre", "X"]["status"] == "sous-représenté"  # 1 % of the base: rare
    assert rows["âge", "2-15"]["share"] == 33.3 and rows["âge", "2-15"]["status"] == ""
    assert dash.not_met == [f"{chapter_title_fr('L')} (chapitre)",
                            f"{chapter_title_fr('P')} (chapitre)"]
    assert dash.to_dict()["not_met"] == dash.not_met


def test_empty_scope_gives_zeros_not_errors():
    empty = Frames(ENTRY_SCHEMA.empty_table(), PROBLEM_SCHEMA.empty_table(),
                   COMPETENCE_SCHEMA.empty_table())
    d = build_dashboard(empty, date(2026, 1, 1), date(2026, 12, 31), "vide", BASE)
    assert (d.n_entries, d.share_validated, d.top["result"].num_rows) == (0, None, 0)
    assert sum(d.age_sex["total"].to_pylist()) == 0
    assert "Psychologique" in " ".join(d.not_met)


def test_scopes_and_period_on_the_store(store, net):
    for who, when in (("int.a", date(2026, 3, 1)), ("int.a", date(2025, 1, 1)),
                      ("int.b", date(2026, 3, 2)), ("int.c", date(2026, 3, 3))):
        S.create_entry(store, net[who], entry(when=when), today=TODAY)
    period = {"start": date(2026, 1, 1), "end": date(2026, 12, 31)}
    assert dashboard(store, net["int.a"], **period).n_entries == 1
    assert dashboard(store, net["int.a"], start=date(2024, 1, 1), end=TODAY).n_entries == 2
    assert dashboard(store, net["sup.b"], **period).n_interns == 2
    dept = dashboard(store, net["dmg.nice"], **period)
    assert (dept.n_entries, dept.scope) == (2, "DMG Nice")
    one = dashboard(store, net["dmg.nice"], intern_id=net["int.b"].id, **period)
    assert (one.n_entries, one.scope) == (1, "Interne B")
    assert dashboard(store, net["sup.a"], intern_id=net["int.a"].id, today=TODAY).n_entries == 1
    for user, other in (("int.a", "int.b"), ("dmg.rouen", "int.a"), ("sup.a", "int.b")):
        with pytest.raises(S.EntryNotFound):
            dashboard(store, net[user], intern_id=net[other].id, **period)
    with pytest.raises(S.LogbookForbidden):
        dashboard(store, net["dr.gp"], **period)
    data = entry(problems=(ProblemInput(result_text="otite", result_code="H71"),),
                 competences=(CompetenceInput("relation", "competent"),))
    S.create_entry(store, net["int.a"], data, submit=True, today=TODAY)
    d = dashboard(store, net["int.a"], today=TODAY)
    assert d.top["result"]["code"].to_pylist() == ["H71", "R76"]
