"""The app in-process: login, sessions, headers, pages and their API twins, CSV, the "+" editor."""

from __future__ import annotations

from web_client import PASSWORD, Browser, audit_entries, csrf_of
from site_data import REGION1

from p4dp.governance.accounts import MAX_FAILED_LOGINS
from p4dp.governance.audit import verify


def test_anonymous_pages_redirect_to_login_and_api_says_401(as_user):
    anon = as_user(None)
    r = anon.get("/themes/surpoids")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/themes/surpoids"
    r = anon.get("/api/v1/themes/surpoids")
    assert r.status_code == 401 and "Connexion requise" in r.json()["detail"]


def test_login_sets_a_signed_http_only_same_site_cookie_and_logout_ends_it(app):
    b = Browser(app, None)
    page = b.get("/login")
    r = b.client.post("/login", data={"username": "gp", "password": PASSWORD,
                                      "csrf_token": csrf_of(page.text), "next": "/themes/motifs"})
    assert r.status_code == 303 and r.headers["location"] == "/themes/motifs"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=1800" in cookie
    home = b.get("/")
    assert home.status_code == 200 and "Médecin généraliste" in home.text
    r = b.client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert r.status_code == 303
    assert b.get("/api/v1/me").status_code == 401


def test_login_never_redirects_to_another_site(app):
    b = Browser(app, None)
    r = b.client.post("/login", data={"username": "gp", "password": PASSWORD,
                                      "csrf_token": b.csrf, "next": "//evil.example/x"})
    assert r.headers["location"] == "/"


def test_wrong_passwords_lock_the_account(app, sqlite_store):
    b = Browser(app, None)
    for _ in range(MAX_FAILED_LOGINS):
        r = b.login("researcher", "Mauvais-Mot-de-passe-1")
        assert r.status_code == 401 and "incorrect" in r.text
    r = b.login("researcher")  # right password, but locked now
    assert r.status_code == 401 and "verrouillé" in r.text
    assert [e.outcome for e in audit_entries(sqlite_store, action="login")][-1] == "locked"


def test_security_headers_forbid_anything_from_elsewhere(as_user):
    r = as_user("gp").get("/themes/surpoids")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "http" not in csp and "unsafe" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert 'src="/static/vendor/plotly.min.js"' in r.text
    assert "cdn" not in r.text.lower() and "https://" not in r.text
    js = as_user(None).get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000


def test_no_swagger_page_pulling_scripts_from_a_cdn(as_user):
    assert as_user("gp").get("/docs").status_code == 404
    schema = as_user(None).get("/api/v1/openapi.json").json()
    assert "/api/v1/themes/{theme}" in schema["paths"]


def test_every_theme_page_of_the_gp_has_its_api_twin(as_user):
    gp = as_user("gp")
    for theme in gp.get("/api/v1/me").json()["themes"]:
        page = gp.get(f"/themes/{theme}")
        assert page.status_code == 200
        assert f'data-url="/api/v1/themes/{theme}"' in page.text
        data = gp.get(f"/api/v1/themes/{theme}").json()
        assert data["scope_choice"] == "personnel" and data["panels"]


def test_the_gp_sees_exact_cells_where_a_researcher_sees_suppressed_ones(as_user):
    mine = as_user("gp").get("/api/v1/indicators/surpoids_by_age_sex?scope=personnel").json()
    base = as_user("researcher").get("/api/v1/indicators/surpoids_by_age_sex").json()
    assert mine["suppressed_cells"] == [] and mine["disclosure"]["applied"] is False
    assert base["suppressed_cells"] and base["disclosure"]["applied"] is True
    shown = [v for row in base["display_rows"] for v in row]
    assert "< 11" in shown
    for r, col in base["suppressed_cells"]:
        i = [c["name"] for c in base["columns"]].index(col)
        assert base["rows"][r][i] is None and base["display_rows"][r][i] == "< 11"


def test_figures_are_formatted_the_french_way(as_user):
    data = as_user("researcher").get("/api/v1/indicators/general_consultations_per_type").json()
    total = as_user("gp").get("/api/v1/indicators/general_consultations?scope=base").json()
    n = total["rows"][0][0]
    assert n >= 1000 and total["display_rows"][0][0] == f"{n:,}".replace(",", "\u202f")
    assert all(isinstance(v, str) for row in data["display_rows"] for v in row)
    dated = as_user("gp").get("/api/v1/indicators/surpoids_line_list").json()
    i = [c["name"] for c in dated["columns"]].index("date")
    assert dated["display_rows"][0][i].count("/") == 2  # dd/mm/yyyy


def test_slicers_change_the_figures(as_user):
    gp = as_user("gp")
    everyone = gp.get("/api/v1/indicators/general_patients").json()["rows"][0][0]
    women = gp.get("/api/v1/indicators/general_patients?sex=F").json()["rows"][0][0]
    children = gp.get("/api/v1/indicators/general_patients?age_min=0&age_max=15").json()
    assert 0 < women < everyone and children["rows"][0][0] < everyone
    assert children["filters"]["age_max"] == 15


def test_a_regional_researcher_sees_only_the_region(as_user):
    b = as_user("researcher_region")
    data = b.get("/api/v1/indicators/general_patients").json()
    assert data["scope_choice"] == "region" and data["disclosure"]["applied"]
    assert data["scope"] == {"kind": "region", "value": REGION1}
    assert b.get("/api/v1/indicators/general_patients?scope=base").status_code == 403
    theme = b.get("/api/v1/themes/motifs").json()
    refused = {p["indicator"]: p.get("refused") for p in theme["panels"]}
    assert refused["motifs_top_diagnoses_base"]


