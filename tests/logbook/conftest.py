"""Accounts of a small teaching network, on the `store` fixture (SQLite and PostgreSQL)."""

from functools import lru_cache

import pytest
from argon2 import PasswordHasher
from logbook_helpers import PASSWORD, Network, make_network

from p4dp.governance import accounts


@lru_cache(maxsize=1)
def _one_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def net(store, monkeypatch) -> Network:
    # Argon2 costs ~0.1 s a password by design; nine accounts per test need only one real hash.
    monkeypatch.setattr(accounts, "hash_password", lambda _password: _one_hash())
    return make_network(store)
