"""Accounts of a small teaching network, on the `store` fixture (SQLite and PostgreSQL)."""

import pytest
from logbook_helpers import Network, make_network, one_hash

from p4dp.governance import accounts


@pytest.fixture
def net(store, monkeypatch) -> Network:
    monkeypatch.setattr(accounts, "hash_password", lambda _password: one_hash())
    return make_network(store)