def test_csv_download_is_protected_and_audited(as_user, sqlite_store):
    r = as_user("researcher").get("/api/v1/indicators/surpoids_by_age_sex/csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Âge") and ";< 11" in text
    rows = [line.split(";") for line in text.splitlines()[1:]]
    shown = as_user("researcher").get("/api/v1/indicators/surpoids_by_age_sex").json()
    names = [c["name"] for c in shown["columns"]]
    for r, col in shown["suppressed_cells"]:  # never written as 0
        assert rows[r][names.index(col)] == "< 11"
    gp_csv = as_user("gp").get("/api/v1/indicators/surpoids_by_age_sex/csv").text
    assert "< 11" not in gp_csv
    exports = audit_entries(sqlite_store, action="data.export")
    assert [e.actor for e in exports] == ["researcher", "gp"]
    assert exports[0].rows > 0 and exports[0].cells > 0
    line_list = as_user("researcher").get("/api/v1/indicators/surpoids_line_list/csv?scope=base")
    assert "Refusé" in line_list.content.decode("utf-8-sig")


def test_the_editor_saves_private_and_shared_dashboards(as_user):
    gp, other_gp, researcher = as_user("gp"), as_user("gp2"), as_user("researcher")
    body = {"title": "Enfants", "shared_role": None, "panels": [
        {"indicator": "surpoids_by_age_sex", "chart": "bar", "by": "child_age",
         "filters": {"sex": "F"}}]}
    private = gp.post("/api/v1/dashboards", json=body)
    assert private.status_code == 201, private.text
    pid = private.json()["id"]
    shared = gp.post("/api/v1/dashboards", json={**body, "title": "Pour la recherche",
                                                 "shared_role": "researcher"}).json()
    assert {d["id"] for d in gp.get("/api/v1/dashboards").json()} == {pid, shared["id"]}
    assert [d["id"] for d in researcher.get("/api/v1/dashboards").json()] == [shared["id"]]
    assert other_gp.get("/api/v1/dashboards").json() == []
    assert other_gp.get(f"/api/v1/dashboards/{pid}").status_code == 404  # someone else's id
    assert other_gp.delete(f"/api/v1/dashboards/{pid}").status_code == 404
    assert gp.get(f"/dashboards/{pid}").status_code == 200
    data = gp.get(f"/api/v1/dashboards/{pid}").json()
    assert data["panels"][0]["data"]["filters"]["sex"] == "F"  # the saved default filter
    assert gp.delete(f"/api/v1/dashboards/{pid}").status_code == 200
    assert gp.get(f"/api/v1/dashboards/{pid}").status_code == 404


def test_a_shared_dashboard_cannot_bypass_scopes_or_disclosure_control(as_user):
    gp, researcher = as_user("gp"), as_user("researcher")
    d = gp.post("/api/v1/dashboards", json={"title": "Tout", "shared_role": "researcher",
                                            "panels": [
                                                {"indicator": "surpoids_line_list"},
                                                {"indicator": "surpoids_by_age_sex"},
                                                {"indicator": "activite_pyramid"}]}).json()
    mine = gp.get(f"/api/v1/dashboards/{d['id']}").json()["panels"]
    assert len(mine[0]["data"]["rows"]) > 0 and not mine[1]["data"]["suppressed_cells"]
    seen = researcher.get(f"/api/v1/dashboards/{d['id']}").json()["panels"]
    assert seen[0]["data"]["rows"] == [] and seen[0]["data"]["refused"]  # line list
    assert seen[1]["data"]["suppressed_cells"]  # protected
    assert seen[2]["data"]["rows"] == [] and "Accès refusé" in seen[2]["data"]["refused"]
    # nor can a researcher save a panel of a theme outside their role
    r = researcher.post("/api/v1/dashboards", json={"title": "x", "panels": [
        {"indicator": "activite_pyramid"}]})
    assert r.status_code == 422 and "pas accessible" in r.json()["detail"]


def test_quality_page_for_the_data_steward_and_audit_for_the_admin(as_user):
    assert as_user("data_steward").get("/quality").status_code == 200
    assert as_user("data_steward").get("/api/v1/quality").json() == []  # no report stored
    assert as_user("gp").get("/quality").status_code == 403
    log = as_user("admin").get("/api/v1/audit?limit=5").json()
    assert log["intact"] and len(log["latest"]) == 5
    assert "Journal intègre" in as_user("admin").get("/audit").text
    assert as_user("admin").get("/api/v1/themes/general").status_code == 403


def test_admin_disables_an_account_and_it_can_no_longer_log_in(as_user, app, sqlite_store):
    admin = as_user("admin")
    assert admin.post("/api/v1/users/ethics/disable").json() == {"username": "ethics",
                                                                 "active": False}
    assert Browser(app, None).login("ethics").status_code == 401
    assert admin.post("/api/v1/users/admin/disable").status_code == 422
    assert [e.actor for e in audit_entries(sqlite_store, action="user.disable")] == ["admin"]
    assert verify(sqlite_store).ok


def test_home_page_per_role(as_user):
    assert "Qualité des données" in as_user("data_steward").get("/").text
    admin_home = as_user("admin").get("/").text
    assert "Comptes" in admin_home and "/themes/" not in admin_home
    assert "aucune donnée" in as_user("ethics").get("/").text
    gp_home = as_user("gp").get("/").text
    assert "Tableau de bord individuel" in gp_home and "Personnel" in gp_home
