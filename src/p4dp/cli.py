"""The `p4dp` command: a thin front that parses arguments and calls the packages.

One verb per user intent; each `--help` reads as documentation.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from p4dp.settings import get_settings

app = typer.Typer(
    help="P4DP — plateforme de données en soins primaires (Platform for Data in Primary care).",
    no_args_is_help=True,
    add_completion=False,
)
cdm_app = typer.Typer(help="The common data model.", no_args_is_help=True)
app.add_typer(cdm_app, name="cdm")

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """Print a user-facing error and exit with a non-zero code."""
    err.print(f"[bold red]Erreur :[/] {message}")
    raise typer.Exit(code)


@app.command()
def init() -> None:
    """Create an empty warehouse (DuckDB file) with the common data model. Safe to run twice."""
    settings = get_settings()
    path, created = init_warehouse_cmd(settings)
    if created:
        console.print(f"Entrepôt créé : [bold]{path}[/] ({len(created)} tables)")
    else:
        console.print(f"Entrepôt déjà à jour : [bold]{path}[/]")


def init_warehouse_cmd(settings):
    from p4dp.warehouse.connect import init_warehouse

    try:
        return init_warehouse(settings)
    except OSError as e:
        fail(f"cannot create the warehouse at {settings.warehouse}: {e}. "
             "Set P4DP_HOME to a writable folder.")


@cdm_app.command("docs")
def cdm_docs(
    out: Path = typer.Option(Path("docs/reference/cdm.md"), help="Where to write the page."),
) -> None:
    """Regenerate the reference page of the common data model."""
    from p4dp.cdm.reference import render_markdown

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_markdown(), encoding="utf-8")
    console.print(f"Écrit : {out}")


@cdm_app.command("ddl")
def cdm_ddl() -> None:
    """Print the DuckDB DDL of the warehouse."""
    from p4dp.cdm import ALL_TABLES

    for t in ALL_TABLES:
        console.print(t.duckdb_ddl(), highlight=False, soft_wrap=True)


if __name__ == "__main__":  # pragma: no cover
    app()
