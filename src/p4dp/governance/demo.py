"""Demo accounts: one per role, bound to real pseudonyms of the warehouse (`p4dp demo`).

The GP is the participating GP with the most patients among those who supervise interns, the
intern one of *their* interns (latest
active), the supervisor that GP (a maître de stage is a GP), the regional researcher confined to
that GP's region. Passwords are random and meet the CNIL recommendation (`accounts`); running it
again gives the same accounts new passwords (audited).
"""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from sqlalchemy import select

from p4dp.governance.accounts import NewUser, add_user, hash_password, password_problem
from p4dp.governance.audit import Event, append
from p4dp.governance.models import User
from p4dp.governance.store import Store

#: Length of generated passwords (above the CNIL minimum of 12, `accounts.PASSWORD_MIN_LENGTH`).
DEMO_PASSWORD_LENGTH = 16
_ALPHABET = string.ascii_letters + string.digits + "-_.!?@#%"


def random_password(length: int = DEMO_PASSWORD_LENGTH) -> str:
    """A random password meeting the CNIL recommendation (all four character classes)."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if password_problem(candidate) is None:
            return candidate


def _pick(warehouse_path: Path | str) -> dict:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        gp = con.execute("""
            WITH mine AS (
                SELECT gp_id AS practitioner_id, patient_id FROM patient WHERE gp_id IS NOT NULL
                UNION SELECT practitioner_id, patient_id FROM encounter)
            , supervisors AS (
                SELECT DISTINCT supervisor_id AS practitioner_id FROM practitioner
                WHERE role = 'intern')
            SELECT p.practitioner_id, p.practice_id, pr.region_code, count(*) AS n,
                   s.practitioner_id IS NOT NULL AS supervises
            FROM mine JOIN practitioner p USING (practitioner_id)
            JOIN practice pr ON pr.practice_id = p.practice_id
            LEFT JOIN supervisors s ON s.practitioner_id = p.practitioner_id
            WHERE p.role = 'gp' AND coalesce(p.participation, 'active') = 'active'
            GROUP BY ALL ORDER BY supervises DESC, n DESC, p.practitioner_id
            LIMIT 1""").fetchone()
        if gp is None:
            raise ValueError("aucun médecin participant dans l'entrepôt : chargez des données "
                             "(`p4dp demo`) avant de créer les comptes de démonstration")
        intern = con.execute("""
            SELECT i.practitioner_id FROM practitioner i
            LEFT JOIN encounter e ON e.practitioner_id = i.practitioner_id
            WHERE i.role = 'intern' AND i.supervisor_id = ?
            GROUP BY i.practitioner_id ORDER BY max(e.date) DESC NULLS LAST,
            i.practitioner_id LIMIT 1""", [gp[0]]).fetchone()
    finally:
        con.close()
    return {"gp": gp[0], "practice": gp[1], "region": gp[2], "patients": gp[3],
            "intern": intern[0] if intern else None}


def create_demo_accounts(store: Store, warehouse_path: Path | str
                         ) -> list[tuple[str, str, str, str]]:
    """Create (or re-password) one account per role; return (username, password, role,
    description in French)."""
    w = _pick(warehouse_path)
    dmg = f"DMG région {w['region']}"
    specs = [
        (NewUser("medecin", "gp", "", "Dr Démo (médecin)", practitioner_id=w["gp"],
                 practice_id=w["practice"], region_code=w["region"]),
         f"médecin généraliste {w['gp']} ({w['patients']} patients)"),
        (NewUser("maitre-stage", "supervisor", "", "Dr Démo (maître de stage)",
                 practitioner_id=w["gp"], practice_id=w["practice"], department=dmg),
         f"maître de stage (le même médecin), {dmg}"),
        (NewUser("dmg", "department", "", "Département de médecine générale",
                 department=dmg), dmg),
        (NewUser("chercheur-region", "researcher", "", "Chercheuse régionale",
                 region_code=w["region"]), f"chercheuse, région {w['region']}"),
        (NewUser("chercheur", "researcher", "", "Chercheur national"), "chercheur, national"),
        (NewUser("epidemio", "epidemiologist", "", "Épidémiologiste"), "épidémiologiste, "
         "national"),
        (NewUser("dim", "data_steward", "", "Médecin DIM"), "responsable des données"),
        (NewUser("ethique", "ethics", "", "Membre du comité d'éthique"), "comité d'éthique"),
        (NewUser("admin", "admin", "", "Administrateur"), "administrateur (comptes, audit)"),
    ]
    if w["intern"]:
        specs.insert(1, (NewUser("interne", "intern", "", "Interne démo",
                                 practitioner_id=w["intern"], practice_id=w["practice"],
                                 department=dmg, supervisor="maitre-stage"),
                         f"interne {w['intern']}, supervisé(e) par « maitre-stage »"))
        # the supervisor account must exist before the intern names it
        specs.sort(key=lambda s: s[0].role == "intern")
    out = []
    for new, description in specs:
        password = random_password()
        with store.sessions() as s:
            exists = s.scalar(select(User.id).where(User.username == new.username))
        if exists is None:
            add_user(store, NewUser(**{**new.__dict__, "password": password}), actor="demo")
        else:
            _reset(store, new.username, password)
        out.append((new.username, password, new.role, description))
    return out


def _reset(store: Store, username: str, password: str) -> None:
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        user.password_hash = hash_password(password)
        user.failed_logins, user.locked_until, user.is_active = 0, None, True
        append(s, Event(actor="demo", action="user.reset_password", target=f"user:{username}",
                        params={"at": datetime.now(UTC).isoformat()}))
