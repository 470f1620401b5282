"""Accounts: creation, listing, disabling, password checks and login with lockout.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended
profile). Every administrative act is audited in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from p4dp.governance.audit import Event, append
from p4dp.governance.models import User
from p4dp.governance.store import Store
from p4dp.privacy.disclosure import ROLES

#: CNIL, délibération n° 2022-100 du 21 juillet 2022 (recommandation relative aux mots de passe),
#: case 1: at least 12 characters mixing upper case, lower case, digits and special characters.
PASSWORD_MIN_LENGTH = 12
PASSWORD_CLASSES = 4
#: Same recommendation: access is restricted after repeated failures. We lock the account for
#: LOCKOUT_MINUTES after MAX_FAILED_LOGINS consecutive failures.
MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15

ROLE_LABELS_FR = {
    "gp": "Médecin généraliste",
    "intern": "Interne",
    "supervisor": "Maître de stage",
    "department": "Département de médecine générale",
    "researcher": "Chercheur",
    "data_steward": "Médecin responsable des données (DIM)",
    "ethics": "Membre du comité d'éthique",
    "epidemiologist": "Épidémiologiste",
    "admin": "Administrateur",
}

_hasher = PasswordHasher()


class AccountError(ValueError):
    """A request on accounts that cannot be honoured; the message is for the user (French)."""


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"le mot de passe doit compter au moins {PASSWORD_MIN_LENGTH} caractères"
    classes = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password),
                   any(not c.isalnum() for c in password)))
    if classes < PASSWORD_CLASSES:
        return ("le mot de passe doit mêler majuscules, minuscules, chiffres et caractères "
                "spéciaux (recommandation CNIL)")
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class NewUser:
    username: str
    role: str
    password: str
    display_name: str = ""
    practitioner_id: str | None = None
    practice_id: str | None = None
    region_code: str | None = None
    department: str | None = None
    supervisor: str | None = None  # the supervisor's username (interns)

    def problems(self) -> list[str]:
        out = []
        if not self.username or len(self.username) > 64 or not all(
                c.isalnum() or c in "._-@" for c in self.username):
            out.append("identifiant : 1 à 64 caractères parmi lettres, chiffres et « ._-@ »")
        if self.role not in ROLES:
            out.append(f"rôle inconnu « {self.role} » ; rôles : {', '.join(ROLES)}")
        if self.role in ("gp", "intern") and not self.practitioner_id:
            out.append("un médecin ou un interne doit avoir son pseudonyme de praticien "
                       "(--practitioner)")
        if self.role in ("supervisor", "department") and not self.department:
            out.append("un maître de stage ou un département doit avoir son département "
                       "(--department)")
        if problem := password_problem(self.password):
            out.append(problem)
        return out


def add_user(store: Store, new: NewUser, *, actor: str = "cli") -> User:
    if problems := new.problems():
        raise AccountError("; ".join(problems))
    with store.session() as s:
        if s.scalar(select(User.id).where(User.username == new.username)) is not None:
            raise AccountError(f"l'identifiant « {new.username} » existe déjà")
        supervisor_id = None
        if new.supervisor:
            supervisor_id = s.scalar(select(User.id).where(User.username == new.supervisor,
                                                           User.role == "supervisor"))
            if supervisor_id is None:
                raise AccountError(f"maître de stage « {new.supervisor} » introuvable")
        user = User(username=new.username, display_name=new.display_name or new.username,
                    role=new.role, password_hash=hash_password(new.password),
                    practitioner_id=new.practitioner_id, practice_id=new.practice_id,
                    region_code=new.region_code, department=new.department,
                    supervisor_id=supervisor_id, is_active=True, failed_logins=0,
                    created_at=datetime.now(UTC))
        s.add(user)
        s.flush()
        append(s, Event(actor=actor, action="user.add", target=f"user:{new.username}",
                        params={"role": new.role, "practitioner_id": new.practitioner_id,
                                "practice_id": new.practice_id, "region_code": new.region_code,
                                "department": new.department, "supervisor": new.supervisor}))
        return user


def list_users(store: Store) -> list[User]:
    with store.sessions() as s:
        return list(s.scalars(select(User).order_by(User.role, User.username)))


def set_active(store: Store, username: str, active: bool, *, actor: str = "cli") -> User:
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise AccountError(f"identifiant « {username} » introuvable")
        user.is_active = active
        if active:
            user.failed_logins, user.locked_until = 0, None
        append(s, Event(actor=actor, action="user.enable" if active else "user.disable",
                        target=f"user:{username}"))
        return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    message: str | None = None  # French, for the login page (never says which part was wrong)


GENERIC_FAILURE = "Identifiant ou mot de passe incorrect."


def authenticate(store: Store, username: str, password: str, *,
                 now: datetime | None = None) -> LoginResult:
    """Check a login; count failures and lock the account after MAX_FAILED_LOGINS. Audited."""
    now = now or datetime.now(UTC)
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == username[:64]))
        outcome, result = "denied", LoginResult(None, GENERIC_FAILURE)
        if user is not None and user.is_active:
            locked = user.locked_until is not None and _aware(user.locked_until) > now
            if locked:
                result = LoginResult(None, "Compte verrouillé après plusieurs échecs : réessayer "
                                     f"dans {LOCKOUT_MINUTES} minutes ou contacter "
                                     "l'administrateur.")
                outcome = "locked"
            elif _verify(user.password_hash, password):
                user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
                if _hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                outcome, result = "ok", LoginResult(user)
            else:
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
                    outcome = "locked"
        append(s, Event(actor=username[:64] or "?", action="login",
                        role=user.role if user else None, outcome=outcome))
        return result


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _aware(dt: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they were stored in UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
