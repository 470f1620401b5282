"""ORM classes of the logbook: entries, their kept versions, problems and competences.

An entry belongs to one intern and names the supervisor who reviews it. Its content lives in
versions: a draft or submitted version is edited in place; a validated version is locked, and a
later change creates version n + 1. Every version stays (the validation file shows what was
validated). The migration `0003_logbook` creates exactly these tables (a governance test compares
the migrated schema with the declarations).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from p4dp.governance.store import Base
from p4dp.logbook.reference import AGE_BANDS, LEVELS, SEXES, STATUSES


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class LogbookEntry(Base):
    __tablename__ = "logbook_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intern_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    versions: Mapped[list[LogbookVersion]] = relationship(
        back_populates="entry", order_by="LogbookVersion.version")


class LogbookVersion(Base):
    __tablename__ = "logbook_version"
    __table_args__ = (
        UniqueConstraint("entry_id", "version", name="entry_version"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("patient_sex", SEXES), name="patient_sex"),
        CheckConstraint(_in("age_band", AGE_BANDS), name="age_band"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("logbook_entry.id"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    consultation_date: Mapped[date] = mapped_column(Date)
    practice: Mapped[str] = mapped_column(String(200))
    age_band: Mapped[str] = mapped_column(String(8))
    patient_sex: Mapped[str] = mapped_column(String(1))
    analysis: Mapped[str] = mapped_column(Text)
    supervisor_comment: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    entry: Mapped[LogbookEntry] = relationship(back_populates="versions")
    problems: Mapped[list[LogbookProblem]] = relationship(
        order_by="LogbookProblem.position", cascade="all, delete-orphan")
    competences: Mapped[list[LogbookCompetence]] = relationship(
        order_by="LogbookCompetence.position", cascade="all, delete-orphan")


class LogbookProblem(Base):
    """Problème n°`position`: Motif / Résultat / Procédure as typed, the CISP-2 code chosen, and
    the code the automatic coder suggested for the text (accepted when the two are equal)."""

    __tablename__ = "logbook_problem"
    __table_args__ = (
        UniqueConstraint("version_id", "position", name="problem_version_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("logbook_version.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    reason_text: Mapped[str] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(3))
    reason_suggested: Mapped[str | None] = mapped_column(String(3))
    result_text: Mapped[str] = mapped_column(Text)
    result_code: Mapped[str | None] = mapped_column(String(3))
    result_suggested: Mapped[str | None] = mapped_column(String(3))
    procedure_text: Mapped[str] = mapped_column(Text)
    procedure_code: Mapped[str | None] = mapped_column(String(3))
    procedure_suggested: Mapped[str | None] = mapped_column(String(3))


class LogbookCompetence(Base):
    __tablename__ = "logbook_competence"
    __table_args__ = (
        UniqueConstraint("version_id", "position", name="competence_version_position"),
        CheckConstraint(_in("level", LEVELS), name="level"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("logbook_version.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    competence: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    justification: Mapped[str] = mapped_column(Text)
