"""Logbook entries as Arrow tables (current versions), for the dashboard, exports and warehouse.

One query per table over the operational store, filtered by the caller's permission condition
(`service.visible_entries`) and the period; the rows go straight into columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyarrow as pa
from sqlalchemy import ColumnElement, String, cast, select, true
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


#: The columns the dashboard reads (it counts codes and categories): loading only these halves
#: the values to move from the store for a department's year (benchmarks/bench_logbook.py).
DASHBOARD_COLUMNS = frozenset({"entry_id", "status", "intern_id", "consultation_date",
                               "age_band", "patient_sex", "reason_code", "result_code",
                               "procedure_code", "competence", "level"})


def _table(rows, schema: pa.Schema) -> pa.Table:
    """Rows → Arrow columns. Dates come as ISO text (SQLite stores them so; casting in Arrow
    beats converting each row in Python)."""
    columns = list(zip(*rows)) if rows else [()] * len(schema)
    arrays = []
    for values, f in zip(columns, schema):
        if pa.types.is_date(f.type):
            arrays.append(pa.array(values, pa.string()).cast(f.type))
        else:
            arrays.append(pa.array(values, type=f.type))
    return pa.table(arrays, schema=schema)


def _rows(conn, stmt) -> list[tuple]:
    """The driver's plain tuples: SQLAlchemy binds the parameters, but building a `Row` per
    record costs more than the query itself on 100k rows (measured: benchmarks/bench_logbook.py);
    every column here is a driver-native int or text (dates are selected as text)."""
    return conn.execute(stmt).cursor.fetchall()


def _select(exprs: dict, schema: pa.Schema, full: bool) -> tuple[list, pa.Schema]:
    names = [n for n in schema.names if full or n in DASHBOARD_COLUMNS]
    return [exprs[n].label(n) for n in names], pa.schema([schema.field(n) for n in names])


def load_frames(store: Store, actor: Actor, *, start: date | None = None,
                end: date | None = None, intern_id: int | None = None,
                full: bool = True) -> Frames:
    """The current version of every entry `actor` may see, of one intern or all, in the period.

    An `intern_id` outside the caller's scope raises `EntryNotFound` (as a foreign entry does).
    `full=False` reads only the columns the dashboard needs (`DASHBOARD_COLUMNS`), unordered.
    """
    cond = visible_entries(actor)
    if intern_id is not None:
        with store.sessions() as s:
            if not _in_scope(s, actor, intern_id):
                raise EntryNotFound(f"interne {intern_id}")
    return _load(store, cond, start=start, end=end, intern_id=intern_id, full=full)


def load_all_frames(store: Store) -> Frames:
    """Every entry, for the warehouse loader (no caller: never reachable from a request)."""
    return _load(store, true())


def _load(store: Store, cond: ColumnElement[bool], *, start: date | None = None,
          end: date | None = None, intern_id: int | None = None, full: bool = True) -> Frames:
    intern, supervisor = aliased(User), aliased(User)
    V, P, C = LogbookVersion, LogbookProblem, LogbookCompetence
    current = (V.entry_id == LogbookEntry.id) & (V.version == LogbookEntry.current_version)
    filters = [cond]
    if intern_id is not None:
        filters.append(LogbookEntry.intern_id == intern_id)
    if start is not None:
        filters.append(V.consultation_date >= start)
    if end is not None:
        filters.append(V.consultation_date <= end)
    versions = select(V.id).join(LogbookEntry, current).where(*filters).scalar_subquery()
    entry_cols, entry_schema = _select({
        "entry_id": LogbookEntry.id, "version": V.version, "status": V.status,
        "intern_id": LogbookEntry.intern_id, "intern": intern.display_name,
        "intern_practitioner_id": intern.practitioner_id, "department": intern.department,
        "supervisor_id": LogbookEntry.supervisor_id, "supervisor": supervisor.display_name,
        "consultation_date": cast(V.consultation_date, String), "practice": V.practice,
        "age_band": V.age_band, "patient_sex": V.patient_sex, "analysis": V.analysis,
        "supervisor_comment": V.supervisor_comment}, ENTRY_SCHEMA, full)
    problem_cols, problem_schema = _select(
        {"entry_id": V.entry_id, **{n: getattr(P, n) for n in PROBLEM_SCHEMA.names[1:]}},
        PROBLEM_SCHEMA, full)
    competence_cols, competence_schema = _select(
        {"entry_id": V.entry_id, **{n: getattr(C, n) for n in COMPETENCE_SCHEMA.names[1:]}},
        COMPETENCE_SCHEMA, full)
    entry_q = select(*entry_cols).select_from(LogbookEntry).join(V, current).where(*filters)
    problem_q = select(*problem_cols).join(V, V.id == P.version_id).where(
        P.version_id.in_(versions))
    competence_q = select(*competence_cols).join(V, V.id == C.version_id).where(
        C.version_id.in_(versions))
    if full:  # names, and the order of the exports
        entry_q = (entry_q.join(intern, intern.id == LogbookEntry.intern_id)
                   .join(supervisor, supervisor.id == LogbookEntry.supervisor_id)
                   .order_by(V.consultation_date, LogbookEntry.id))
        problem_q = problem_q.order_by(V.entry_id, P.position)
        competence_q = competence_q.order_by(V.entry_id, C.position)
    with store.engine.connect() as c:
        entries, problems, competences = [_rows(c, q) for q in (entry_q, problem_q,
                                                                   competence_q)]
    return Frames(_table(entries, entry_schema), _table(problems, problem_schema),
                  _table(competences, competence_schema))


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
