"""The access matrix, scope resolution and the audited output boundary (governance.serve)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from site_data import GP1, REGION1, build_site_warehouse  # noqa: E402

from p4dp.analytics.model import Filters, Scope  # noqa: E402
from p4dp.governance.access import (ROLE_CAPABILITIES, AccessDenied, Principal,  # noqa: E402
                                    resolve_scope, scopes_for, themes_for)
from p4dp.governance.audit import verify  # noqa: E402
from p4dp.governance.serve import DataService  # noqa: E402
from p4dp.privacy.disclosure import ROLES  # noqa: E402


def who(role: str, **kw) -> Principal:
    return Principal(user_id=1, username=f"u_{role}", role=role, **kw)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site_warehouse(tmp_path_factory.mktemp("site") / "warehouse.duckdb")


def test_every_role_has_a_line_and_admin_and_ethics_see_no_patient_data():
    assert set(ROLE_CAPABILITIES) == set(ROLES)
    for role in ("admin", "ethics"):
        assert themes_for(role) == []
        assert scopes_for(who(role)) == {}
    assert "accounts" in ROLE_CAPABILITIES["admin"]
    assert "quality" in ROLE_CAPABILITIES["data_steward"]
    assert "line_lists" in ROLE_CAPABILITIES["gp"]
    assert all("line_lists" not in caps for r, caps in ROLE_CAPABILITIES.items() if r != "gp")


def test_a_gp_has_personnel_then_the_base():
    scopes = scopes_for(who("gp", practitioner_id=GP1))
    assert list(scopes) == ["personnel", "base"]
    assert scopes["personnel"] == Scope("practitioner", GP1)
    assert scopes["base"] == Scope()


def test_a_regional_researcher_is_confined_to_the_region():
    p = who("researcher", region_code=REGION1)
    assert scopes_for(p) == {"region": Scope("region", REGION1)}
    with pytest.raises(AccessDenied):
        resolve_scope(p, "base")
    assert scopes_for(who("researcher")) == {"base": Scope()}
    assert scopes_for(who("epidemiologist", region_code="28")) == {"region": Scope("region",
                                                                                   "28")}


def test_only_a_gp_may_ask_for_personnel():
    for role in ROLES:
        if role != "gp":
            with pytest.raises(AccessDenied):
                resolve_scope(who(role, practitioner_id=GP1), "personnel")


def test_the_boundary_audits_who_route_params_scope_rows_and_cells(store, site):
    svc = DataService(store, site, pool_size=1)
    gp = who("gp", practitioner_id=GP1)
    result = svc.indicators(gp, ["surpoids_by_age_sex"], scope_choice=None, filters=Filters(),
                            route="/api/v1/x", params={"sex": "F"})
    assert result.scope_key == "personnel"
    (entry,) = _entries(store)
    assert (entry.actor, entry.role, entry.action, entry.target) == (
        "u_gp", "gp", "data.read", "/api/v1/x")
    assert json.loads(entry.params) == {"sex": "F"}
    assert json.loads(entry.scope)["value"] == GP1
    assert entry.rows == result.rows > 0 and entry.cells == result.cells > 0
    assert verify(store).ok
    svc.close()


def test_a_regional_researcher_never_gets_whole_base_indicators(store, site):
    svc = DataService(store, site, pool_size=1)
    p = who("researcher", region_code=REGION1)
    result = svc.indicators(p, ["motifs_top_diagnoses_base", "general_patients"],
                            scope_choice=None, filters=Filters(), route="r", params={})
    base, regional = result.payloads
    assert base["rows"] == [] and "régional" in base["refused"]
    assert regional["scope"] == {"kind": "region", "value": REGION1}
    svc.close()


def test_refusals_are_audited_and_return_nothing(store, site):
    svc = DataService(store, site, pool_size=1)
    with pytest.raises(AccessDenied):  # a theme outside the role
        svc.indicators(who("researcher"), ["activite_pyramid"], scope_choice=None,
                       filters=Filters(), route="r", params={})
    with pytest.raises(AccessDenied):  # the patient slicer outside the GP's own scope
        svc.indicators(who("gp", practitioner_id=GP1), ["general_patients"], scope_choice="base",
                       filters=Filters(patient_id="arm_pat0001"), route="r", params={})
    with pytest.raises(LookupError):
        svc.indicators(who("gp", practitioner_id=GP1), ["nope"], scope_choice=None,
                       filters=Filters(), route="r", params={})
    outcomes = [e.outcome for e in _entries(store)]
    assert outcomes == ["denied", "denied", "invalid"]
    assert all(e.rows is None for e in _entries(store))
    svc.close()


def test_line_lists_reach_the_gp_only(store, site):
    svc = DataService(store, site, pool_size=1)
    mine = svc.indicators(who("gp", practitioner_id=GP1), ["surpoids_line_list"],
                          scope_choice="personnel", filters=Filters(), route="r", params={})
    assert len(mine.payloads[0]["rows"]) > 0
    for p in (who("gp", practitioner_id=GP1), who("researcher"), who("data_steward")):
        other = svc.indicators(p, ["surpoids_line_list"], scope_choice="base",
                               filters=Filters(), route="r", params={})
        assert other.payloads[0]["rows"] == [] and other.payloads[0]["refused"]
    svc.close()


def _entries(store):
    from sqlalchemy import select

    from p4dp.governance.models import AuditEntry

    with store.sessions() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_demo_accounts_cover_every_role_with_real_pseudonyms(store, site):
    from p4dp.governance.accounts import authenticate, password_problem
    from p4dp.governance.demo import create_demo_accounts

    first = create_demo_accounts(store, site)
    assert {role for _, _, role, _ in first} == set(ROLES)
    by_name = {name: (pw, role) for name, pw, role, _ in first}
    assert all(password_problem(pw) is None for pw, _ in by_name.values())
    gp = authenticate(store, "medecin", by_name["medecin"][0]).user
    assert gp.practitioner_id == GP1  # the GP with the most patients, who has an intern
    intern = authenticate(store, "interne", by_name["interne"][0]).user
    assert intern.practitioner_id == "arm_i1" and intern.supervisor_id is not None
    region = authenticate(store, "chercheur-region", by_name["chercheur-region"][0]).user
    assert region.region_code == REGION1
    again = dict((n, pw) for n, pw, _, _ in create_demo_accounts(store, site))
    assert again["medecin"] != by_name["medecin"][0]  # new passwords, same accounts
    assert authenticate(store, "medecin", by_name["medecin"][0]).user is None
    assert verify(store).ok
