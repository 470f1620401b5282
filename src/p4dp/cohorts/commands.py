"""`p4dp cohort …`: feasibility counts and GP recruitment lists from a criteria file.

Every command prints JSON (numbers as numbers, dates ISO) so that scripts can read it; errors are
French sentences naming the file and the field.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

app = typer.Typer(help="Identification de patients : cohortes, faisabilité, listes de "
                       "recrutement.", no_args_is_help=True)

_CRITERIA = typer.Argument(..., help="Fichier JSON de critères (format p4dp.cohort/1, voir "
                           "docs/cohorts.md).")
_INDEX = typer.Option(None, "--index-date", help="Date index JJ/MM/AAAA ou AAAA-MM-JJ (défaut : "
                      "celle de la définition, sinon aujourd'hui).")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    _fail(f"--index-date : date illisible « {text} » (JJ/MM/AAAA, ex. 29/11/2026)")
    return None  # pragma: no cover


def _load(path: Path):
    from p4dp.cohorts.criteria import CriteriaError, load

    try:
        return load(path)
    except CriteriaError as e:
        _fail(str(e))


def _warehouse():
    from p4dp.analytics.compile import Warehouse
    from p4dp.settings import get_settings

    settings = get_settings()
    try:
        return settings, Warehouse.open(settings.warehouse)
    except FileNotFoundError as e:
        _fail(str(e))


def _print(data: dict) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _audit(settings, answer, criteria: Path) -> None:
    """Every feasibility count and recruitment list is written to the audit chain (issue 8)."""
    from p4dp.governance.audit import Event, record
    from p4dp.governance.store import StoreError, open_store

    facts = dict(answer.audit)
    try:
        record(open_store(settings), Event(
            actor=f"cli:{facts.pop('user')}", role=facts.pop("role"),
            action=facts.pop("action"), target=str(criteria), params=facts,
            rows=facts.get("rows_returned"), cells=facts.get("cells_returned")))
    except StoreError as e:
        _fail(f"{e} — la requête n'est pas journalisée, son résultat n'est donc pas affiché.")


@app.command("count")
def count(
    criteria: Path = _CRITERIA,
    role: str = typer.Option("researcher", "--as", help="Rôle du demandeur (researcher, "
                             "data_steward, admin, gp …) : il fixe les ventilations visibles."),
    user: str = typer.Option(None, "--user", help="Identifiant du demandeur (le bruit des "
                             "effectifs en dépend ; défaut : le rôle)."),
    index_date: str = _INDEX,
) -> None:
    """Effectif de faisabilité : total, attrition règle par règle et ventilation par région
    (par cabinet pour data_steward et admin), protégés (petits effectifs masqués, bruit borné,
    arrondi)."""
    from p4dp.cohorts.compile import CohortError
    from p4dp.cohorts.feasibility import feasibility, noise_key
    from p4dp.privacy.disclosure import Policy, Requester

    cohort = _load(criteria)
    try:
        requester = Requester(role)
    except ValueError as e:
        _fail(f"--as : {e}")
    settings, wh = _warehouse()
    try:
        answer = feasibility(wh, cohort, requester, user or role, noise_key(settings.home),
                             Policy.from_settings(settings), _date(index_date))
    except CohortError as e:
        _fail(f"{criteria} : {e}")
    _audit(settings, answer, criteria)
    _print(answer.payload)


@app.command("list")
def list_patients(
    criteria: Path = _CRITERIA,
    practitioner: str = typer.Option(..., "--practitioner", help="Votre pseudonyme de médecin "
                                     "(la liste ne contient que vos patients)."),
    index_date: str = _INDEX,
) -> None:
    """Mes patients éligibles : pseudonymes et faits qui les font correspondre. Au cabinet,
    `p4dp agent reidentify --source S PSEUDONYMES` retrouve les dossiers locaux."""
    from p4dp.cohorts.compile import CohortError
    from p4dp.cohorts.recruitment import recruitment_list
    from p4dp.privacy.disclosure import Requester

    cohort = _load(criteria)
    settings, wh = _warehouse()
    try:
        answer = recruitment_list(wh, cohort, Requester("gp", practitioner), practitioner,
                                  _date(index_date))
    except CohortError as e:
        _fail(f"{criteria} : {e}")
    _audit(settings, answer, criteria)
    _print(answer.payload)


@app.command("check")
def check(criteria: Path = _CRITERIA) -> None:
    """Vérifie un fichier de critères (schéma, codes, fenêtres) sans interroger l'entrepôt."""
    from p4dp.cohorts.labels import rule_label_fr

    cohort = _load(criteria)
    typer.echo(f"{criteria} : définition valide « {cohort.title_fr} » "
               f"(version {cohort.version}, empreinte {cohort.semantic_hash()})")
    for i, rule in enumerate(cohort.rules, start=1):
        typer.echo(f"  {i}. {rule_label_fr(rule)}")


@app.command("schema")
def schema() -> None:
    """Affiche le schéma JSON du format des critères (p4dp.cohort/1)."""
    from p4dp.cohorts.criteria import json_schema

    _print(json_schema())
