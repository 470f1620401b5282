"""Shared by the logbook tests: a small teaching network of accounts and a valid entry."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date

from p4dp.governance import accounts
from p4dp.governance.accounts import NewUser
from p4dp.governance.models import User
from p4dp.logbook.service import CompetenceInput, EntryInput, ProblemInput

PASSWORD = "Interne-2026!ok"
TODAY = date(2026, 11, 29)


@lru_cache(maxsize=1)
def one_hash() -> str:
    """Argon2 costs ~0.1 s a password by design; the tests' accounts share one real hash."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(PASSWORD)


@dataclass
class Network:
    users: dict[str, User]

    def __getitem__(self, name: str) -> User:
        return self.users[name]


def make_network(store) -> Network:
    """Two departments; sup.a supervises int.a, sup.b supervises int.b (Nice) and int.c (Rouen)."""
    specs = [
        NewUser("dmg.nice", "department", PASSWORD, "DMG Nice", department="DMG Nice"),
        NewUser("dmg.rouen", "department", PASSWORD, "DMG Rouen", department="DMG Rouen"),
        NewUser("sup.a", "supervisor", PASSWORD, "Dr Alpha", department="DMG Nice"),
        NewUser("sup.b", "supervisor", PASSWORD, "Dr Bravo", department="DMG Nice"),
        NewUser("int.a", "intern", PASSWORD, "Interne A", practitioner_id="arm_ia",
                practice_id="arm_p1", department="DMG Nice", supervisor="sup.a"),
        NewUser("int.b", "intern", PASSWORD, "Interne B", practitioner_id="arm_ib",
                practice_id="arm_p2", department="DMG Nice", supervisor="sup.b"),
        NewUser("int.c", "intern", PASSWORD, "Interne C", practitioner_id="med_ic",
                practice_id="med_p1", department="DMG Rouen", supervisor="sup.b"),
        NewUser("dr.gp", "gp", PASSWORD, "Dr Généraliste", practitioner_id="arm_gp"),
        NewUser("chercheur", "researcher", PASSWORD, "Chercheur"),
    ]
    return Network({u.username: accounts.add_user(store, u) for u in specs})


def entry(when=date(2026, 11, 2), age_band="25-44", sex="F", problems=None, competences=None,
          analysis="Bonne démarche ; revoir les critères de Centor.") -> EntryInput:
    return EntryInput(
        consultation_date=when, age_band=age_band, patient_sex=sex,
        problems=problems or (ProblemInput("mal de gorge", "R21", "angine", "R76",
                                           "test de diagnostic rapide", "R33"),),
        competences=competences if competences is not None else (
            CompetenceInput("premier_recours", "novice", "Première angine seule"),),
        analysis=analysis)


# --- a hand-made warehouse with interns' consultations ---------------------------------------

def build_warehouse(path, *, today: date = TODAY):
    """Two regions; interns arm_i1 and arm_i2 (supervisor arm_g1, region 93) and med_i3
    (supervisor med_g2, region 28), each with 30 consultations over their semester."""
    import datetime as dt

    import duckdb
    import pyarrow as pa

    from p4dp.cdm import ALL_TABLES, table

    t: dict[str, list[dict]] = {"practice": [
        {"source_id": "arm", "practice_id": "arm_p1", "region_code": "93",
         "departement_code": "06",
         "kind": "msp"},
        {"source_id": "med", "practice_id": "med_p2", "region_code": "28",
         "departement_code": "76",
         "kind": "cabinet"}]}
    t["practitioner"] = [
        {"source_id": s, "practitioner_id": p, "practice_id": pr, "role": role,
         "participation": "active",
         "supervisor_id": sup}
        for s, p, pr, role, sup in (("arm", "arm_g1", "arm_p1", "gp", None),
                                    ("med", "med_g2", "med_p2", "gp", None),
                                    ("arm", "arm_i1", "arm_p1", "intern", "arm_g1"),
                                    ("arm", "arm_i2", "arm_p1", "intern", "arm_g1"),
                                    ("med", "med_i3", "med_p2", "intern", "med_g2"))]
    texts = [("toux", "R05", "bronchite", "R78", "auscultation", "R31"),
             ("contrôle tension", "K86", "HTA", "K86", "renouvellement", "A50"),
             ("vaccin grippe", "R44", "vaccination", "A44", "injection", "A44"),
             ("fièvre enfant", "A03", "otite", "H71", None, None)]
    t["patient"], t["encounter"], t["problem"] = [], [], []
    for k, intern in enumerate(("arm_i1", "arm_i2", "med_i3")):
        src = intern[:3]
        for n in range(30):
            pid, eid = f"{intern}_pat{n}", f"{intern}_e{n}"
            when = today - dt.timedelta(days=150 - 5 * n)
            t["patient"].append({"source_id": src, "patient_id": pid,
                                 "practice_id": "arm_p1" if src == "arm" else "med_p2",
                                 "sex": "FM"[n % 2], "birth_year": 1950 + 3 * n,
                                 "birth_month": 6, "opposition": False})
            t["encounter"].append({"source_id": src, "encounter_id": eid, "patient_id": pid,
                                   "practitioner_id": intern,
                                   "supervisor_id": "arm_g1" if src == "arm" else "med_g2",
                                   "date": when, "kind": "cabinet"})
            for rank in range(1 + n % 2):
                rt, rc, dt_, dc, pt, pc = texts[(n + rank + k) % len(texts)]
                t["problem"].append({
                    "source_id": src, "problem_id": f"{eid}_p{rank}", "encounter_id": eid,
                    "patient_id": pid, "practitioner_id": intern, "date": when,
                    "rank": rank + 1, "reason_text": rt, "reason_code": rc,
                    "reason_code_origin": "auto", "result_text": dt_, "result_code": dc,
                    "result_code_origin": "source", "procedure_text": pt,
                    "procedure_code": pc, "procedure_code_origin": "auto" if pc else "none"})
    con = duckdb.connect(str(path))
    for tab in ALL_TABLES:
        con.execute(tab.duckdb_ddl())
    for name, rows in t.items():
        schema = table(name).arrow_schema("central")
        arrow = pa.table({f.name: pa.array([r.get(f.name) for r in rows], type=f.type)  # noqa: F841
                          for f in schema})
        con.execute(f"INSERT INTO {name} SELECT * FROM arrow")
    con.close()
    return path
