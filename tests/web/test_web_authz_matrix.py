"""Deny by default: every route × every role (and anonymous) answers as the access matrix says."""

from __future__ import annotations

import re

import pytest
from web_client import ROLE_ACCOUNT, Browser

from p4dp.analytics.library import THEMES
from p4dp.governance.access import CAPABILITIES, ROLE_CAPABILITIES
from p4dp.governance.audit import verify
from p4dp.privacy.disclosure import ROLES
from p4dp.web.app import api_routes
from p4dp.web.security import allow, rule_of

#: Values for path parameters; `{theme}` routes are walked with every theme and an unknown one;
#: other parameters (routes added by other packages) get "1".
SAMPLES = {"name": ["surpoids_by_age_sex"], "dashboard_id": ["1"], "username": ["personne"],
           "theme": [*THEMES, "inconnu"]}


def concrete_paths(path: str) -> list[str]:
    params = re.findall(r"{(\w+)(?::\w+)?}", path)
    paths = [path]
    for p in params:
        paths = [x.replace("{" + p + "}", v) for x in paths for v in SAMPLES.get(p, ["1"])]
    return paths


def expected(rule, role: str | None, path_params: dict) -> str:
    """'ok' (any answer but 401/403), 'login', 'forbidden' or 'missing' (404)."""
    if rule is None:
        return "forbidden"
    if rule.public:
        return "ok"
    if role is None:
        return "login"
    if rule.roles:
        return "ok" if role in rule.roles else "forbidden"
    if rule.capability:
        cap = rule.capability.format(**path_params)
        if cap not in CAPABILITIES:
            return "missing"
        return "ok" if cap in ROLE_CAPABILITIES[role] else "forbidden"
    return "ok"


def test_every_route_declares_who_may_call_it(app):
    routes = api_routes(app)
    assert len(routes) >= 20
    undeclared = [r.path for r in routes if rule_of(r.endpoint) is None]
    assert undeclared == []


@pytest.mark.slow
def test_every_route_times_every_role_answers_as_the_matrix_says(app, as_user):
    checked = 0
    for route in api_routes(app):
        rule = rule_of(route.endpoint)
        for method in sorted(route.methods - {"HEAD"}):
            for path in concrete_paths(route.path):
                match = route.path_regex.match(path)
                for role in [None, *ROLES]:
                    want = expected(rule, role, match.groupdict())
                    unsafe = method != "GET"
                    who = ROLE_ACCOUNT.get(role)
                    # state-changing calls on a fresh session (logout would end the shared one)
                    b = Browser(app, who) if unsafe else as_user(who)
                    r = b.client.request(method, path, json={} if unsafe else None,
                                         headers={"X-CSRF-Token": b.csrf or ""})
                    got = r.status_code
                    where = f"{method} {path} as {role or 'anonyme'}: {got} {r.text[:200]}"
                    if want == "ok":
                        assert got not in (401, 403) and got < 500, where
                    elif want == "login":
                        api = path.startswith("/api/")
                        if api or unsafe:
                            assert got == 401, where
                        else:
                            assert got == 303 and "/login" in r.headers["location"], where
                    elif want == "forbidden":
                        assert got == 403, where
                    else:
                        assert got == 404, where
                    checked += 1
    assert checked > 500
    assert verify(app.state.store).ok


def test_a_route_without_a_declaration_is_refused_to_everyone(sqlite_store, site_warehouse,
                                                              tmp_path):
    from web_client import make_app
    from fastapi import APIRouter

    app = make_app(sqlite_store, site_warehouse, tmp_path)
    router = APIRouter()

    @router.get("/api/v1/oubli")
    def forgotten() -> dict:
        return {"secret": 42}

    @router.get("/api/v1/declaree")
    @allow(authenticated=True)
    def declared() -> dict:
        return {"ok": True}

    app.include_router(router)
    for who in (None, "gp", "admin"):
        b = Browser(app, who)
        r = b.get("/api/v1/oubli")
        assert r.status_code == 403 and "secret" not in r.text
        assert "aucune règle" in r.json()["detail"]
    assert Browser(app, "gp").get("/api/v1/declaree").status_code == 200
    app.state.data.close()


def test_allow_rejects_unknown_roles_and_capabilities():
    with pytest.raises(ValueError):
        allow("chef")
    with pytest.raises(ValueError):
        allow(capability="tout_voir")
    with pytest.raises(ValueError):
        allow()
