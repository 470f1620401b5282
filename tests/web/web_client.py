"""Helpers of the web tests: accounts, the app, a logged-in TestClient, the audit log.

A uniquely named module (not conftest): with tests/web and tests/browser collected together,
`from conftest import …` could pick the other folder's conftest."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from site_data import GP1, INTERN, REGION1

from p4dp.governance.accounts import NewUser, add_user
from p4dp.governance.store import Store
from p4dp.settings import Settings

PASSWORD = "Tests-Web-Solide-2026!"
#: One account per role (plus a regional researcher and a second GP), username → NewUser fields.
ACCOUNTS = {
    "gp": dict(role="gp", practitioner_id=GP1, practice_id="p1", region_code=REGION1),
    "gp2": dict(role="gp", practitioner_id="arm_g2", practice_id="p1"),
    "supervisor": dict(role="supervisor", practitioner_id=GP1, department="DMG test"),
    "intern": dict(role="intern", practitioner_id=INTERN, department="DMG test",
                   supervisor="supervisor"),
    "department": dict(role="department", department="DMG test"),
    "researcher": dict(role="researcher"),
    "researcher_region": dict(role="researcher", region_code=REGION1),
    "epidemiologist": dict(role="epidemiologist"),
    "data_steward": dict(role="data_steward"),
    "ethics": dict(role="ethics"),
    "admin": dict(role="admin"),
}
#: The account that stands for each role in the route × role walk.
ROLE_ACCOUNT = {"gp": "gp", "intern": "intern", "supervisor": "supervisor",
                "department": "department", "researcher": "researcher",
                "data_steward": "data_steward", "ethics": "ethics",
                "epidemiologist": "epidemiologist", "admin": "admin"}


def add_accounts(store: Store) -> None:
    for username, fields in ACCOUNTS.items():
        add_user(store, NewUser(username=username, password=PASSWORD, **fields))


def make_app(store: Store, warehouse, home):
    """The app; compiled SQL is cached in the warehouse's folder, shared by the session."""
    from p4dp.web.app import create_app

    settings = Settings(home=Path(warehouse).parent, secret_key="k" * 48, duckdb_threads=1)
    return create_app(settings, store, warehouse)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


class Browser:
    """A TestClient logged in as one account, with its CSRF token at hand."""

    def __init__(self, app, username: str | None):
        self.client = TestClient(app, follow_redirects=False)
        self.csrf = None
        if username:
            self.login(username)
        else:  # an anonymous visitor has the login page's token
            self.csrf = csrf_of(self.client.get("/login").text)

    def login(self, username: str, password: str = PASSWORD):
        page = self.client.get("/login")
        r = self.client.post("/login", data={"username": username, "password": password,
                                             "csrf_token": csrf_of(page.text), "next": "/"})
        if r.status_code == 303:
            self.csrf = csrf_of(self.client.get("/").text)
        return r

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, **kw):
        headers = {"X-CSRF-Token": self.csrf or "", **kw.pop("headers", {})}
        return self.client.post(url, headers=headers, **kw)

    def delete(self, url, **kw):
        headers = {"X-CSRF-Token": self.csrf or "", **kw.pop("headers", {})}
        return self.client.delete(url, headers=headers, **kw)


def audit_entries(store: Store, **where) -> list:
    from sqlalchemy import select

    from p4dp.governance.models import AuditEntry

    with store.sessions() as s:
        q = select(AuditEntry).order_by(AuditEntry.seq)
        for k, v in where.items():
            q = q.where(getattr(AuditEntry, k) == v)
        return list(s.scalars(q))
