"""The logbook's pages and /api/v1 twins, in-process (FastAPI TestClient, SQLite store)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from logbook_helpers import PASSWORD, build_warehouse, make_network, one_hash
from sqlalchemy import func, select

from p4dp.governance.store import Store
from p4dp.logbook.models import LogbookEntry
from p4dp.settings import Settings

BODY = {"consultation_date": "2026-11-02", "age_band": "2-15", "patient_sex": "F",
        "problems": [{"reason_text": "fièvre", "result_text": "otite", "result_code": "H71"}],
        "competences": [{"competence": "premier_recours", "level": "novice",
                         "justification": "otoscopie seule"}],
        "analysis": "Revoir l'antibiothérapie."}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


class Client:
    def __init__(self, app, username: str):
        self.c = TestClient(app, follow_redirects=False)
        page = self.c.get("/login")
        r = self.c.post("/login", data={"username": username, "password": PASSWORD,
                                        "csrf_token": csrf_of(page.text), "next": "/"})
        assert r.status_code == 303, r.text
        self.csrf = csrf_of(self.c.get("/").text)

    def get(self, url, **kw):
        return self.c.get(url, **kw)

    def send(self, method, url, **kw):
        return self.c.request(method, url, headers={"X-CSRF-Token": self.csrf}, **kw)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture
def app(tmp_path, warehouse, monkeypatch):
    from p4dp.governance import accounts
    from p4dp.web.app import create_app

    store = Store.open(f"sqlite:///{tmp_path / 'p4dp.sqlite'}")
    monkeypatch.setattr(accounts, "hash_password", lambda _password: one_hash())
    make_network(store)
    application = create_app(Settings(home=tmp_path, secret_key="k" * 48, duckdb_threads=1),
                             store, warehouse)
    yield application
    application.state.data.close()
    store.dispose()


def _count(app) -> int:
    with app.state.store.sessions() as s:
        return s.scalar(select(func.count()).select_from(LogbookEntry))


def test_api_create_review_and_read_back(app):
    intern, sup = Client(app, "int.a"), Client(app, "sup.a")
    r = intern.send("POST", "/api/v1/logbook/entries?submit=true", json=BODY)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["status"] == "submitted"
    assert entry["problems"][0]["result"]["title_fr"] == "Otite moyenne aiguë ou myringite"
    r = sup.send("POST", f"/api/v1/logbook/entries/{entry['id']}/review",
                 json={"comment": "Bien.", "validate": True})
    assert r.json()["status"] == "validated"
    r = intern.send("PUT", f"/api/v1/logbook/entries/{entry['id']}",
                    json={**BODY, "age_band": "0-1"})
    assert (r.json()["version"], r.json()["status"]) == (2, "draft")
    versions = intern.get(f"/api/v1/logbook/entries/{entry['id']}/versions").json()
    assert [v["status"] for v in versions] == ["validated", "draft"]
    listed = Client(app, "dmg.nice").get("/api/v1/logbook/entries").json()
    assert [e["id"] for e in listed] == [entry["id"]]


def test_api_bad_input_is_422_with_fields_and_nothing_saved(app):
    intern = Client(app, "int.a")
    bad = {**BODY, "consultation_date": "2999-01-01",
           "problems": [{"result_text": "otite", "result_code": "H999"}],
           "competences": [{"level": "competent"}]}
    r = intern.send("POST", "/api/v1/logbook/entries", json=bad)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"consultation_date", "problems.0.result_code", "competences.0.competence"}
    assert "dans le futur" in r.json()["detail"]
    assert _count(app) == 0


def test_api_permissions(app):
    created = Client(app, "int.b").send("POST", "/api/v1/logbook/entries", json=BODY).json()
    url = f"/api/v1/logbook/entries/{created['id']}"
    assert Client(app, "int.a").get(url).status_code == 404  # another intern's id
    assert Client(app, "sup.a").get(url).status_code == 404  # not their intern
    assert Client(app, "sup.b").get(url).status_code == 200
    assert Client(app, "dr.gp").get(url).status_code == 403
    assert Client(app, "int.a").send("PUT", url, json=BODY).status_code == 404
    r = Client(app, "dmg.nice").send("POST", url + "/review", json={})
    assert r.status_code == 403  # the department follows, the supervisor validates
    r = Client(app, "int.a").get(f"/api/v1/logbook/dashboard?intern_id={created['intern_id']}")
    assert r.status_code == 404


def test_picker_and_coder_suggestion(app):
    intern = Client(app, "int.a")
    hits = intern.get("/api/v1/logbook/cisp", params={"q": "angin"}).json()
    assert hits[0]["code"] == "R76" and hits[0]["title_fr"] == "Angine aiguë"
    assert intern.get("/api/v1/logbook/cisp", params={"q": "r74"}).json()[0]["code"] == "R74"
    s = intern.get("/api/v1/logbook/suggest", params={"text": "angine", "field": "result"}).json()
    assert (s["code"], s["title_fr"]) == ("R76", "Angine aiguë")
    assert Client(app, "dr.gp").get("/api/v1/logbook/cisp?q=r").status_code == 403


def test_dashboard_and_portfolio_downloads(app):
    intern = Client(app, "int.a")
    intern.send("POST", "/api/v1/logbook/entries", json=BODY)
    d = intern.get("/api/v1/logbook/dashboard?start=2026-01-01&end=2026-11-29").json()
    assert d["n_entries"] == 1 and d["top"]["result"][0]["code"] == "H71"
    assert d["casemix"] and isinstance(d["not_met"], list)
    page = intern.get("/logbook/dashboard?start=2026-01-01&end=2026-11-29")
    assert page.status_code == 200 and "Otite moyenne aiguë" in page.text
    pdf = intern.get("/api/v1/logbook/portfolio.pdf?start=2026-01-01&end=2026-11-29")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv_ = Client(app, "sup.a").get("/api/v1/logbook/portfolio.csv", params={
        "intern_id": d["interns"][0]["intern_id"], "start": "2026-01-01"})
    assert csv_.status_code == 200 and "H71 - Otite" in csv_.content.decode("utf-8-sig")
    assert Client(app, "sup.a").get("/api/v1/logbook/portfolio.csv").status_code == 422
    bad = intern.get("/api/v1/logbook/dashboard?start=2026-12-01&end=2026-01-01")
    assert bad.status_code == 422 and "après la fin" in bad.json()["detail"]


def test_form_pages_create_show_errors_and_review(app):
    intern = Client(app, "int.a")
    form = intern.get("/logbook/new")
    assert form.status_code == 200 and "Problème n°3" in form.text
    data = {"csrf_token": intern.csrf, "consultation_date": "2026-11-03", "age_band": "25-44",
            "patient_sex": "M", "problems-0-reason_text": "mal de gorge",
            "problems-0-result_text": "angine", "problems-0-result_code": "R76",
            "problems-1-result_text": "", "competences-0-competence": "relation",
            "competences-0-level": "intermediaire", "analysis": "", "action": "submit"}
    bad = intern.c.post("/logbook/new", data={**data, "problems-0-result_code": "R999",
                                              "competences-1-level": "novice"})
    assert bad.status_code == 422
    assert "code CISP-2 « R999 » inconnu" in bad.text and "un niveau sans compétence" in bad.text
    assert 'value="mal de gorge"' in bad.text  # what was typed is kept
    assert _count(app) == 0
    r = intern.c.post("/logbook/new", data=data)
    assert r.status_code == 303
    page = intern.get(r.headers["location"])
    assert "Angine aiguë" in page.text and "Soumise" in page.text
    sup = Client(app, "sup.a")
    entry = sup.get(r.headers["location"])
    assert "Valider" in entry.text
    done = sup.c.post(r.headers["location"] + "/review",
                      data={"csrf_token": sup.csrf, "supervisor_comment": "OK",
                            "action": "validate"})
    assert done.status_code == 303
    assert "Validée" in sup.get(r.headers["location"]).text
    listing = Client(app, "dmg.nice").get("/logbook")
    assert listing.status_code == 200 and "Interne A" in listing.text
    assert intern.get("/logbook/assets/logbook.js").headers["content-type"].startswith(
        "text/javascript")
