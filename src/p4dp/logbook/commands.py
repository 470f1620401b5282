"""`p4dp logbook …`: the demo logbook and the copy of the logbook into the warehouse."""

from __future__ import annotations

import typer
from rich.console import Console

from p4dp.analytics.display import format_number_fr
from p4dp.governance.store import StoreError, open_store
from p4dp.settings import get_settings

app = typer.Typer(help="The interns' consultation logbook (carnet de consultation).",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"[bold red]Erreur :[/] {message}")
    raise typer.Exit(2)


@app.command("demo")
def demo(
    interns: int = typer.Option(40, min=1, help="Interns of the latest semesters to include."),
    seed: int = typer.Option(42, help="Random seed (the same seed gives the same logbook)."),
) -> None:
    """Fill the logbook of the warehouse's interns from their synthetic consultations.

    Accounts are created for those interns, their supervisors and one department per region
    (existing accounts, such as the demo's « interne », are kept); new accounts share one random
    password, printed once.
    """
    from p4dp.governance.demo import random_password
    from p4dp.logbook.synth import populate_demo_logbook

    settings = get_settings()
    password = random_password()
    try:
        store = open_store(settings)
        with console.status("Carnet de consultation…") as status:
            r = populate_demo_logbook(store, settings.warehouse, password=password,
                                      max_interns=interns, seed=seed,
                                      progress=lambda m: status.update(m))
    except (StoreError, FileNotFoundError, ValueError) as e:
        _fail(str(e))
    console.print(f"Carnet de consultation : {format_number_fr(r.entries)} entrées, "
                  f"{format_number_fr(r.problems)} problèmes pour {r.interns} internes "
                  f"({r.supervisors} maîtres de stage, {r.departments} départements).")
    console.print(f"Mot de passe des nouveaux comptes (interne.…, mds.…, dmg.…) : "
                  f"[bold]{password}[/]")


@app.command("load")
def load() -> None:
    """Copy the current logbook entries (codes and categories only) into the warehouse."""
    from p4dp.logbook.warehouse import load_logbook
    from p4dp.warehouse.connect import connect

    settings = get_settings()
    try:
        store = open_store(settings)
        con = connect(settings)
    except (StoreError, FileNotFoundError) as e:
        _fail(str(e))
    try:
        with console.status("Copie du carnet dans l'entrepôt…"):
            counts = load_logbook(store, con)
    finally:
        con.close()
    for table, n in counts.items():
        console.print(f"{table} : {format_number_fr(n)} lignes")
