"""Record, edit, submit and review logbook entries — under the permission rules, audited.

Who sees what (DOMAIN.md §6): an intern their own entries; a supervisor the entries they review
and those of the interns they supervise; a teaching department the entries of its interns;
nobody else. An entry that a caller may not see is reported as "introuvable" — the same answer as
for an id that does not exist, so that ids reveal nothing.

Each change and its audit event commit in one transaction. Bad input raises `LogbookError`
naming every wrong field (French, for the person who typed it) before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session, selectinload

from p4dp.analytics.display import format_date_fr
from p4dp.governance.audit import Event, append
from p4dp.governance.models import User
from p4dp.governance.store import Store
from p4dp.logbook import reference as R
from p4dp.logbook.models import LogbookCompetence, LogbookEntry, LogbookProblem, LogbookVersion

#: Longest free text kept in a field (a problem field, a justification, the analysis): a
#: consultation note, not a document. Longer input is refused, never cut.
MAX_TEXT_CHARS = 4000
#: Most problems in one consultation entry (the seed's screen numbers them; French GPs handle
#: 1 to 3 per consultation on average, ECOGEN 2014 — 10 leaves room without inviting lists).
MAX_PROBLEMS = 10
#: Roles that use the logbook (DOMAIN.md §6).
LOGBOOK_ROLES = ("intern", "supervisor", "department")


class Actor(Protocol):
    """The caller: an account (`governance.models.User` or the web app's session user)."""

    id: int
    username: str
    role: str
    department: str | None


@dataclass(frozen=True)
class FieldError:
    field: str  # stable key for forms: "consultation_date", "problems.0.reason_code" …
    message: str  # French, names the field as the screen shows it


class LogbookError(ValueError):
    """Input that cannot be saved; `errors` names each wrong field. Nothing was written."""

    def __init__(self, errors: Sequence[FieldError]):
        self.errors = list(errors)
        super().__init__(" ; ".join(e.message for e in self.errors))


class EntryNotFound(LookupError):
    """No entry with this id that the caller may see (HTTP 404)."""

    def __init__(self, entry_id: object):
        self.entry_id = entry_id
        super().__init__(f"Entrée n° {entry_id} introuvable (ou pas dans votre carnet).")


class LogbookForbidden(PermissionError):
    """The caller's role may not do this (HTTP 403); the message says who may."""


# ----------------------------------------------------------------------------- input


@dataclass(frozen=True)
class ProblemInput:
    reason_text: str = ""
    reason_code: str | None = None
    result_text: str = ""
    result_code: str | None = None
    procedure_text: str = ""
    procedure_code: str | None = None


@dataclass(frozen=True)
class CompetenceInput:
    competence: str | None = None
    level: str | None = None
    justification: str = ""

    def is_blank(self) -> bool:
        return not (self.competence or self.level or self.justification.strip())


@dataclass(frozen=True)
class EntryInput:
    consultation_date: date | str | None
    age_band: str | None
    patient_sex: str | None
    problems: Sequence[ProblemInput] = ()
    competences: Sequence[CompetenceInput] = ()
    analysis: str = ""
    practice: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EntryInput:
        """From a JSON body or a form already grouped into lists of dicts."""
        return cls(
            consultation_date=data.get("consultation_date"),
            age_band=data.get("age_band"), patient_sex=data.get("patient_sex"),
            problems=tuple(ProblemInput(**{k: v for k, v in p.items()
                                           if k in ProblemInput.__dataclass_fields__})
                           for p in data.get("problems") or ()),
            competences=tuple(CompetenceInput(**{k: v for k, v in c.items()
                                                 if k in CompetenceInput.__dataclass_fields__})
                              for c in data.get("competences") or ()),
            analysis=data.get("analysis") or "", practice=data.get("practice"))


@dataclass(frozen=True)
class _Clean:
    consultation_date: date
    age_band: str
    patient_sex: str
    practice: str | None
    analysis: str
    problems: list[dict]
    competences: list[dict]


def _parse_date(value: date | str | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _text(value: object, key: str, label: str, errors: list[FieldError]) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TEXT_CHARS:
        errors.append(FieldError(key, f"{label} : {len(text)} caractères, au plus "
                                      f"{MAX_TEXT_CHARS} ; raccourcir le texte."))
    return text


def _code(value: str | None, key: str, label: str, errors: list[FieldError]) -> str | None:
    from p4dp.terminology import icpc2

    text = (value or "").strip()
    if not text:
        return None
    code = icpc2.canonical(text)
    if code is None:
        errors.append(FieldError(key, f"{label} : code CISP-2 « {text} » inconnu ; choisir un code "
                                      "proposé par la recherche (ex. R74) ou « _ » (pas de code)."))
    return code


def _suggestion(text: str, field_name: str) -> str | None:
    """The automatic coder's code for the text (None when it abstains): what the form
    pre-fills."""
    from p4dp.coding import code_text
    from p4dp.terminology.icpc2 import NO_CODE

    if not text:
        return None
    code = code_text(text, field_name).code
    return None if code == NO_CODE else code


def check_input(data: EntryInput, *, today: date | None = None) -> _Clean:
    """Validate and tidy an entry, or raise `LogbookError` listing every wrong field."""
    today = today or date.today()
    errors: list[FieldError] = []
    when = _parse_date(data.consultation_date)
    if when is None:
        errors.append(FieldError("consultation_date", "Date de la consultation : manquante ou "
                                 f"illisible (« {data.consultation_date or ''} ») ; saisir une "
                                 "date jj/mm/aaaa."))
    elif when > today:
        errors.append(FieldError("consultation_date", f"Date de la consultation : le "
                                 f"{format_date_fr(when)} est dans le futur ; saisir la date de "
                                 "la consultation effectuée."))
    if data.age_band not in R.AGE_BANDS:
        errors.append(FieldError("age_band", f"Âge du patient : tranche « {data.age_band or ''} » "
                                 "inconnue ; choisir parmi "
                                 + ", ".join(R.AGE_BAND_LABELS_FR.values()) + "."))
    if data.patient_sex not in R.SEXES:
        errors.append(FieldError("patient_sex", f"Sexe du patient : « {data.patient_sex or ''} » "
                                 "inconnu ; choisir Femme (F) ou Homme (M)."))
    practice = (data.practice or "").strip() or None
    if practice and len(practice) > 200:
        errors.append(FieldError("practice", "Lieu de stage : 200 caractères au plus."))
    analysis = _text(data.analysis, "analysis", "Analyse et supervision", errors)

    problems = []
    if not data.problems:
        errors.append(FieldError("problems", "Problèmes : au moins un problème (motif, résultat "
                                 "ou procédure) est nécessaire."))
    if len(data.problems) > MAX_PROBLEMS:
        errors.append(FieldError("problems", f"Problèmes : {len(data.problems)} saisis, au plus "
                                 f"{MAX_PROBLEMS} par consultation."))
    for i, p in enumerate(data.problems[:MAX_PROBLEMS]):
        row: dict[str, Any] = {"position": i + 1}
        for f in R.FIELDS:
            label = f"Problème n°{i + 1} — {R.FIELD_LABELS_FR[f]}"
            row[f"{f}_text"] = _text(getattr(p, f"{f}_text"), f"problems.{i}.{f}_text", label,
                                     errors)
            row[f"{f}_code"] = _code(getattr(p, f"{f}_code"), f"problems.{i}.{f}_code", label,
                                     errors)
        if not any(row[f"{f}_text"] or row[f"{f}_code"] for f in R.FIELDS):
            errors.append(FieldError(f"problems.{i}", f"Problème n°{i + 1} : vide ; saisir au "
                                     "moins un motif, un résultat ou une procédure, ou le "
                                     "retirer."))
        problems.append(row)

    competences = []
    slots = [c for c in data.competences if not c.is_blank()]
    if len(slots) > R.MAX_COMPETENCES:
        errors.append(FieldError("competences", f"Compétences utilisées : {len(slots)} choisies, "
                                 f"au plus {R.MAX_COMPETENCES}."))
    keys = {c.key for c in R.competences()}
    for i, c in enumerate(slots[:R.MAX_COMPETENCES]):
        label, key = f"Compétence n°{i + 1}", f"competences.{i}"
        justification = _text(c.justification, f"{key}.justification", f"{label} — justification",
                              errors)
        if not c.competence:
            what = "un niveau" if c.level else "une justification"
            errors.append(FieldError(f"{key}.competence", f"{label} : {what} sans compétence ; "
                                     "choisir la compétence ou effacer ce champ."))
            continue
        if c.competence not in keys:
            errors.append(FieldError(f"{key}.competence", f"{label} : « {c.competence} » ne fait "
                                     "pas partie des six compétences de médecine générale ; "
                                     "choisir dans la liste."))
        elif any(x["competence"] == c.competence for x in competences):
            errors.append(FieldError(f"{key}.competence", f"{label} : « "
                                     f"{R.competence(c.competence).label_fr} » est déjà choisie."))
        if not c.level:
            errors.append(FieldError(f"{key}.level", f"{label} : niveau manquant ; choisir "
                                     "Novice, Intermédiaire ou Compétent."))
        elif c.level not in R.LEVELS:
            errors.append(FieldError(f"{key}.level", f"{label} : niveau « {c.level} » inconnu ; "
                                     "choisir Novice, Intermédiaire ou Compétent."))
        competences.append({"position": i + 1, "competence": c.competence, "level": c.level,
                            "justification": justification})
    if errors:
        raise LogbookError(errors)
    for row in problems:
        for f in R.FIELDS:
            row[f"{f}_suggested"] = _suggestion(row[f"{f}_text"], f)
    return _Clean(when, data.age_band, data.patient_sex, practice, analysis, problems,
                  competences)


# ----------------------------------------------------------------------------- views


@dataclass(frozen=True)
class CodedField:
    text: str
    code: str | None
    title_fr: str | None
    suggested: str | None  # the coder's suggestion for the text
    accepted: bool  # the code kept is the coder's suggestion


@dataclass(frozen=True)
class ProblemView:
    position: int
    reason: CodedField
    result: CodedField
    procedure: CodedField


@dataclass(frozen=True)
class CompetenceView:
    position: int
    competence: str
    label_fr: str
    level: str
    level_fr: str
    justification: str


@dataclass(frozen=True)
class EntryView:
    id: int
    version: int
    current_version: int
    status: str
    status_fr: str
    intern_id: int
    intern: str
    supervisor_id: int
    supervisor: str
    consultation_date: date
    practice: str
    age_band: str
    patient_sex: str
    analysis: str
    supervisor_comment: str | None
    updated_at: datetime
    reviewed_at: datetime | None
    problems: list[ProblemView] = field(default_factory=list)
    competences: list[CompetenceView] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return self.status == "validated"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["consultation_date"] = self.consultation_date.isoformat()
        out["updated_at"] = self.updated_at.isoformat()
        out["reviewed_at"] = self.reviewed_at.isoformat() if self.reviewed_at else None
        return out


def _utc(dt: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for timezone-aware columns: they were stored in UTC."""
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def _title(code: str | None) -> str | None:
    from p4dp.terminology.icpc2 import title_fr_in_context

    return title_fr_in_context(code) if code else None


def _coded(p: LogbookProblem, f: str) -> CodedField:
    code, suggested = getattr(p, f"{f}_code"), getattr(p, f"{f}_suggested")
    return CodedField(getattr(p, f"{f}_text"), code, _title(code), suggested,
                      code is not None and code == suggested)


def _view(e: LogbookEntry, v: LogbookVersion, names: Mapping[int, str]) -> EntryView:
    return EntryView(
        id=e.id, version=v.version, current_version=e.current_version, status=v.status,
        status_fr=R.STATUS_LABELS_FR[v.status], intern_id=e.intern_id,
        intern=names.get(e.intern_id, ""), supervisor_id=e.supervisor_id,
        supervisor=names.get(e.supervisor_id, ""), consultation_date=v.consultation_date,
        practice=v.practice, age_band=v.age_band, patient_sex=v.patient_sex, analysis=v.analysis,
        supervisor_comment=v.supervisor_comment, updated_at=_utc(v.updated_at),
        reviewed_at=_utc(v.reviewed_at),
        problems=[ProblemView(p.position, *(_coded(p, f) for f in R.FIELDS)) for p in v.problems],
        competences=[CompetenceView(c.position, c.competence, R.competence(c.competence).label_fr,
                                    c.level, R.LEVEL_LABELS_FR[c.level], c.justification)
                     for c in v.competences])


def _names(s: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = set(ids)
    return dict(s.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


# ----------------------------------------------------------------------------- permissions


def _require_logbook_role(actor: Actor) -> None:
    if actor.role not in LOGBOOK_ROLES:
        raise LogbookForbidden("Le carnet de consultation est réservé aux internes, à leurs "
                               "maîtres de stage et à leur département de médecine générale.")


def visible_entries(actor: Actor) -> ColumnElement[bool]:
    """SQL condition on `LogbookEntry` selecting the entries `actor` may see."""
    _require_logbook_role(actor)
    if actor.role == "intern":
        return LogbookEntry.intern_id == actor.id
    if actor.role == "supervisor":
        supervised = select(User.id).where(User.supervisor_id == actor.id)
        return or_(LogbookEntry.supervisor_id == actor.id,
                   LogbookEntry.intern_id.in_(supervised))
    if not actor.department:
        return false()
    interns = select(User.id).where(User.role == "intern", User.department == actor.department)
    return LogbookEntry.intern_id.in_(interns)


def visible_interns(store: Store, actor: Actor) -> list[User]:
    """The interns whose entries `actor` may see (for the scope pickers), by name."""
    with store.sessions() as s:
        ids = select(LogbookEntry.intern_id).where(visible_entries(actor))
        if actor.role == "intern":
            cond = User.id == actor.id
        elif actor.role == "supervisor":
            cond = or_(User.supervisor_id == actor.id, User.id.in_(ids))
        else:
            cond = or_(User.department == actor.department, User.id.in_(ids))
        return list(s.scalars(select(User).where(User.role == "intern", cond)
                              .order_by(User.display_name)))


def _entry_for(s: Session, actor: Actor, entry_id: int, *, lock: bool = False) -> LogbookEntry:
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        raise EntryNotFound(entry_id)
    q = select(LogbookEntry).where(LogbookEntry.id == entry_id, visible_entries(actor))
    if lock and s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    entry = s.scalar(q)
    if entry is None:
        raise EntryNotFound(entry_id)
    return entry


def _versions(s: Session, entry_id: int, version: int | None = None) -> list[LogbookVersion]:
    """An entry's versions (or the one numbered `version`), with their problems and
    competences, oldest first."""
    q = (select(LogbookVersion).where(LogbookVersion.entry_id == entry_id)
         .options(selectinload(LogbookVersion.problems),
                  selectinload(LogbookVersion.competences))
         .order_by(LogbookVersion.version))
    if version is not None:
        q = q.where(LogbookVersion.version == version)
    return list(s.scalars(q))


def _current(s: Session, entry: LogbookEntry) -> LogbookVersion:
    return _versions(s, entry.id, entry.current_version)[0]


@contextmanager
def _changing(store: Store, actor: Actor, entry_id: int, role: str,
              refusal: str) -> Iterator[tuple[Session, LogbookEntry, LogbookVersion]]:
    """One transaction on a visible entry (locked), for the one role that may make the change."""
    with store.session() as s:
        entry = _entry_for(s, actor, entry_id, lock=True)
        if actor.role != role:
            raise LogbookForbidden(refusal)
        yield s, entry, _current(s, entry)


# ----------------------------------------------------------------------------- changes


def _fill(s: Session, v: LogbookVersion, clean: _Clean, default_practice: str) -> None:
    if v.id is not None:  # a draft edited in place: old rows go first (unique positions)
        v.problems.clear()
        v.competences.clear()
        s.flush()
    v.consultation_date, v.age_band, v.patient_sex = (clean.consultation_date, clean.age_band,
                                                      clean.patient_sex)
    v.practice = clean.practice or default_practice
    v.analysis = clean.analysis
    v.problems = [LogbookProblem(**p) for p in clean.problems]
    v.competences = [LogbookCompetence(**c) for c in clean.competences]


def _audit(s: Session, actor: Actor, action: str, entry: LogbookEntry, v: LogbookVersion,
           **params) -> None:
    append(s, Event(actor=actor.username, role=actor.role, action=action,
                    target=f"logbook_entry:{entry.id}",
                    params={"version": v.version, "status": v.status,
                            "intern_id": entry.intern_id, **params}))


def create_entry(store: Store, actor: Actor, data: EntryInput, *, submit: bool = False,
                 today: date | None = None) -> EntryView:
    """An intern records a consultation (a draft, or submitted for validation)."""
    _require_logbook_role(actor)
    if actor.role != "intern":
        raise LogbookForbidden("Seul l'interne saisit ses consultations dans son carnet.")
    clean = check_input(data, today=today)
    now = datetime.now(UTC)
    with store.session() as s:
        me = s.get(User, actor.id)
        if me is None or me.supervisor_id is None:
            raise LogbookError([FieldError("supervisor", "Maître de stage : aucun n'est associé "
                                           "à votre compte ; demander à l'administrateur de "
                                           "l'indiquer.")])
        if not (clean.practice or me.practice_id):
            raise LogbookError([FieldError("practice", "Lieu de stage : à indiquer.")])
        entry = LogbookEntry(intern_id=me.id, supervisor_id=me.supervisor_id, current_version=1,
                             created_at=now, updated_at=now)
        v = LogbookVersion(version=1, status="submitted" if submit else "draft", author_id=me.id,
                           created_at=now, updated_at=now, submitted_at=now if submit else None)
        _fill(s, v, clean, me.practice_id or "")
        entry.versions = [v]
        s.add(entry)
        s.flush()
        _audit(s, actor, "logbook.create", entry, v, problems=len(clean.problems),
               competences=len(clean.competences))
        return _view(entry, v, _names(s, (entry.intern_id, entry.supervisor_id)))


def update_entry(store: Store, actor: Actor, entry_id: int, data: EntryInput, *,
                 submit: bool = False, today: date | None = None) -> EntryView:
    """The intern edits an entry: in place while not validated; a validated version is locked, so
    the change becomes version n + 1 (draft or submitted), the validated one is kept."""
    _require_logbook_role(actor)
    clean = check_input(data, today=today)
    now = datetime.now(UTC)
    with _changing(store, actor, entry_id, "intern", "Seul l'interne modifie ses entrées ; le "
                   "maître de stage les commente et les valide.") as (s, entry, current):
        if current.status == "validated":
            v = LogbookVersion(entry_id=entry.id, version=current.version + 1, author_id=actor.id,
                               created_at=now)
            s.add(v)
            entry.current_version = v.version
            action = "logbook.new_version"
        else:
            v, action = current, "logbook.update"
        _fill(s, v, clean, current.practice)
        v.status = "submitted" if submit else "draft"
        v.updated_at = entry.updated_at = now
        v.submitted_at = now if submit else None
        s.flush()
        _audit(s, actor, action, entry, v, problems=len(clean.problems),
               competences=len(clean.competences))
        return _view(entry, v, _names(s, (entry.intern_id, entry.supervisor_id)))


def submit_entry(store: Store, actor: Actor, entry_id: int) -> EntryView:
    """The intern submits the current draft to the supervisor."""
    now = datetime.now(UTC)
    with _changing(store, actor, entry_id, "intern",
                   "Seul l'interne soumet ses entrées.") as (s, entry, v):
        if v.status != "draft":
            raise LogbookError([FieldError("status", f"Entrée n° {entry.id} déjà "
                                           f"{R.STATUS_LABELS_FR[v.status].lower()}.")])
        v.status, v.submitted_at, v.updated_at = "submitted", now, now
        entry.updated_at = now
        _audit(s, actor, "logbook.submit", entry, v)
        return _view(entry, v, _names(s, (entry.intern_id, entry.supervisor_id)))


def review_entry(store: Store, actor: Actor, entry_id: int, comment: str = "", *,
                 validate: bool = True) -> EntryView:
    """The supervisor validates the submitted version (it is then locked) or sends it back to
    the intern with a comment (a draft again)."""
    errors: list[FieldError] = []
    comment = _text(comment, "supervisor_comment", "Commentaire du maître de stage", errors)
    if not validate and not comment:
        errors.append(FieldError("supervisor_comment", "Commentaire du maître de stage : "
                                 "indiquer ce que l'interne doit reprendre."))
    if errors:
        raise LogbookError(errors)
    now = datetime.now(UTC)
    with _changing(store, actor, entry_id, "supervisor", "Seul le maître de stage valide les "
                   "entrées de ses internes.") as (s, entry, v):
        if v.status != "submitted":
            state = "validée" if v.status == "validated" else "pas encore soumise par l'interne"
            raise LogbookError([FieldError("status", f"Entrée n° {entry.id} (version "
                                           f"{v.version}) {state} : rien à valider.")])
        v.status = "validated" if validate else "draft"
        v.supervisor_comment = comment or None
        v.reviewed_by, v.reviewed_at, v.updated_at = actor.id, now, now
        entry.updated_at = now
        _audit(s, actor, "logbook.validate" if validate else "logbook.return", entry, v,
               comment=bool(comment))
        return _view(entry, v, _names(s, (entry.intern_id, entry.supervisor_id)))


# ----------------------------------------------------------------------------- reading


def get_entry(store: Store, actor: Actor, entry_id: int, version: int | None = None) -> EntryView:
    """One entry as the caller may see it: its current version, or an earlier kept one."""
    with store.sessions() as s:
        entry = _entry_for(s, actor, entry_id)
        found = _versions(s, entry.id, entry.current_version if version is None else version)
        if not found:
            raise EntryNotFound(f"{entry_id} (version {version})")
        return _view(entry, found[0], _names(s, (entry.intern_id, entry.supervisor_id)))


def entry_versions(store: Store, actor: Actor, entry_id: int) -> list[EntryView]:
    """Every kept version of an entry, oldest first."""
    with store.sessions() as s:
        entry = _entry_for(s, actor, entry_id)
        names = _names(s, (entry.intern_id, entry.supervisor_id))
        return [_view(entry, v, names) for v in _versions(s, entry.id)]


@dataclass(frozen=True)
class EntrySummary:
    id: int
    version: int
    status: str
    status_fr: str
    intern_id: int
    intern: str
    consultation_date: date
    age_band: str
    patient_sex: str
    n_problems: int
    results: str  # the problems' result codes, "R74, K86"


def list_entries(store: Store, actor: Actor, *, intern_id: int | None = None,
                 start: date | None = None, end: date | None = None,
                 status: str | None = None, limit: int = 500) -> list[EntrySummary]:
    """The entries the caller may see (current versions), newest consultation first."""
    with store.sessions() as s:
        q = (select(LogbookEntry, LogbookVersion)
             .join(LogbookVersion, (LogbookVersion.entry_id == LogbookEntry.id)
                   & (LogbookVersion.version == LogbookEntry.current_version))
             .where(visible_entries(actor))
             .options(selectinload(LogbookVersion.problems))
             .order_by(LogbookVersion.consultation_date.desc(), LogbookEntry.id.desc())
             .limit(limit))
        if intern_id is not None:
            q = q.where(LogbookEntry.intern_id == intern_id)
        if start is not None:
            q = q.where(LogbookVersion.consultation_date >= start)
        if end is not None:
            q = q.where(LogbookVersion.consultation_date <= end)
        if status is not None:
            q = q.where(LogbookVersion.status == status)
        rows = s.execute(q).all()
        names = _names(s, {e.intern_id for e, _ in rows})
        return [EntrySummary(e.id, v.version, v.status, R.STATUS_LABELS_FR[v.status], e.intern_id,
                             names.get(e.intern_id, ""), v.consultation_date, v.age_band,
                             v.patient_sex, len(v.problems),
                             ", ".join(p.result_code for p in v.problems if p.result_code))
                for e, v in rows]
