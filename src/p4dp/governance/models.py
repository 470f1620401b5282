"""ORM classes of governance: accounts and the hash-chained audit log.

The migration `0001_governance` creates exactly these tables; a test compares the migrated
schema with these declarations, so that the two cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint, or_)
from sqlalchemy.orm import Mapped, mapped_column

from p4dp.governance.store import Base
from p4dp.privacy.disclosure import ROLES



def roles_check(column: str, nullable: bool = False) -> str:
    """SQL check that `column` holds one of ROLES (or null when `nullable`)."""
    allowed = f"{column} IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")"
    return f"{column} IS NULL OR {allowed}" if nullable else allowed


def shared_with(model, user_id: int, role: str):
    """SQL condition: rows of `model` (with `owner_id` and `shared_role`) the user owns or that are
    shared with their role — saved dashboards and cohort definitions."""
    return or_(model.owner_id == user_id, model.shared_role == role)


def is_shared_with(row, user_id: int, role: str) -> bool:
    """The same rule as `shared_with`, on one loaded row (None when missing: not visible)."""
    return row is not None and (row.owner_id == user_id or row.shared_role == role)


def scope_label(user) -> str:
    """What an account's data scope is, in one word for lists of accounts."""
    return user.practitioner_id or user.region_code or user.department or "national"


class User(Base):
    """An account. Its role and attributes define its scope (DOMAIN.md §6):

    * `gp`, `intern`: `practitioner_id` is their pseudonym in the warehouse;
    * `intern`: `supervisor_id` is their supervisor's account, `department` their DMG;
    * `supervisor`, `department`: `department` is the teaching department they belong to;
    * `researcher`, `epidemiologist`: `region_code` set = regional scope, null = national.
    """

    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint(roles_check("role"), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    practitioner_id: Mapped[str | None] = mapped_column(String(64))
    practice_id: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(8))
    department: Mapped[str | None] = mapped_column(String(200))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One appended audit event. `hash` = SHA-256 over `prev_hash` and the entry's canonical JSON.

    `seq` is contiguous (assigned under the chain lock): a gap, an edited field or a broken link
    all show in `p4dp audit verify`.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("seq", name="seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(40))  # ISO-8601 UTC with microseconds, as hashed
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(500))  # route or object acted on
    params: Mapped[str] = mapped_column(Text)  # canonical JSON
    scope: Mapped[str] = mapped_column(Text)  # canonical JSON
    outcome: Mapped[str] = mapped_column(String(32))  # "ok", "denied", HTTP status …
    rows: Mapped[int | None] = mapped_column(Integer)
    cells: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last (seq, hash) of the chain, updated in the same transaction as each append.

    Deleting the newest entries leaves the chain itself consistent; the head shows it. Publish
    the head regularly (`p4dp audit verify` prints it) to anchor the chain outside the database.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
