"""Saved cohort definitions, and the audited boundary of feasibility counts and recruitment lists.

A definition is kept in the operational store as its JSON form (`p4dp.cohort/1`, validated by
`p4dp.cohorts.parse` before it is written), **versioned**: every change adds a version and keeps
the previous ones, so that a count published last month can be traced to the exact rules it
counted. A definition is private to its owner or shared with one role (e.g. `gp`, for the GPs'
"Mes patients éligibles" page). A definition someone else owns and did not share looks missing.

`count` and `recruit` are the only ways the web app runs a cohort: they call
`p4dp.cohorts.feasibility` / `recruitment_list` and write the audit entry each answer returns
(`Answer.audit`) — refused attempts too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import (CheckConstraint, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint, select)
from sqlalchemy.orm import Mapped, mapped_column

from p4dp.governance.audit import Event, append, record
from p4dp.governance.models import is_shared_with, roles_check, shared_with
from p4dp.governance.store import Base, Store
from p4dp.privacy.disclosure import ROLES

#: Longest title kept (the attrition table's heading; the JSON form has no limit).
MAX_TITLE = 200


class CohortDefinition(Base):
    """A saved definition; its rules live in its versions. `shared_role` null = private."""

    __tablename__ = "cohort_definition"
    __table_args__ = (CheckConstraint(roles_check("shared_role", nullable=True),
                                      name="shared_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    shared_role: Mapped[str | None] = mapped_column(String(32))
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CohortVersion(Base):
    """One version of a definition, never changed once written."""

    __tablename__ = "cohort_version"
    __table_args__ = (UniqueConstraint("definition_id", "version",
                                       name="definition_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("cohort_definition.id"))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # the definition's JSON form
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DefinitionError(ValueError):
    """A save that cannot be done; the message names the field, in French."""


def _check_share(shared_role: str | None) -> None:
    if shared_role is not None and shared_role not in ROLES:
        raise DefinitionError(f"shared_role : rôle inconnu « {str(shared_role)[:30]} » "
                              f"({', '.join(ROLES)}, ou null pour une définition privée)")


def _summary(d: CohortDefinition, owner: bool) -> dict:
    return {"id": d.id, "name": d.name, "title_fr": d.title, "shared_role": d.shared_role,
            "version": d.current_version, "mine": owner,
            "updated_at": d.updated_at.isoformat(timespec="seconds")}


def _body(cohort, version: int) -> str:
    data = cohort.as_dict()
    data["version"] = version  # the stored revision is the definition's own `version`
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def create(store: Store, user_id: int, actor: str, role: str, cohort,
           shared_role: str | None = None) -> dict:
    """Save a new definition (version 1) of a validated `p4dp.cohorts.Cohort`; audited."""
    _check_share(shared_role)
    now = datetime.now(UTC)
    with store.session() as s:
        d = CohortDefinition(owner_id=user_id, name=cohort.name, title=cohort.title_fr[:MAX_TITLE],
                             shared_role=shared_role, current_version=1, created_at=now,
                             updated_at=now)
        s.add(d)
        s.flush()
        s.add(CohortVersion(definition_id=d.id, version=1, body=_body(cohort, 1),
                            author_id=user_id, created_at=now))
        append(s, Event(actor=actor, role=role, action="cohort.save", target=f"cohort:{d.id}",
                        params={"version": 1, "name": cohort.name, "shared_role": shared_role,
                                "definition_hash": cohort.semantic_hash()}))
        return _summary(d, True)


def update(store: Store, definition_id: int, user_id: int, actor: str, role: str, cohort,
           shared_role: str | None) -> dict | None:
    """A new version of one of the user's own definitions (older versions kept); None when the
    definition is not theirs or missing."""
    _check_share(shared_role)
    now = datetime.now(UTC)
    with store.session() as s:
        d = s.get(CohortDefinition, definition_id, with_for_update=True)
        if d is None or d.owner_id != user_id:
            return None
        d.current_version += 1
        d.name, d.title, d.shared_role, d.updated_at = (cohort.name, cohort.title_fr[:MAX_TITLE],
                                                        shared_role, now)
        s.add(CohortVersion(definition_id=d.id, version=d.current_version,
                            body=_body(cohort, d.current_version), author_id=user_id,
                            created_at=now))
        append(s, Event(actor=actor, role=role, action="cohort.save", target=f"cohort:{d.id}",
                        params={"version": d.current_version, "name": cohort.name,
                                "shared_role": shared_role,
                                "definition_hash": cohort.semantic_hash()}))
        return _summary(d, True)


def visible(store: Store, user_id: int, role: str) -> list[dict]:
    """Definitions the user owns or that are shared with their role, by title."""
    with store.sessions() as s:
        rows = s.scalars(select(CohortDefinition)
            .where(shared_with(CohortDefinition, user_id, role)).order_by(CohortDefinition.title, CohortDefinition.id))
        return [_summary(d, d.owner_id == user_id) for d in rows]


def get(store: Store, definition_id: int, user_id: int, role: str,
        version: int | None = None) -> dict | None:
    """A visible definition with the JSON form of `version` (default the current one); None when
    missing, not visible, or no such version."""
    with store.sessions() as s:
        d = s.get(CohortDefinition, definition_id)
        if not is_shared_with(d, user_id, role):
            return None
        v = s.scalar(select(CohortVersion).where(
            CohortVersion.definition_id == definition_id,
            CohortVersion.version == (version or d.current_version)))
        if v is None:
            return None
        return {**_summary(d, d.owner_id == user_id), "version": v.version,
                "current_version": d.current_version, "definition": json.loads(v.body)}


def versions(store: Store, definition_id: int, user_id: int, role: str) -> list[dict] | None:
    """Every kept version of a visible definition, oldest first (None when not visible)."""
    with store.sessions() as s:
        d = s.get(CohortDefinition, definition_id)
        if not is_shared_with(d, user_id, role):
            return None
        rows = s.scalars(select(CohortVersion).where(CohortVersion.definition_id == definition_id)
                         .order_by(CohortVersion.version))
        return [{"version": v.version, "created_at": v.created_at.isoformat(timespec="seconds"),
                 "title_fr": json.loads(v.body).get("title_fr")} for v in rows]


# --- the audited boundary ----------------------------------------------------------------------


def _record_answer(store: Store, actor: str, route: str, answer, extra: dict) -> None:
    facts = dict(answer.audit)
    facts.pop("user", None)
    action, role = facts.pop("action"), facts.pop("role")
    record(store, Event(actor=actor, role=role, action=action, target=route,
                        params={**facts, **extra}, rows=facts.get("rows_returned"),
                        cells=facts.get("cells_returned")))


def count(store: Store, wh, principal, cohort, key: bytes, policy, route: str,
          extra: dict | None = None) -> dict:
    """Feasibility counts of `cohort` for the logged-in user (their username seeds the noise),
    written to the audit chain before they are returned."""
    from p4dp.cohorts import feasibility

    answer = feasibility(wh, cohort, principal.requester, principal.username, key, policy)
    _record_answer(store, principal.username, route, answer, extra or {})
    return answer.payload


def recruit(store: Store, wh, principal, cohort, route: str, extra: dict | None = None) -> dict:
    """The user's own matching patients (their practitioner pseudonym from their account, never
    from the request); audited. `DisclosureRefused` for anyone but a GP with a pseudonym."""
    from p4dp.cohorts import recruitment_list
    from p4dp.privacy.disclosure import DisclosureRefused

    if not principal.practitioner_id:
        raise DisclosureRefused("votre compte n'est rattaché à aucun pseudonyme de médecin : "
                                "demandez à l'administrateur de le renseigner")
    answer = recruitment_list(wh, cohort, principal.requester, principal.practitioner_id)
    _record_answer(store, principal.username, route, answer, extra or {})
    return answer.payload


def refused(store: Store, principal, action: str, route: str, reason: str,
            params: dict | None = None) -> None:
    """An attempt that ran no query (invalid definition, impossible window): audited too."""
    record(store, Event(actor=principal.username, role=principal.role, action=action,
                        target=route, params=params or {}, outcome="invalid",
                        scope={"reason": reason[:500]}))
