"""Operational store, accounts and the audit chain — on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from p4dp.governance import accounts, audit
from p4dp.governance.accounts import AccountError, NewUser
from p4dp.governance.store import Base, Store, load_models

PASSWORD = "Médecin-2026!ok"


def _gp(username="dr.martin", **kw) -> NewUser:
    return NewUser(username=username, role="gp", password=PASSWORD, practitioner_id="arm_abc",
                   **kw)


def test_migrations_create_exactly_the_declared_schema(store):
    load_models()
    insp = inspect(store.engine)
    tables = set(insp.get_table_names()) - {"alembic_version"}
    assert tables == set(Base.metadata.tables)
    for name, table in Base.metadata.tables.items():
        assert {c["name"] for c in insp.get_columns(name)} == set(table.columns.keys()), name


def test_opening_twice_is_harmless(store_url):
    first = Store.open(store_url)
    heads = first.current_revisions()
    first.dispose()
    again = Store.open(store_url)
    assert again.current_revisions() == heads and heads
    again.dispose()


def test_unreachable_store_says_what_to_do():
    with pytest.raises(Exception, match="P4DP_DATABASE_URL"):
        Store.open("postgresql://nobody@127.0.0.1:1/none")


def test_add_list_disable_and_audit(store):
    accounts.add_user(store, _gp())
    accounts.add_user(store, NewUser(username="pr.durand", role="supervisor", password=PASSWORD,
                                     department="DMG Nice"))
    accounts.add_user(store, NewUser(username="interne.a", role="intern", password=PASSWORD,
                                     practitioner_id="arm_int", supervisor="pr.durand"))
    users = {u.username: u for u in accounts.list_users(store)}
    assert set(users) == {"dr.martin", "pr.durand", "interne.a"}
    assert users["interne.a"].supervisor_id == users["pr.durand"].id
    assert users["dr.martin"].password_hash.startswith("$argon2id$")
    accounts.set_active(store, "dr.martin", False)
    assert accounts.authenticate(store, "dr.martin", PASSWORD).user is None
    result = audit.verify(store)
    assert result.ok, result.problems
    assert result.entries == 5  # 3 additions, 1 disabling, 1 refused login


@pytest.mark.parametrize("new, message", [
    (NewUser(username="x", role="gp", password=PASSWORD), "pseudonyme"),
    (NewUser(username="x", role="chef", password=PASSWORD), "rôle inconnu"),
    (NewUser(username="x", role="admin", password="court"), "12 caractères"),
    (NewUser(username="x", role="admin", password="aaaaaaaaaaaaaaaa"), "CNIL"),
    (NewUser(username="x y;--", role="admin", password=PASSWORD), "identifiant"),
    (NewUser(username="x", role="intern", password=PASSWORD, practitioner_id="p",
             supervisor="nobody"), "introuvable"),
])
def test_bad_accounts_are_refused_and_nothing_is_written(store, new, message):
    with pytest.raises(AccountError, match=message):
        accounts.add_user(store, new)
    assert accounts.list_users(store) == []
    assert audit.verify(store).entries == 0


def test_duplicate_username_is_refused(store):
    accounts.add_user(store, _gp())
    with pytest.raises(AccountError, match="existe déjà"):
        accounts.add_user(store, _gp())


def test_lockout_after_repeated_failures(store):
    accounts.add_user(store, _gp())
    t0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        assert accounts.authenticate(store, "dr.martin", "wrong", now=t0).user is None
    locked = accounts.authenticate(store, "dr.martin", PASSWORD, now=t0 + timedelta(minutes=1))
    assert locked.user is None and "verrouillé" in locked.message
    later = t0 + timedelta(minutes=accounts.LOCKOUT_MINUTES + 1)
    assert accounts.authenticate(store, "dr.martin", PASSWORD, now=later).user is not None
    # the failure message never says whether the account exists
    assert (accounts.authenticate(store, "nobody", "x").message
            == accounts.authenticate(store, "dr.martin", "x").message)


def _entries(n: int, store: Store) -> None:
    for i in range(n):
        audit.record(store, audit.Event(actor="dr.martin", role="gp", action="data.read",
                                        target="/api/v1/x", params={"i": i}, rows=i))


def test_verify_detects_edit_deletion_and_truncation(store):
    _entries(6, store)
    assert audit.verify(store).ok
    with store.engine.begin() as c:
        c.execute(text("UPDATE audit_entry SET rows = 999 WHERE seq = 3"))
    bad = audit.verify(store)
    assert not bad.ok and any("n° 3" in p and "modifié" in p for p in bad.problems)
    with store.engine.begin() as c:
        c.execute(text("UPDATE audit_entry SET rows = 2 WHERE seq = 3"))
    assert audit.verify(store).ok
    with store.engine.begin() as c:
        c.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    assert any("manquante" in p for p in audit.verify(store).problems)


def test_verify_detects_deleted_newest_entries(store):
    _entries(4, store)
    with store.engine.begin() as c:
        c.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    problems = audit.verify(store).problems
    assert problems and "tête du journal" in problems[0]


def test_huge_parameters_are_bounded(store):
    audit.record(store, audit.Event(actor="x", action="data.read", params={"q": "a" * 100_000}))
    with store.engine.connect() as c:
        stored = c.execute(text("SELECT params FROM audit_entry")).scalar()
    assert len(stored) < 1000 and "100000 caractères" in stored
    assert audit.verify(store).ok


def test_concurrent_appends_keep_one_chain(store):
    def worker():
        _entries(15, store)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = audit.verify(store)
    assert result.ok, result.problems
    assert result.entries == 60
