"""Fixtures of the web tests: a small warehouse, an app per test with one account per role."""

from __future__ import annotations

import pytest
from site_data import build_site_warehouse
from web_client import Browser, add_accounts, make_app

from p4dp.governance.store import Store


@pytest.fixture(scope="session")
def site_warehouse(tmp_path_factory):
    return build_site_warehouse(tmp_path_factory.mktemp("site") / "warehouse.duckdb")


@pytest.fixture(scope="session")
def store_template(tmp_path_factory):
    """A migrated SQLite store with the accounts, built once (Argon2 hashing is slow on
    purpose); each test gets a copy."""
    path = tmp_path_factory.mktemp("store") / "p4dp.sqlite"
    store = Store.open(f"sqlite:///{path}")
    add_accounts(store)
    store.dispose()
    return path


@pytest.fixture
def sqlite_store(store_template, tmp_path):
    import shutil

    shutil.copy(store_template, tmp_path / "p4dp.sqlite")
    store = Store.open(f"sqlite:///{tmp_path / 'p4dp.sqlite'}")
    yield store
    store.dispose()


@pytest.fixture
def app(sqlite_store, site_warehouse, tmp_path):
    application = make_app(sqlite_store, site_warehouse, tmp_path)
    yield application
    application.state.data.close()


@pytest.fixture
def as_user(app):
    cache: dict[str | None, Browser] = {}

    def get(username: str | None) -> Browser:
        if username not in cache:
            cache[username] = Browser(app, username)
        return cache[username]

    return get
