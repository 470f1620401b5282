"""Shared by the logbook tests: a small teaching network of accounts and a valid entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from p4dp.governance import accounts
from p4dp.governance.accounts import NewUser
from p4dp.governance.models import User
from p4dp.logbook.service import CompetenceInput, EntryInput, ProblemInput

PASSWORD = "Interne-2026!ok"
TODAY = date(2026, 11, 29)


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
