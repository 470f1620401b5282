"""Logbook entries as Arrow tables (current versions), for the dashboard, exports and warehouse.

One query per table over the operational store, filtered by the caller's permission condition
(`service.visible_entries`) and the period; the rows go straight into columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyarrow as pa
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import aliased

from p4dp.governance.models import User
from p4dp.governance.store import Store
from p4dp.logbook.models import LogbookCompetence, LogbookEntry, LogbookProblem, LogbookVersion
from p4dp.logbook.service import Actor, EntryNotFound, visible_entries

ENTRY_SCHEMA = pa.schema([
    ("entry_id", pa.int64()), ("version", pa.int32()), ("status", pa.string()),
    ("intern_id", pa.int64()), ("intern", pa.string()), ("intern_practitioner_id", pa.string()),
    ("department", pa.string()), ("supervisor_id", pa.int64()), ("supervisor", pa.string()),
    ("consultation_date", pa.date32()), ("practice", pa.string()), ("age_band", pa.string()),
    ("patient_sex", pa.string()), ("analysis", pa.string()),
    ("supervisor_comment", pa.string()),
])
PROBLEM_SCHEMA = pa.schema([
    ("entry_id", pa.int64()), ("position", pa.int32()),
    *[(f"{f}_{k}", pa.string()) for f in ("reason", "result", "procedure")
      for k in ("text", "code", "suggested")],
])
COMPETENCE_SCHEMA = pa.schema([
    ("entry_id", pa.int64()), ("position", pa.int32()), ("competence", pa.string()),
    ("level", pa.string()), ("justification", pa.string()),
])


@dataclass(frozen=True)
class Frames:
    entries: pa.Table
    problems: pa.Table
    competences: pa.Table


def _table(rows, schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows)) if rows else [()] * len(schema)
    return pa.table([pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema)


def load_frames(store: Store, actor: Actor, *, start: date | None = None,
                end: date | None = None, intern_id: int | None = None) -> Frames:
    """The current version of every entry `actor` may see, of one intern or all, in the period.

    An `intern_id` outside the caller's scope raises `EntryNotFound` (as a foreign entry does).
    """
    cond = visible_entries(actor)
    if intern_id is not None:
        with store.sessions() as s:
            if not _in_scope(s, actor, intern_id):
                raise EntryNotFound(f"interne {intern_id}")
    return _load(store, cond, start=start, end=end, intern_id=intern_id)


def load_all_frames(store: Store) -> Frames:
    """Every entry, for the warehouse loader (no caller: never reachable from a request)."""
    return _load(store, true())


def _load(store: Store, cond: ColumnElement[bool], *, start: date | None = None,
          end: date | None = None, intern_id: int | None = None) -> Frames:
    intern, supervisor = aliased(User), aliased(User)
    current = (LogbookVersion.entry_id == LogbookEntry.id) & (
        LogbookVersion.version == LogbookEntry.current_version)
    filters = [cond]
    if intern_id is not None:
        filters.append(LogbookEntry.intern_id == intern_id)
    if start is not None:
        filters.append(LogbookVersion.consultation_date >= start)
    if end is not None:
        filters.append(LogbookVersion.consultation_date <= end)
    versions = (select(LogbookVersion.id).join(LogbookEntry, current).where(*filters)
                .scalar_subquery())
    with store.sessions() as s:
        entries = s.execute(
            select(LogbookEntry.id, LogbookVersion.version, LogbookVersion.status,
                   LogbookEntry.intern_id, intern.display_name, intern.practitioner_id,
                   intern.department, LogbookEntry.supervisor_id, supervisor.display_name,
                   LogbookVersion.consultation_date, LogbookVersion.practice,
                   LogbookVersion.age_band, LogbookVersion.patient_sex, LogbookVersion.analysis,
                   LogbookVersion.supervisor_comment)
            .join(LogbookVersion, current)
            .join(intern, intern.id == LogbookEntry.intern_id)
            .join(supervisor, supervisor.id == LogbookEntry.supervisor_id)
            .where(*filters)
            .order_by(LogbookVersion.consultation_date, LogbookEntry.id)).all()
        problems = s.execute(
            select(LogbookVersion.entry_id, LogbookProblem.position,
                   *[getattr(LogbookProblem, name) for name in PROBLEM_SCHEMA.names[2:]])
            .join(LogbookVersion, LogbookVersion.id == LogbookProblem.version_id)
            .where(LogbookProblem.version_id.in_(versions))
            .order_by(LogbookVersion.entry_id, LogbookProblem.position)).all()
        competences = s.execute(
            select(LogbookVersion.entry_id, LogbookCompetence.position,
                   LogbookCompetence.competence, LogbookCompetence.level,
                   LogbookCompetence.justification)
            .join(LogbookVersion, LogbookVersion.id == LogbookCompetence.version_id)
            .where(LogbookCompetence.version_id.in_(versions))
            .order_by(LogbookVersion.entry_id, LogbookCompetence.position)).all()
    return Frames(_table(entries, ENTRY_SCHEMA), _table(problems, PROBLEM_SCHEMA),
                  _table(competences, COMPETENCE_SCHEMA))


def _in_scope(s, actor: Actor, intern_id: int) -> bool:
    """Whether the intern is in the caller's scope (possibly with no entry yet)."""
    who = s.get(User, intern_id)
    if who is None or who.role != "intern":
        return False
    if actor.role == "intern":
        return who.id == actor.id
    if actor.role == "supervisor":
        return who.supervisor_id == actor.id or s.scalar(
            select(LogbookEntry.id).where(LogbookEntry.intern_id == intern_id,
                                          LogbookEntry.supervisor_id == actor.id).limit(1)
        ) is not None
    return bool(actor.department) and who.department == actor.department
