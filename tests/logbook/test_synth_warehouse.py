"""Demo logbook from the warehouse's interns, and the logbook loaded back into the warehouse."""

from __future__ import annotations

import duckdb
import pytest
from logbook_helpers import PASSWORD, TODAY, build_warehouse
from sqlalchemy import select

from p4dp.governance import audit
from p4dp.governance.models import User
from p4dp.logbook import reference as R
from p4dp.logbook.dashboard import dashboard, warehouse_base_profile
from p4dp.logbook.service import list_entries
from p4dp.logbook.synth import competences_for, populate_demo_logbook
from p4dp.logbook.warehouse import TABLES, load_logbook


@pytest.fixture
def warehouse(tmp_path):
    return build_warehouse(tmp_path / "warehouse.duckdb")


def _users(store) -> dict[str, User]:
    with store.sessions() as s:
        return {u.username: u for u in s.scalars(select(User))}


def test_demo_logbook_gives_each_intern_a_supervised_logbook(store, warehouse):
    result = populate_demo_logbook(store, warehouse, password=PASSWORD, seed=3, today=TODAY)
    assert (result.interns, result.supervisors, result.departments) == (3, 2, 2)
    assert 30 <= result.entries <= 60  # about every other consultation of 3 × 30
    users = _users(store)
    i1 = users["interne.arm.i1"]
    assert i1.practitioner_id == "arm_i1" and i1.department == "DMG région 93"
    assert users["mds.arm.g1"].id == i1.supervisor_id
    entries = list_entries(store, i1)
    assert entries and all(e.intern_id == i1.id for e in entries)
    # supervisor arm_g1 sees both of their interns, the Rouen department only med_i3
    assert {e.intern for e in list_entries(store, users["mds.arm.g1"])} == {
        users["interne.arm.i1"].display_name, users["interne.arm.i2"].display_name}
    assert {e.intern_id for e in list_entries(store, users["dmg.28"])} == {
        users["interne.med.i3"].id}
    d = dashboard(store, i1, today=TODAY, base=warehouse_base_profile(warehouse))
    assert d.n_entries == len(entries) and 0 < d.share_validated < 100
    assert set(d.top["result"]["code"].to_pylist()) <= {"R78", "K86", "A44", "H71"}
    levels = d.progression.sort_by("month")["mean_level"].to_pylist()
    assert levels[0] < levels[-1]  # the levels rise over the semester
    assert audit.verify(store).ok
    again = populate_demo_logbook(store, warehouse, password=PASSWORD, seed=3, today=TODAY)
    assert again.entries == 0


def test_demo_accounts_of_governance_are_reused(store, warehouse, monkeypatch):
    from logbook_helpers import one_hash

    from p4dp.governance import accounts
    from p4dp.governance.accounts import NewUser

    monkeypatch.setattr(accounts, "hash_password", lambda _password: one_hash())
    for new in (NewUser("maitre-stage", "supervisor", PASSWORD, practitioner_id="arm_g1",
                        department="DMG région 93"),
                NewUser("interne", "intern", PASSWORD, practitioner_id="arm_i2",
                        department="DMG région 93", supervisor="maitre-stage"),
                NewUser("dmg", "department", PASSWORD, department="DMG région 93")):
        accounts.add_user(store, new)
    result = populate_demo_logbook(store, warehouse, password=PASSWORD, max_interns=1, seed=3,
                                   today=TODAY)
    users = _users(store)
    assert result.interns == 2  # the latest intern, and the demo's own even beyond the limit
    assert "mds.arm.g1" not in users and "dmg.93" not in users
    assert list_entries(store, users["interne"])
    assert {e.intern_id for e in list_entries(store, users["dmg"])} == {
        users["interne"].id, users["interne.arm.i1"].id}
    assert {e.intern_id for e in list_entries(store, users["maitre-stage"])} == {
        users["interne"].id, users["interne.arm.i1"].id}


def test_suggestions_are_the_coders_codes_only(store, warehouse):
    populate_demo_logbook(store, warehouse, password=PASSWORD, seed=3, today=TODAY)
    e = list_entries(store, _users(store)["interne.arm.i1"])[0]
    from p4dp.logbook.service import get_entry
    p = get_entry(store, _users(store)["interne.arm.i1"], e.id).problems[0]
    assert p.reason.accepted and p.reason.suggested == p.reason.code  # coded by the platform
    assert p.result.suggested is None and not p.result.accepted  # the GP's own code


def test_competences_follow_what_was_handled():
    def prob(reason=None, result=None, procedure=None):
        return {"reason_code": reason, "result_code": result, "procedure_code": procedure}

    assert competences_for([prob("R05", "R78")], "25-44") == ["premier_recours"]
    assert competences_for([prob(result="K86", procedure="A50")], "45-64") == ["continuite"]
    assert competences_for([prob(result="A44"), prob(result="P01")], "75+") == [
        "prevention", "relation", "approche_globale"]
    assert competences_for([prob(result="A62")], "25-44") == ["professionnalisme"]
    assert all(len(competences_for([prob(result=c)] * 3, "75+")) <= R.MAX_COMPETENCES
               for c in ("K86", "R74", "P76"))


def test_bad_demo_inputs_are_explained(store, tmp_path, warehouse):
    with pytest.raises(ValueError, match="mot de passe"):
        populate_demo_logbook(store, warehouse, password="court")
    with pytest.raises(FileNotFoundError, match="p4dp demo"):
        populate_demo_logbook(store, tmp_path / "absent.duckdb", password=PASSWORD)


def test_loader_copies_codes_and_categories_but_no_free_text_or_names(store, warehouse):
    populate_demo_logbook(store, warehouse, password=PASSWORD, seed=3, today=TODAY)
    con = duckdb.connect(str(warehouse))
    counts = load_logbook(store, con)
    assert counts["logbook_entry"] == con.sql("select count(*) from logbook_entry").fetchone()[0]
    for t in TABLES:
        cols = {r[0] for r in con.sql(f"describe {t.name}").fetchall()}
        assert cols == set(t.column_names)
        assert not any(c.endswith("_text") or c in ("intern", "analysis", "justification")
                       for c in cols)
    interns = {r[0] for r in con.sql("select intern_practitioner_id from logbook_entry").fetchall()}
    assert interns == {"arm_i1", "arm_i2", "med_i3"}
    n_problems = con.sql("select count(*) from logbook_problem").fetchone()[0]
    assert n_problems == counts["logbook_problem"] > counts["logbook_entry"]
    assert con.sql("select bool_and(reason_suggested) from logbook_problem").fetchone()[0]
    again = load_logbook(store, con)  # replaced, not appended
    assert again == counts
    assert con.sql("select count(*) from logbook_entry").fetchone()[0] == counts["logbook_entry"]
    con.close()
