"""Who may do what, and on whose data: the roles × capabilities matrix and scope resolution.

The matrix is data (`ROLE_CAPABILITIES`), read by the web app's deny-by-default guard and by the
test that walks every route × every role. The rules follow DOMAIN.md §6 and are documented for
users in docs/web.md:

* **gp** — the thematic dashboards on their own patients ("personnel": exact figures, line lists)
  and on the whole base (protected); their individual activity dashboard and sentinel report.
* **intern**, **supervisor**, **department** — the logbook (their own, their interns', their
  department's) and the dashboards on the whole base, protected.
* **researcher**, **epidemiologist** — the dashboards, protected, on their region when their
  account has a `region_code`, else national; the epidemiologist also the sentinel report.
* **data_steward** (médecin DIM) — the data-quality page, protected aggregates, the audit log.
* **ethics** — no patient data (opinions on projects live elsewhere).
* **admin** — accounts and the audit log, never patient data.
"""

from __future__ import annotations

from dataclasses import dataclass

from p4dp.analytics.library import THEMES
from p4dp.analytics.model import Scope
from p4dp.privacy.disclosure import ROLES, Requester

#: Capabilities a route may require. `theme:<name>` for each dashboard theme.
DASHBOARD_THEMES = ("general", "motifs", "surpoids", "examen", "vaccination", "historique",
                    "dependance", "polymedication", "diabete", "depistage")
CAPABILITIES: dict[str, str] = {
    "home": "Page d'accueil",
    "dashboards": "Tableaux de bord thématiques (agrégats protégés)",
    **{f"theme:{t}": THEMES[t] for t in THEMES},
    "personal_scope": "Ses propres patients (« personnel »), chiffres exacts",
    "line_lists": "Listes nominatives de ses propres patients",
    "editor": "Éditeur de tableaux de bord (« + »)",
    "quality": "Qualité des données d'ingestion",
    "accounts": "Gestion des comptes",
    "audit": "Journal d'audit",
    "logbook:own": "Son carnet de consultation (interne)",
    "logbook:supervise": "Carnets de ses internes (maître de stage, département)",
    "surveillance": "Surveillance épidémiologique (courbes, seuils, alertes, bulletin)",
    "cohorts:definitions": "Définitions de cohortes enregistrées (les siennes, partagées)",
    "cohorts:feasibility": "Constructeur de cohortes : effectifs de faisabilité protégés",
    "cohorts:recruit": "Mes patients éligibles (ses propres patients d'une cohorte)",
}

_DATA = ("dashboards", "editor", *(f"theme:{t}" for t in DASHBOARD_THEMES))
#: Surveillance outputs are protected regional aggregates (never one GP's patients): GPs see the
#: page as participants of the network, as Sentinelles GPs read its bulletin.
_SURVEILLANCE = ("surveillance",)
#: Building cohorts (feasibility counts) is for researchers and public-health users; a GP reads
#: the definitions shared with GPs and lists their own eligible patients (issue 8).
_COHORTS = ("cohorts:definitions", "cohorts:feasibility")

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    "gp": frozenset({"home", *_DATA, "personal_scope", "line_lists", "theme:activite",
                     "theme:sentinelle", *_SURVEILLANCE, "cohorts:definitions",
                     "cohorts:recruit"}),
    "intern": frozenset({"home", *_DATA, "logbook:own"}),
    "supervisor": frozenset({"home", *_DATA, "logbook:supervise"}),
    "department": frozenset({"home", *_DATA, "logbook:supervise"}),
    "researcher": frozenset({"home", *_DATA, *_SURVEILLANCE, *_COHORTS}),
    "epidemiologist": frozenset({"home", *_DATA, "theme:sentinelle", *_SURVEILLANCE,
                                 *_COHORTS}),
    "data_steward": frozenset({"home", *_DATA, "quality", "audit", *_SURVEILLANCE, *_COHORTS}),
    "ethics": frozenset({"home"}),
    "admin": frozenset({"home", "accounts", "audit"}),
}
assert set(ROLE_CAPABILITIES) == set(ROLES), "every role needs its line in the matrix"
assert all(c <= set(CAPABILITIES) for c in ROLE_CAPABILITIES.values())

#: Scope choices a request may name (the seed's "personnel" / "ensemble de la base").
SCOPE_LABELS_FR = {"personnel": "Personnel", "base": "Ensemble de la base",
                   "region": "Ma région"}


class AccessDenied(PermissionError):
    """The user may not do this; the message is French and shown as is."""


@dataclass(frozen=True)
class Principal:
    """The logged-in user as the access rules see them (a snapshot of the account)."""

    user_id: int
    username: str
    role: str
    display_name: str = ""
    practitioner_id: str | None = None
    practice_id: str | None = None
    region_code: str | None = None
    department: str | None = None
    supervisor_id: int | None = None

    @classmethod
    def of(cls, user) -> Principal:
        return cls(user.id, user.username, user.role, user.display_name, user.practitioner_id,
                   user.practice_id, user.region_code, user.department, user.supervisor_id)

    @property
    def requester(self) -> Requester:
        return Requester(self.role, self.practitioner_id)

    def can(self, capability: str) -> bool:
        return capability in ROLE_CAPABILITIES[self.role]


def can(role: str | None, capability: str) -> bool:
    return role is not None and capability in ROLE_CAPABILITIES.get(role, frozenset())


def themes_for(role: str) -> list[str]:
    """Dashboard themes the role may open, in the seed's tab order."""
    return [t for t in THEMES if can(role, f"theme:{t}")]


def scopes_for(p: Principal) -> dict[str, Scope]:
    """The scopes the user may ask for, default first."""
    if not p.can("dashboards") and not p.can("theme:sentinelle"):
        return {}
    out: dict[str, Scope] = {}
    if p.can("personal_scope") and p.practitioner_id:
        out["personnel"] = Scope("practitioner", p.practitioner_id)
    if p.role in ("researcher", "epidemiologist") and p.region_code:
        out["region"] = Scope("region", p.region_code)
    else:
        out["base"] = Scope()
    return out


def resolve_scope(p: Principal, choice: str | None) -> tuple[str, Scope]:
    """The scope named by `choice` (default: the user's first), or AccessDenied."""
    allowed = scopes_for(p)
    if not allowed:
        raise AccessDenied("votre rôle ne donne accès à aucune donnée de patients")
    key = choice or next(iter(allowed))
    if key not in allowed:
        raise AccessDenied(f"périmètre « {str(key)[:30]} » non autorisé pour votre compte "
                           f"(autorisé : {', '.join(allowed)})")
    return key, allowed[key]


def may_see_whole_base(p: Principal) -> bool:
    """Indicators fixed on the whole base ("ensemble de la base") are for users not confined to a
    region."""
    return "base" in scopes_for(p)
