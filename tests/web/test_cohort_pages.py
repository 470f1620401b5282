"""The cohort builder, saved definitions and "Mes patients éligibles" through the app: counts
protected and audited, definitions versioned and private unless shared, GP lists limited to the
GP's own patients — and bad input refused with the field named, nothing saved, audited."""

from __future__ import annotations

import copy
import json

import pytest
from web_client import PASSWORD, Browser, audit_entries, make_app
from site_data import GP1

from p4dp.governance.accounts import NewUser, add_user
from p4dp.governance.audit import verify

DEF = {"schema": "p4dp.cohort/1", "name": "adultes-k86", "title_fr": "Adultes hypertendus",
       "index_date": "2026-11-29",
       "rules": [{"type": "demographics", "age_min": 40},
                 {"type": "condition", "codes": ["K86"]}]}


def _count_of_definitions(store) -> int:
    from sqlalchemy import func, select

    from p4dp.governance.cohorts import CohortDefinition, CohortVersion

    with store.sessions() as s:
        return (s.scalar(select(func.count()).select_from(CohortDefinition))
                + s.scalar(select(func.count()).select_from(CohortVersion)))


def test_the_builder_counts_protected_figures_for_the_logged_in_user(as_user, app):
    b = as_user("researcher")
    page = b.get("/cohorts")
    assert page.status_code == 200 and "Constructeur de cohortes" in page.text
    assert "/static/cohorts/builder.js" in page.text
    r = b.post("/api/v1/cohorts/count", json=DEF)
    assert r.status_code == 200, r.text
    p = r.json()
    assert [a["step"] for a in p["attrition"]] == [0, 1, 2]
    counts = [a["count"] for a in p["attrition"]]
    assert all(c is None or c % 5 == 0 for c in counts)  # rounded to 5: never exact
    assert counts == sorted(counts, reverse=True)
    assert p["disclosure"]["applied"] and "by_region" in p and "by_practice" not in p
    assert p["rules_fr"][1].startswith("CISP-2 K86")
    again = b.post("/api/v1/cohorts/count", json=DEF).json()
    assert again["attrition"] == p["attrition"]  # same (definition, data, user): same noise
    entry = audit_entries(app.state.store, action="cohort.count")[-1]
    assert entry.actor == "researcher" and entry.outcome == "ok"
    assert json.loads(entry.params)["definition_hash"] == p["definition_hash"]


@pytest.mark.parametrize("body, field, fragment", [
    ({**DEF, "rules": [{"type": "condition", "codes": ["T1O"]}]}, "/rules/0/codes",
     "code CISP-2 inconnu"),
    ({**DEF, "rules": [{"type": "lab", "exam": "HBA1C", "compare": {"op": ">", "value": 8},
                        "unit": "furlongs"}]}, "/rules/0/unit", "unité « furlongs »"),
    ({**DEF, "rules": [{"type": "drug", "atc": ["A10"],
                        "window": {"from": "2026-01-01", "to": "2025-01-01"}}]},
     "/rules/0/window", "fenêtre impossible"),
    ({**DEF, "rules": [{"type": "drug", "atc": ["A10"], "window": {"from": "2027-01-01"}}]},
     "/rules/0/window", "date index 29/11/2026"),
    ({**DEF, "rules": [{"type": "demographics", "age_min": 70, "age_max": 40}]}, "/rules/0",
     "tranche d'âge impossible"),
    ({"name": "X Y", "rules": []}, "/name", ""),
])
def test_bad_criteria_are_refused_naming_the_field_and_audited(as_user, app, body, field,
                                                               fragment):
    b = as_user("researcher")
    before = len(audit_entries(app.state.store, outcome="invalid"))
    r = b.post("/api/v1/cohorts/count", json=body)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert any(e["field"] == field and fragment in e["message"] for e in errors), errors
    saved = b.post("/api/v1/cohorts/definitions", json={"definition": body})
    assert saved.status_code == 422
    assert _count_of_definitions(app.state.store) == 0
    assert len(audit_entries(app.state.store, outcome="invalid")) == before + 2


