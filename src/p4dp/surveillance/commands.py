"""`p4dp surveillance …`: the Typer commands (registered in `p4dp.cli` as `surveillance`)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="Epidemiological surveillance: weekly sentinel indicators, epidemic "
                       "thresholds, alerts and the weekly bulletin.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]Erreur :[/] {message}")
    raise typer.Exit(code)


def _settings():
    from p4dp.settings import get_settings

    return get_settings()


@contextmanager
def _open(read_only: bool):
    """The warehouse through Ibis, closed on the way out (even on error)."""
    import ibis

    from p4dp.analytics.compile import Warehouse
    from p4dp.warehouse.connect import connect

    settings = _settings()
    if not settings.warehouse.is_file():
        fail(f"aucun entrepôt en {settings.warehouse} : lancez d'abord `p4dp demo` ou `p4dp "
             "ingest`, ou indiquez P4DP_HOME / P4DP_WAREHOUSE_PATH")
    try:
        con = connect(settings, read_only=read_only)
    except Exception as e:  # a lock held by another writer, a corrupt file …
        fail(f"impossible d'ouvrir l'entrepôt {settings.warehouse} : {e}")
    try:
        yield Warehouse(ibis.duckdb.from_connection(con)), settings
    finally:
        con.close()


@app.command("run")
def run_cmd() -> None:
    """Recompute everything after a load: weekly cases and active-patient denominators of every
    syndrome and region, Serfling thresholds, epidemic periods; store the weekly cube and the
    alerts (idempotent: a re-run on the same data changes nothing)."""
    from p4dp.surveillance.analysis import run

    with _open(read_only=False) as (wh, _), console.status(
            "Surveillance : calcul des séries hebdomadaires et des seuils…"):
        try:
            report = run(wh)
        except ValueError as e:
            fail(str(e))
    a = report.alerts
    console.print(f"[bold]Surveillance recalculée[/] en {report.seconds:.1f} s : "
                  f"{report.series} séries × {report.weeks} semaines.")
    console.print(f"Alertes : {a.raised} nouvelles, {a.updated} mises à jour, {a.withdrawn} "
                  f"retirées, {a.unchanged} inchangées.")


@app.command("bulletin")
def bulletin_cmd(
    week: str = typer.Option(..., "--week", help="ISO week of the bulletin, e.g. 2024-W05."),
    out: Path = typer.Option(Path("."), "--out", help="Folder to write the bulletin into."),
    fmt: str = typer.Option("html", "--format", help="html or pdf."),
    role: str = typer.Option("epidemiologist", "--as", help="Who the bulletin is for (disclosure "
                             "control): gp, researcher, epidemiologist, admin …"),
) -> None:
    """Write the weekly bulletin (French, like the Réseau Sentinelles bulletin): national and
    regional curves against thresholds, table of regions, the week's alerts, the method."""
    from p4dp.privacy.disclosure import Policy, Requester
    from p4dp.surveillance.bulletin import write_bulletin

    with _open(read_only=True) as (wh, settings), console.status(f"Bulletin {week}…"):
        try:
            path = write_bulletin(wh, week, out, fmt.lower(), Requester(role),
                                  Policy.from_settings(settings))
        except ValueError as e:
            fail(str(e))
    console.print(f"Bulletin écrit : {path}")


@app.command("detect")
def detect_cmd(
    sentinelles: Path = typer.Option(..., "--sentinelles", help="Weekly series in the Réseau "
                                     "Sentinelles CSV format (week, inc100, …)."),
) -> None:
    """Run the threshold method on a real weekly series; print one JSON object per epidemic
    (start_week, end_week, peak_week, peak_incidence …)."""
    from p4dp.surveillance.sentinelles import detect, read_series

    try:
        weeks, y = read_series(sentinelles)
    except ValueError as e:
        fail(str(e))
    for epidemic in detect(weeks, y):
        print(json.dumps(epidemic, ensure_ascii=False))


@app.command("alerts")
def alerts_cmd(
    syndrome: str = typer.Option(None, "--syndrome", help="One syndrome (grippe, diarrhee …)."),
    region: str = typer.Option(None, "--region", help="One region (INSEE code, FR = network)."),
    since: str = typer.Option(None, "--since", help="First ISO week, e.g. 2024-W01."),
) -> None:
    """List the stored alert events, newest first, as JSON lines."""
    from p4dp.surveillance.api import alerts

    with _open(read_only=True) as (wh, _):
        try:
            payload = alerts(wh, syndrome, region, since)
        except ValueError as e:
            fail(str(e))
    for a in payload["alerts"]:
        print(json.dumps(a, ensure_ascii=False))
