"""Warming: the default view of every tab is computed before anyone asks, and audits nothing."""

from __future__ import annotations

from sqlalchemy import select
from web_client import audit_entries

from p4dp.governance.access import Principal, themes_for
from p4dp.governance.models import User


def test_warming_computes_every_default_tab_without_auditing(app, sqlite_store, as_user):
    data = app.state.data
    with sqlite_store.sessions() as s:
        users = list(s.scalars(select(User).where(User.username.in_(["researcher", "gp"]))))
    principals = [Principal.of(u) for u in users]
    before = len(audit_entries(sqlite_store))
    tabs = data.warm(principals)
    assert tabs == sum(len(themes_for(p.role)) for p in principals)
    assert len(audit_entries(sqlite_store)) == before  # nobody received these figures
    warmed = {key[0] for key in data._cache}
    assert {"motifs_top_diagnoses_base", "general_consultations"} <= warmed

    # a visitor then reads the same figures, and that read is audited as usual
    r = as_user("researcher").get("/api/v1/themes/motifs")
    assert r.status_code == 200
    reads = audit_entries(sqlite_store, actor="researcher", action="data.read")
    assert reads and reads[-1].target == "/api/v1/themes/motifs"
