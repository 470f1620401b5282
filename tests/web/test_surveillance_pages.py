"""The surveillance page and its /api/v1/surveillance twins: content, disclosure by role and
region scope, bulletin downloads, bad input — every read audited."""

from __future__ import annotations

from web_client import audit_entries
from site_data import REGION1, REGION2


def test_epidemiologist_sees_the_page_with_curves_table_alerts_and_method(as_user):
    r = as_user("epidemiologist").get("/surveillance?syndrome=grippe")
    assert r.status_code == 200, r.text[:300]
    html = r.text
    for text in ("Syndrome", "Semaine ISO", "Seuil épidémique", "France entière", "Méthode",
                 "Serfling", "bulletin.pdf?week=", "bulletin.html?week="):
        assert text in html
    assert 'data-url="/api/v1/surveillance/series?syndrome=grippe&amp;region=FR' in html
    assert "&lt; 11" in html  # small regional counts suppressed in the table


def test_series_is_protected_with_provisional_weeks_and_thresholds(as_user, app):
    r = as_user("epidemiologist").get(f"/api/v1/surveillance/series?syndrome=grippe"
                                      f"&region={REGION1}")
    assert r.status_code == 200, r.text[:300]
    p = r.json()
    names = [c["name"] for c in p["columns"]]
    assert {"week", "incidence", "threshold", "provisional", "level"} <= set(names)
    assert p["disclosure"]["applied"] is True
    prov = [row[names.index("provisional")] for row in p["rows"]]
    assert prov[-1] is True and prov[0] is False
    ic = names.index("cases")
    for row, col in p["suppressed_cells"]:
        assert col != "cases" or p["rows"][row][ic] is None
        assert p["display_rows"][row][names.index(col)] == "< 11"
    # the GP gets the same protected figures (surveillance is never one GP's own patients)
    gp = as_user("gp").get(f"/api/v1/surveillance/series?syndrome=grippe&region={REGION1}")
    assert gp.status_code == 200 and gp.json()["rows"] == p["rows"]
    entries = audit_entries(app.state.store, action="surveillance.read")
    assert entries and entries[-1].actor == "gp" and entries[-1].rows == len(p["rows"])


def test_regions_table_alerts_and_method(as_user):
    b = as_user("epidemiologist")
    t = b.get("/api/v1/surveillance/regions?syndrome=grippe&week=2026-W10").json()
    assert [row[0] for row in t["rows"]] == [REGION2, REGION1, "FR"] or \
        sorted(row[0] for row in t["rows"]) == sorted([REGION1, REGION2, "FR"])
    assert t["week"] == "2026-W10"
    a = b.get("/api/v1/surveillance/alerts?syndrome=grippe").json()
    assert all(x["syndrome"] == "grippe" for x in a["alerts"])
    assert all("cases" not in x for x in a["alerts"])
    m = b.get("/api/v1/surveillance/method").json()
    assert m["parameters"]["prediction_level"] == 0.9
    s = b.get("/api/v1/surveillance/syndromes").json()
    assert {"grippe", "diarrhee", "varicelle"} <= {x["key"] for x in s["syndromes"]}
    assert s["regions"][0]["code"] == "FR" and s["bulletin"] is True


def test_bulletin_downloads_for_a_chosen_week(as_user, app):
    b = as_user("epidemiologist")
    pdf = b.get("/api/v1/surveillance/bulletin.pdf?week=2026-W10")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "2026-W10" in pdf.headers["content-disposition"]
    html = b.get("/api/v1/surveillance/bulletin.html?week=2026-W10")
    assert html.status_code == 200 and "2026-W10" in html.text and "<svg" in html.text
    exports = audit_entries(app.state.store, action="surveillance.export")
    assert len(exports) == 2 and exports[-1].rows > 0


def test_a_regional_account_sees_its_region_only(as_user, app):
    b = as_user("researcher_region")
    s = b.get("/api/v1/surveillance/syndromes").json()
    assert [r["code"] for r in s["regions"]] == [REGION1] and s["bulletin"] is False
    t = b.get("/api/v1/surveillance/regions?syndrome=grippe&week=2026-W10").json()
    assert [row[0] for row in t["rows"]] == [REGION1]
    assert all(r == 0 for r, _ in t["suppressed_cells"])
    for url in ("/api/v1/surveillance/series?syndrome=grippe&region=FR",
                f"/api/v1/surveillance/series?syndrome=grippe&region={REGION2}",
                "/api/v1/surveillance/bulletin.pdf?week=2026-W10",
                "/surveillance?region=FR"):
        r = b.get(url)
        assert r.status_code == 403, (url, r.status_code)
    denied = audit_entries(app.state.store, action="surveillance.read", outcome="denied")
    assert len(denied) >= 3
    page = b.get("/surveillance")
    assert page.status_code == 200 and '<option value="FR"' not in page.text


def test_bad_input_is_refused_with_a_french_message_and_audited(as_user, app):
    b = as_user("epidemiologist")
    for url, fragment in (("/api/v1/surveillance/series?syndrome=peste", "syndrome inconnu"),
                          ("/api/v1/surveillance/regions?week=1999-W10", "hors des données"),
                          ("/api/v1/surveillance/bulletin?week=2026-W60", "semaine invalide"),
                          ("/api/v1/surveillance/series?start=2026-05-01&end=2026-01-01",
                           "après la fin"),
                          ("/api/v1/surveillance/series?end=1990-01-01", "hors des données")):
        r = b.get(url)
        assert r.status_code == 422, (url, r.text)
        assert fragment in r.json()["detail"], r.json()
    assert len(audit_entries(app.state.store, action="surveillance.read",
                             outcome="invalid")) >= 3
    assert b.get("/api/v1/surveillance/series?region=ZZZ").status_code == 422


def test_roles_without_the_capability_are_refused(as_user):
    for who in ("intern", "ethics", "admin", "supervisor"):
        assert as_user(who).get("/api/v1/surveillance/series").status_code == 403
    assert as_user(None).get("/api/v1/surveillance/series").status_code == 401