def test_requests_without_csrf_or_with_a_bad_body_are_refused_and_nothing_saved(as_user, app):
    b = as_user("researcher")
    r = b.client.post("/api/v1/cohorts/definitions", json={"definition": DEF})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = b.post("/api/v1/cohorts/definitions", content=b"{pas du json",
               headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = b.post("/api/v1/cohorts/definitions", json={"definition": DEF, "shared_role": "chef"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "/shared_role"
    r = b.post("/api/v1/cohorts/definitions/import", json=[1, 2])
    assert r.status_code == 422
    assert _count_of_definitions(app.state.store) == 0
    assert len(audit_entries(app.state.store, action="http.refused")) >= 1


def _app_on(store, site_warehouse, tmp_path):
    for name, fields in (("chercheur", dict(role="researcher")),
                         ("chercheuse", dict(role="researcher")),
                         ("medecin", dict(role="gp", practitioner_id=GP1))):
        add_user(store, NewUser(username=name, password=PASSWORD, **fields))
    return make_app(store, site_warehouse, tmp_path)


def test_definitions_are_versioned_private_or_shared_on_both_stores(store, site_warehouse,
                                                                    tmp_path):
    app = _app_on(store, site_warehouse, tmp_path)
    try:
        owner, other, gp = (Browser(app, u) for u in ("chercheur", "chercheuse", "medecin"))
        r = owner.post("/api/v1/cohorts/definitions", json={"definition": DEF})
        assert r.status_code == 201, r.text
        d = r.json()
        assert d["version"] == 1 and d["shared_role"] is None
        # private: another researcher and the GP see nothing, the id looks missing
        assert other.get("/api/v1/cohorts/definitions").json() == []
        assert other.get(f"/api/v1/cohorts/definitions/{d['id']}").status_code == 404
        assert gp.get(f"/api/v1/cohorts/definitions/{d['id']}/patients").status_code == 404
        changed = copy.deepcopy(DEF)
        changed["title_fr"] = "Adultes hypertendus (60 ans et plus)"
        changed["rules"][0]["age_min"] = 60
        r = owner.client.put(f"/api/v1/cohorts/definitions/{d['id']}",
                             json={"definition": changed, "shared_role": "gp"},
                             headers={"X-CSRF-Token": owner.csrf})
        assert r.status_code == 200 and r.json()["version"] == 2
        # someone else cannot write a version of it
        r = other.client.put(f"/api/v1/cohorts/definitions/{d['id']}",
                             json={"definition": DEF}, headers={"X-CSRF-Token": other.csrf})
        assert r.status_code == 404
        versions = owner.get(f"/api/v1/cohorts/definitions/{d['id']}/versions").json()
        assert [v["version"] for v in versions] == [1, 2]
        v1 = owner.get(f"/api/v1/cohorts/definitions/{d['id']}?version=1").json()
        assert v1["definition"]["rules"][0]["age_min"] == 40 and v1["definition"]["version"] == 1
        exported = owner.get(f"/api/v1/cohorts/definitions/{d['id']}/export")
        assert exported.status_code == 200 and "attachment" in exported.headers[
            "content-disposition"]
        assert exported.json()["version"] == 2 and exported.json()["rules"][0]["age_min"] == 60
        # the export imports back as a new definition
        r = other.post("/api/v1/cohorts/definitions/import", json=exported.json())
        assert r.status_code == 201 and r.json()["version"] == 1
        # shared with GPs: the GP lists it and gets their own patients
        assert [x["id"] for x in gp.get("/api/v1/cohorts/definitions").json()] == [d["id"]]
        lst = gp.get(f"/api/v1/cohorts/definitions/{d['id']}/patients")
        assert lst.status_code == 200, lst.text
        assert lst.json()["practitioner"] == GP1 and lst.json()["definition_version"] == 2
        assert verify(store).ok
    finally:
        app.state.data.close()


def test_a_gp_lists_only_their_own_patients_with_csv_and_audit(as_user, app):
    owner = as_user("researcher")
    d = owner.post("/api/v1/cohorts/definitions",
                   json={"definition": DEF, "shared_role": "gp"}).json()
    gp = as_user("gp")
    page = gp.get(f"/cohorts/patients?definition_id={d['id']}")
    assert page.status_code == 200 and "p4dp agent reidentify" in page.text
    p = gp.get(f"/api/v1/cohorts/definitions/{d['id']}/patients").json()
    assert p["rows"] and p["practitioner"] == GP1
    ids = [row[0] for row in p["rows"]]
    assert len(ids) == len(set(ids))
    with app.state.data.warehouse() as wh:
        own = set(wh.patients_of(GP1).patient_id.to_pyarrow().to_pylist())
    assert set(ids) <= own
    assert any("K86" in fact for row in p["rows"] for fact in row[3:])
    csv = gp.get(f"/api/v1/cohorts/definitions/{d['id']}/patients.csv")
    assert csv.status_code == 200 and csv.text.startswith("\ufeffPatient;")
    assert len(csv.text.strip().splitlines()) == len(ids) + 1
    lists = audit_entries(app.state.store, action="cohort.list")
    assert len(lists) == 3 and all(e.actor == "gp" and e.rows == len(ids) for e in lists)
    # the practitioner comes from the session: a parameter naming another GP changes nothing
    other = gp.get(f"/api/v1/cohorts/definitions/{d['id']}/patients?practitioner=med_g3")
    assert other.json()["practitioner"] == GP1
    # another GP gets their own (different) patients from the same definition
    gp2 = as_user("gp2").get(f"/api/v1/cohorts/definitions/{d['id']}/patients").json()
    assert not set(ids) & {row[0] for row in gp2["rows"]}


def test_roles_and_capabilities_of_the_cohort_routes(as_user):
    assert as_user("gp").get("/cohorts").status_code == 403
    assert as_user("gp").post("/api/v1/cohorts/count", json=DEF).status_code == 403
    assert as_user("researcher").get("/cohorts/patients").status_code == 403
    assert as_user("intern").get("/api/v1/cohorts/definitions").status_code == 403
    assert as_user(None).get("/api/v1/terminology/icpc2?q=diab").status_code == 401
    hits = as_user("intern").get("/api/v1/terminology/icpc2?q=diab").json()
    assert any(h["code"] in ("T89", "T90") for h in hits)
    exams = as_user("researcher").get("/api/v1/terminology/exams").json()
    hba1c = next(x for x in exams if x["code"] == "HBA1C")
    assert hba1c["unit"] == "%" and "mmol/mol" in hba1c["units"]
