"""The tamper-evident audit log: every data access and administrative act, hash-chained.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical JSON, so that
editing any field, deleting or reordering entries breaks the chain from that point on; the head
table (updated in the same transaction) catches deletion of the newest entries. Appends are
serialised — PostgreSQL advisory lock, SQLite `BEGIN IMMEDIATE` (see `store.py`) — so two
concurrent requests never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from p4dp.governance.models import AuditEntry, AuditHead
from p4dp.governance.store import Store

GENESIS = "0" * 64
#: Arbitrary constant key of the PostgreSQL advisory lock that serialises appends.
PG_LOCK_KEY = 0x50344450  # "P4DP"
#: Longest parameter value kept verbatim in an entry (a malicious 1 MB query string is truncated,
#: its length and digest are kept).
MAX_PARAM_CHARS = 500

HASHED_FIELDS = ("seq", "at", "actor", "role", "action", "target", "params", "scope", "outcome",
                 "rows", "cells")


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def _bounded(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_PARAM_CHARS:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        return f"{value[:MAX_PARAM_CHARS]}…[{len(value)} caractères, sha256 {digest}]"
    if isinstance(value, dict):
        return {str(k)[:MAX_PARAM_CHARS]: _bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(v) for v in value]
    return value


def entry_hash(prev_hash: str, fields: dict) -> str:
    payload = canonical({k: fields[k] for k in HASHED_FIELDS})
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


@dataclass(frozen=True)
class Event:
    """What happened, by whom. `target` is the route or object; `params` the request's inputs."""

    actor: str
    action: str
    role: str | None = None
    target: str | None = None
    params: dict = field(default_factory=dict)
    scope: dict = field(default_factory=dict)
    outcome: str = "ok"
    rows: int | None = None
    cells: int | None = None


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})


def append(session: Session, event: Event) -> AuditEntry:
    """Append `event` inside the caller's transaction (an administrative act and its audit entry
    then commit or roll back together)."""
    _lock(session)
    head = session.get(AuditHead, 1)
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    fields = {
        "seq": seq,
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor[:64],
        "role": event.role,
        "action": event.action[:64],
        "target": None if event.target is None else event.target[:MAX_PARAM_CHARS],
        "params": canonical(_bounded(event.params)),
        "scope": canonical(_bounded(event.scope)),
        "outcome": str(event.outcome)[:32],
        "rows": event.rows,
        "cells": event.cells,
    }
    digest = entry_hash(prev, fields)
    entry = AuditEntry(**fields, prev_hash=prev, hash=digest)
    session.add(entry)
    if head:
        head.seq, head.hash = seq, digest
    else:
        session.add(AuditHead(id=1, seq=seq, hash=digest))
    session.flush()
    return entry


def record(store: Store, event: Event) -> AuditEntry:
    """Append `event` in its own transaction (kept even when the audited request fails)."""
    with store.session() as session:
        return append(session, event)


@dataclass
class Verification:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


#: Stop listing after this many problems (one edit breaks every later link).
MAX_PROBLEMS = 20


def verify(store: Store) -> Verification:
    """Recompute the whole chain; report the first problems in French, with their sequence number."""
    result = Verification()
    prev, expected_seq = GENESIS, 1
    with store.sessions() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)
                               .execution_options(yield_per=5000)).scalars()
        for e in rows:
            result.entries += 1
            if e.seq != expected_seq:
                result.problems.append(
                    f"entrée n° {expected_seq} à {e.seq - 1} manquante(s) (supprimée(s) ?)")
            if e.prev_hash != prev:
                result.problems.append(f"entrée n° {e.seq} : chaînage rompu (entrée précédente "
                                       "supprimée ou modifiée)")
            fields = {k: getattr(e, k) for k in HASHED_FIELDS}
            if entry_hash(e.prev_hash, fields) != e.hash:
                result.problems.append(f"entrée n° {e.seq} : contenu modifié (empreinte "
                                       "invalide)")
            prev, expected_seq = e.hash, e.seq + 1
            if len(result.problems) >= MAX_PROBLEMS:
                break
        head = session.get(AuditHead, 1)
        last = session.execute(select(AuditEntry.seq, AuditEntry.hash)
                               .order_by(AuditEntry.seq.desc()).limit(1)).first()
    if head is None:
        if last is not None:
            result.problems.append("tête du journal absente")
        return result
    result.head_seq, result.head_hash = head.seq, head.hash
    if last is None or (head.seq, head.hash) != tuple(last):
        result.problems.append(
            f"tête du journal : entrée n° {head.seq} attendue en dernier, trouvé n° "
            f"{last[0] if last else 0} (entrées récentes supprimées ou modifiées ?)")
    return result
