"""Bad input: forged or missing CSRF tokens, other users' ids, injection fragments, huge or
malformed bodies — a 4xx with a clear French message, nothing changed, an audit entry."""

from __future__ import annotations

import pytest
from web_client import Browser, audit_entries
from sqlalchemy import func, select

from p4dp.governance.audit import verify
from p4dp.governance.dashboards import SavedDashboard
from p4dp.web.app import MAX_BODY_BYTES

FRAGMENTS = ["' OR 1=1 --", "\"; DROP TABLE patient; --", "<script>alert(1)</script>",
             "../../etc/passwd", "%00", "1e309", "-1", "ＦＲ", "a" * 5000]
#: Every query parameter of the data routes.
PARAMS = ["scope", "sex", "age_min", "age_max", "date_from", "date_to", "patient"]
DASHBOARD = {"title": "T", "panels": [{"indicator": "general_patients"}]}


def dashboards_count(store) -> int:
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(SavedDashboard))


def refusals(store) -> list:
    return audit_entries(store, action="http.refused")


@pytest.mark.parametrize("headers", [{}, {"X-CSRF-Token": "forged-token"}])
def test_a_state_change_without_the_right_csrf_token_is_refused(app, sqlite_store, headers):
    gp = Browser(app, "gp")
    r = gp.client.post("/api/v1/dashboards", json=DASHBOARD, headers=headers)
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert dashboards_count(sqlite_store) == 0
    assert refusals(sqlite_store)[-1].target == "/api/v1/dashboards"


def test_a_form_post_with_a_forged_token_does_not_log_out(app, sqlite_store):
    gp = Browser(app, "gp")
    r = gp.client.post("/logout", data={"csrf_token": "x" * 43})
    assert r.status_code == 403 and "CSRF" in r.text
    assert gp.get("/api/v1/me").status_code == 200


def test_the_login_form_needs_its_token_too(app, sqlite_store):
    anon = Browser(app, None)
    r = anon.client.post("/login", data={"username": "gp", "password": "x", "csrf_token": "no"})
    assert r.status_code == 403
    assert not audit_entries(sqlite_store, action="login")  # not even tried


def test_another_users_dashboard_id_is_not_found_and_unchanged(app, sqlite_store):
    owner, intruder = Browser(app, "gp"), Browser(app, "gp2")
    d = owner.post("/api/v1/dashboards", json=DASHBOARD).json()
    for r in (intruder.get(f"/api/v1/dashboards/{d['id']}"),
              intruder.get(f"/dashboards/{d['id']}"),
              intruder.delete(f"/api/v1/dashboards/{d['id']}")):
        assert r.status_code == 404
    assert dashboards_count(sqlite_store) == 1
    assert len([e for e in refusals(sqlite_store) if e.actor == "gp2"]) == 3


@pytest.mark.parametrize("param", PARAMS)
def test_injection_fragments_in_every_parameter_get_a_4xx_and_an_audit_entry(app, sqlite_store,
                                                                             param):
    gp = Browser(app, "gp")
    before = len(refusals(sqlite_store))
    for fragment in FRAGMENTS:
        r = gp.get("/api/v1/indicators/general_patients", params={param: fragment})
        if r.status_code == 200:  # "-1"… only where the value is harmless and valid
            continue
        assert 400 <= r.status_code < 500, (param, fragment, r.status_code)
        detail = r.json()["detail"]
        assert "invalide" in detail.lower() or "refusé" in detail.lower()
        assert "<script>" not in detail
    assert len(refusals(sqlite_store)) > before
    assert verify(sqlite_store).ok


@pytest.mark.parametrize("path", ["/api/v1/indicators/' OR 1=1", "/api/v1/themes/<script>",
                                  "/themes/..%2F..%2Fetc", "/api/v1/dashboards/-1",
                                  "/api/v1/dashboards/99999999999999999999"])
def test_injection_fragments_in_paths_get_a_4xx(app, sqlite_store, path):
    r = Browser(app, "gp").get(path)
    assert 400 <= r.status_code < 500
    assert refusals(sqlite_store)


def test_html_pages_escape_what_the_user_typed(app):
    anon = Browser(app, None)
    r = anon.client.post("/login", data={"username": "<script>alert(1)</script>",
                                         "password": "x", "csrf_token": anon.csrf})
    assert r.status_code == 401
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text


def test_a_huge_body_is_refused_before_it_is_read(app, sqlite_store):
    gp = Browser(app, "gp")
    big = {"title": "x", "panels": [{"indicator": "general_patients"}], "pad": "a" *
           (MAX_BODY_BYTES + 10)}
    r = gp.post("/api/v1/dashboards", json=big)
    assert r.status_code == 413 and "volumineuse" in r.json()["detail"]
    assert dashboards_count(sqlite_store) == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2", b"\xff\xfe", b'"just a string"',
                                  b'{"title": 5, "panels": []}',
                                  b'{"title": "x", "panels": [{"indicator": ["a"]}]}',
                                  b'{"title": "x", "panels": [{"indicator": "general_patients",'
                                  b' "chart": {"a": 1}}]}',
                                  b'{"title": "x", "panels": [{"indicator": "general_patients",'
                                  b' "filters": {"sex": "X"}}]}',
                                  b'{"title": "x", "shared_role": "root", "panels": '
                                  b'[{"indicator": "general_patients"}]}'])
def test_malformed_json_gets_a_422_and_nothing_is_saved(app, sqlite_store, body):
    gp = Browser(app, "gp")
    r = gp.post("/api/v1/dashboards", content=body,
                headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
    assert dashboards_count(sqlite_store) == 0
    assert refusals(sqlite_store)[-1].outcome == "422"
