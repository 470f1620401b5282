"""Realistic logbook entries for the synthetic network's interns, for the demo.

The synthetic network already has interns (practitioner role `intern`, with their supervisor)
who take part of their supervisor's consultations during a semester. Their logbook is built from
those very consultations, read from the warehouse: the patient's age band and sex, each
problem's Motif / Résultat / Procédure as the generator wrote them (French GP text) with the
code the warehouse holds — what the intern would pick — and the coder's suggestion. Competences
follow from what was handled (a chronic follow-up → continuité, a vaccination → prévention …),
their levels rise over the semester, and most entries older than two weeks are validated.

Accounts are made for the interns (their `practitioner_id` is their pseudonym in the warehouse,
so their dashboard compares them with the base), their supervisors and one teaching department
per region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import insert, select

from p4dp.governance.accounts import hash_password, password_problem
from p4dp.governance.audit import Event, append
from p4dp.governance.models import User
from p4dp.governance.store import Store
from p4dp.logbook import reference as R
from p4dp.logbook.models import LogbookCompetence, LogbookEntry, LogbookProblem, LogbookVersion

#: Interns given a logbook in the demo: those of the latest semesters (enough for a department
#: dashboard, few enough to keep `p4dp demo` fast).
DEMO_INTERNS = 40
#: Share of their consultations interns record (P4DP assumption: about every other one; the
#: teaching departments ask for a sample, not every act) and a cap per intern.
LOGGED_SHARE = 0.5
MAX_ENTRIES_PER_INTERN = 120
#: Entries older than this are mostly reviewed; VALIDATED_SHARE of them are validated, the others
#: still await the supervisor (submitted). Recent entries are drafts or submitted.
REVIEW_DELAY_DAYS = 14
VALIDATED_SHARE = 0.85
RECENT_SUBMITTED_SHARE = 0.5
#: Level drawn around 1 + 2 × (progress through the semester) with this spread: novice at the
#: start of a 6-month semester (French GP internship), competent by its end.
LEVEL_NOISE_SD = 0.6
SEMESTER_DAYS = 182

#: One teaching department (DMG) per region of the synthetic network, named as the demo accounts
#: name it (`governance.demo`), so that the demo's department account sees these interns.
DEPARTMENT_NAME = "DMG région {region}"

#: What the intern writes to justify a competence; `{result}` is the result's CISP-2 title.
JUSTIFICATIONS = {
    "premier_recours": ("Premier contact pour {result}, décision prise en autonomie.",
                        "Tri de l'urgence et conduite à tenir pour {result}."),
    "relation": ("Écoute et reformulation ; patient inquiet rassuré.",
                 "Annonce et explication du diagnostic : {result}."),
    "approche_globale": ("Plusieurs problèmes dans la même consultation, priorisés avec le "
                         "patient.", "Contexte de vie et comorbidités pris en compte."),
    "prevention": ("Geste de prévention proposé et expliqué.",
                   "Dépistage abordé selon l'âge et le sexe."),
    "continuite": ("Suivi de {result} ; prochain rendez-vous programmé.",
                   "Coordination avec le spécialiste pour {result}."),
    "professionnalisme": ("Certificat rédigé dans les règles.",
                          "Limites de compétence reconnues, avis demandé au maître de stage."),
}
ANALYSES = (
    "Cas discuté avec le maître de stage après la consultation.",
    "Revoir les recommandations HAS sur ce motif.",
    "Bonne gestion du temps ; examen clinique à mieux cibler.",
    "Hésitation sur la prescription d'antibiotique, levée par la discussion.",
    "Consultation menée seul, supervision indirecte en fin de journée.",
    "",
)
COMMENTS = ("Bonne prise en charge.", "Raisonnement clair, à poursuivre.",
            "Penser à la traçabilité dans le dossier.", "Très bien.", "")
#: Codes handled as follow-up of a chronic condition or as prevention (ICPC-2: vaccination A44 /
#: R44, screening X41 mammography, D36 faecal test, X37 cervical smear; renewal A50).
CHRONIC = frozenset({"K86", "K87", "T90", "T89", "T93", "R96", "K77", "K78", "P76", "P74", "T86",
                     "L89", "L90", "L95", "A50"})
PREVENTION = frozenset({"A44", "R44", "X41", "D36", "X37", "A98", "F31", "K31"})
ADMINISTRATIVE = frozenset({"A62", "A68"})


@dataclass
class PopulateResult:
    interns: int
    supervisors: int
    departments: int
    entries: int
    problems: int


def _level(progress: float, rng: np.random.Generator) -> str:
    score = 1 + 2 * progress + rng.normal(0, LEVEL_NOISE_SD)
    return R.LEVELS[int(np.clip(round(score), 1, 3)) - 1]


def competences_for(problems: list[dict], age_band: str) -> list[str]:
    """The (up to three) competences a consultation calls on, from what was handled."""
    codes = {p[f] for p in problems for f in ("reason_code", "result_code", "procedure_code")
             if p[f]}
    chapters = {c[0] for c in codes if c != "_"}
    out = []
    if codes & CHRONIC:
        out.append("continuite")
    if codes & PREVENTION:
        out.append("prevention")
    if "P" in chapters or "Z" in chapters:
        out.append("relation")
    if len(problems) >= 2 or age_band == "75+":
        out.append("approche_globale")
    if codes & ADMINISTRATIVE:
        out.append("professionnalisme")
    if not out or any(p["result_code"] and p["result_code"][0] in "RDHLSU"
                      and p["result_code"] not in CHRONIC for p in problems):
        out.insert(0, "premier_recours")
    return list(dict.fromkeys(out))[:R.MAX_COMPETENCES]


# ----------------------------------------------------------------------------- warehouse reads


def _interns(backend) -> pa.Table:
    """Every intern with their supervisor, practice and region, latest semesters first."""
    prac = backend.table("practitioner")
    enc = backend.table("encounter")
    practice = backend.table("practice")
    stats = enc.group_by("practitioner_id").aggregate(n=enc.count(), last=enc.date.max())
    interns = prac.filter(prac.role == "intern", prac.supervisor_id.notnull())
    j = interns.join(stats, "practitioner_id").join(
        practice.select("practice_id", "region_code"), "practice_id")
    t = j.select("practitioner_id", "supervisor_id", "practice_id", "region_code", "last")
    return t.order_by([t["last"].desc(), t.practitioner_id]).to_pyarrow()


def _consultations(backend, intern_ids: list[str], today: date) -> tuple[pa.Table, pa.Table]:
    """The interns' consultations (with the patient's age band and sex) and their problems."""
    import ibis

    from p4dp.analytics.portable import age_at, age_band

    enc = backend.table("encounter")
    pat = backend.table("patient")
    ids = ibis.memtable(pa.table({"practitioner_id": pa.array(intern_ids, pa.string())}))
    e = enc.filter(enc.date <= today).join(ids, "practitioner_id")
    j = e.join(pat.select("patient_id", "sex", "birth_year", "birth_month"), "patient_id")
    consult = j.select(
        "encounter_id", "practitioner_id", "date", "sex",
        age_band=age_band(age_at(j.birth_year, j.birth_month, j.date), R.AGE_BREAKS,
                          R.AGE_BANDS)).order_by(["practitioner_id", "date", "encounter_id"])
    prob = backend.table("problem").join(e.select("encounter_id"), "encounter_id")
    cols = ["encounter_id", "rank"] + [f"{f}_{k}" for f in R.FIELDS
                                       for k in ("text", "code", "code_origin")]
    return consult.to_pyarrow(), prob.select(*cols).order_by(["encounter_id", "rank"]).to_pyarrow()


def _chosen(interns: pa.Table, store: Store, max_interns: int) -> pa.Table:
    """The `max_interns` latest, plus any intern who already has an account (the demo's)."""
    with store.sessions() as s:
        known = set(s.scalars(select(User.practitioner_id).where(User.role == "intern")))
    ids = interns["practitioner_id"].to_pylist()
    keep = [i for i, p in enumerate(ids) if i < max_interns or p in known]
    return interns.take(keep)


# ----------------------------------------------------------------------------- entries


def _problem_rows(problems: pa.Table) -> dict[str, list[dict]]:
    """Problems per encounter. The warehouse's code is the one the intern keeps; where the
    platform's coder gave it (`*_code_origin = 'auto'`) it is also the coder's suggestion, so
    the entry records it as suggested and accepted (the GP's own codes had no suggestion)."""
    out: dict[str, list[dict]] = {}
    for r in problems.to_pylist():
        row = {}
        for f in R.FIELDS:
            code = r[f"{f}_code"]
            row[f"{f}_text"] = r[f"{f}_text"] or ""
            row[f"{f}_code"] = code
            auto = r[f"{f}_code_origin"] == "auto" and code != "_"
            row[f"{f}_suggested"] = code if auto else None
        out.setdefault(r["encounter_id"], []).append(row)
    return out


def _title(code: str | None) -> str:
    from p4dp.logbook.dashboard import _title as title

    return title(code).lower() if code and code != "_" else "ce problème"


def generate_entries(consultations: pa.Table, problems: pa.Table, users: dict[str, User],
                     practices: dict[str, str], *, seed: int, today: date) -> list[dict]:
    """One entry per sampled consultation of each intern (see module docstring)."""
    rng = np.random.default_rng(seed)
    by_encounter = _problem_rows(problems)
    c = consultations.to_pydict()
    by_intern: dict[str, list[int]] = {}
    for i, who in enumerate(c["practitioner_id"]):
        if c["encounter_id"][i] in by_encounter and c["age_band"][i] and c["sex"][i] in R.SEXES:
            by_intern.setdefault(who, []).append(i)
    entries = []
    for who, rows in by_intern.items():
        intern = users[who]
        keep = rows if len(rows) <= 2 else [i for i in rows if rng.random() < LOGGED_SHARE]
        keep = keep[:MAX_ENTRIES_PER_INTERN]
        first = c["date"][rows[0]]
        for i in keep:
            when = c["date"][i]
            probs = [{**p, "position": n + 1}
                     for n, p in enumerate(by_encounter[c["encounter_id"][i]][:10])]
            progress = min((when - first).days / SEMESTER_DAYS, 1.0)
            result = next((p["result_code"] for p in probs if p["result_code"]), None)
            comps = []
            for n, key in enumerate(competences_for(probs, c["age_band"][i])):
                text = JUSTIFICATIONS[key][int(rng.integers(len(JUSTIFICATIONS[key])))]
                comps.append({"position": n + 1, "competence": key, "level": _level(progress, rng),
                              "justification": text.format(result=_title(result))})
            old = (today - when).days > REVIEW_DELAY_DAYS
            if old:
                status = "validated" if rng.random() < VALIDATED_SHARE else "submitted"
            else:
                status = "submitted" if rng.random() < RECENT_SUBMITTED_SHARE else "draft"
            entries.append({
                "intern_id": intern.id, "supervisor_id": intern.supervisor_id, "date": when,
                "practice": practices.get(who, ""), "age_band": c["age_band"][i],
                "sex": c["sex"][i], "status": status,
                "analysis": ANALYSES[int(rng.integers(len(ANALYSES)))],
                "comment": (COMMENTS[int(rng.integers(len(COMMENTS)))] or None
                            if status == "validated" else None),
                "problems": probs, "competences": comps})
    return entries


def insert_entries(store: Store, entries: list[dict], *, actor: str = "demo") -> int:
    """Bulk insert (one statement per table, ids returned in order), one audit event."""
    if not entries:
        return 0
    now = datetime.now(UTC)
    with store.session() as s:
        entry_ids = s.scalars(
            insert(LogbookEntry).returning(LogbookEntry.id, sort_by_parameter_order=True),
            [{"intern_id": e["intern_id"], "supervisor_id": e["supervisor_id"],
              "current_version": 1, "created_at": now, "updated_at": now} for e in entries]).all()
        version_ids = s.scalars(
            insert(LogbookVersion).returning(LogbookVersion.id, sort_by_parameter_order=True),
            [{"entry_id": eid, "version": 1, "status": e["status"],
              "consultation_date": e["date"], "practice": e["practice"],
              "age_band": e["age_band"], "patient_sex": e["sex"], "analysis": e["analysis"],
              "supervisor_comment": e["comment"], "author_id": e["intern_id"],
              "created_at": now, "updated_at": now,
              "submitted_at": now if e["status"] != "draft" else None,
              "reviewed_by": e["supervisor_id"] if e["status"] == "validated" else None,
              "reviewed_at": now if e["status"] == "validated" else None}
             for eid, e in zip(entry_ids, entries)]).all()
        problems = [{**p, "version_id": vid} for vid, e in zip(version_ids, entries)
                    for p in e["problems"]]
        s.execute(insert(LogbookProblem), problems)
        competences = [{**c, "version_id": vid} for vid, e in zip(version_ids, entries)
                       for c in e["competences"]]
        if competences:
            s.execute(insert(LogbookCompetence), competences)
        append(s, Event(actor=actor, action="logbook.populate", target="logbook",
                        params={"entries": len(entries), "problems": len(problems)},
                        rows=len(entries)))
    return len(problems)


# ----------------------------------------------------------------------------- accounts


def _username(prefix: str, pseudonym: str) -> str:
    source, _, digest = pseudonym.partition("_")
    return f"{prefix}.{source}.{digest[:8]}"


def _ensure_accounts(store: Store, interns: pa.Table, password: str,
                     actor: str) -> tuple[dict[str, User], int, int]:
    """Accounts for the interns, their supervisors and departments. An existing account is kept:
    same username, or same role and pseudonym (the demo's « interne » and « maitre-stage »), or a
    department account of the same department (« dmg »). New accounts share the demo password,
    so one Argon2 hash serves them all."""
    digest = hash_password(password)
    now = datetime.now(UTC)
    rows = interns.to_pylist()
    with store.session() as s:
        existing: dict[object, User] = {}
        for u in s.scalars(select(User).order_by(User.id)):
            existing.setdefault(u.username, u)
            if u.practitioner_id:
                existing.setdefault((u.role, u.practitioner_id), u)
            if u.role == "department" and u.department:
                existing.setdefault((u.role, u.department), u)

        def account(username: str, role: str, display: str, **kw) -> User:
            key = kw.get("practitioner_id") or kw.get("department")
            for k in (username, (role, key)):
                if k in existing:
                    return existing[k]
            u = User(username=username, display_name=display, role=role, password_hash=digest,
                     is_active=True, failed_logins=0, created_at=now, **kw)
            s.add(u)
            s.flush()
            append(s, Event(actor=actor, action="user.add", target=f"user:{username}",
                            params={"role": role, "department": kw.get("department")}))
            existing[username] = existing[(role, key)] = u
            return u

        departments = {}
        for r in rows:
            name = DEPARTMENT_NAME.format(region=r["region_code"])
            departments[r["region_code"]] = account(f"dmg.{r['region_code']}", "department",
                                                    name, department=name)
        supervisors = {}
        for r in rows:
            dept = departments[r["region_code"]].department
            sup = r["supervisor_id"]
            if sup not in supervisors:
                supervisors[sup] = account(
                    _username("mds", sup), "supervisor",
                    f"Maître de stage {sup.split('_')[0].upper()}-{len(supervisors) + 1:02d}",
                    department=dept, practitioner_id=sup, practice_id=r["practice_id"],
                    region_code=r["region_code"])
        users = {}
        for n, r in enumerate(rows):
            users[r["practitioner_id"]] = account(
                _username("interne", r["practitioner_id"]), "intern",
                f"Interne {r['practitioner_id'].split('_')[0].upper()}-{n + 1:02d}",
                practitioner_id=r["practitioner_id"], practice_id=r["practice_id"],
                region_code=r["region_code"], department=departments[r["region_code"]].department,
                supervisor_id=supervisors[r["supervisor_id"]].id)
        return users, len(supervisors), len(departments)


def populate_demo_logbook(store: Store, warehouse: Path | str, *, password: str,
                          max_interns: int = DEMO_INTERNS, seed: int = 42,
                          today: date | None = None,
                          progress: Callable[[str], None] | None = None) -> PopulateResult:
    """Fill the logbook of the latest semesters' interns from the warehouse's synthetic
    consultations (accounts included, all with `password`). Interns who already have entries
    are left as they are, so running the demo twice adds nothing."""
    import ibis

    if problem := password_problem(password):
        raise ValueError(f"mot de passe des comptes de démonstration : {problem}")
    if not Path(warehouse).is_file():
        raise FileNotFoundError(f"entrepôt introuvable : {warehouse} ; lancer d'abord "
                                "`p4dp demo` (ou `p4dp ingest`).")
    today = today or date.today()
    say = progress or (lambda _msg: None)
    backend = ibis.duckdb.connect(str(warehouse), read_only=True)
    try:
        say("Carnet de consultation : internes de l'entrepôt…")
        interns = _chosen(_interns(backend), store, max_interns)
        users, n_sup, n_dept = _ensure_accounts(store, interns, password, "demo")
        with store.sessions() as s:
            done = set(s.scalars(select(LogbookEntry.intern_id).distinct()))
        todo = [p for p, u in users.items() if u.id not in done]
        say(f"Carnet de consultation : consultations de {len(todo)} internes…")
        consultations, problems = _consultations(backend, todo, today)
    finally:
        backend.disconnect()
    practices = dict(zip(interns["practitioner_id"].to_pylist(),
                         interns["practice_id"].to_pylist()))
    entries = generate_entries(consultations, problems, users, practices, seed=seed, today=today)
    say(f"Carnet de consultation : {len(entries)} entrées…")
    n_problems = insert_entries(store, entries)
    return PopulateResult(len(users), n_sup, n_dept, len(entries), n_problems)

