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


# --- ingestion: ingest, batches, withdraw (warehouse / privacy) -------------------------------


def _ingest_with_progress(folder: Path, settings) -> "object":
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from p4dp.pipeline import NetworkError, ingest_network, read_network

    try:
        n = len(read_network(folder))
    except NetworkError as e:
        fail(str(e))
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.fields[source]}[/]"),
                  TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("", total=n, source="")
        seen: set[str] = set()

        def on_practice(cfg, message: str) -> None:
            if cfg.source_id not in seen:
                if seen:
                    bar.advance(task)
                seen.add(cfg.source_id)
            bar.update(task, description=message, source=cfg.source_id)

        report = ingest_network(folder, settings, on_practice=on_practice)
        bar.update(task, completed=n, description="terminé")
    return report


_BATCH_COLUMNS = ("lot", "source", "statut", "reçues", "chargées", "réparées", "quarantaine",
                  "durée (s)")


def _print_batches(rows: list[tuple], *, with_id: bool = True) -> None:
    """One line per batch: id, source, status, rows in/loaded/repaired/quarantined, seconds."""
    from rich.table import Table as RichTable

    t = RichTable(title="Lots chargés")
    columns = _BATCH_COLUMNS if with_id else _BATCH_COLUMNS[1:]
    for col in columns:
        if col == "lot":  # long ids fold; counts never do
            t.add_column(col, overflow="fold", min_width=14)
        else:
            t.add_column(col, justify="left" if col in ("source", "statut") else "right",
                         no_wrap=True, min_width=len(col))
    for batch_id, source, status, *counts, seconds in rows:
        cells = [source, status, *(fr_int(n) for n in counts),
                 f"{seconds or 0:.1f}".replace(".", ",")]
        t.add_row(*([batch_id, *cells] if with_id else cells))
    console.print(t)


def _print_ingest(report) -> None:
    _print_batches([(b.batch_id, b.source_id, b.status, b.rows_in, b.rows_loaded,
                     b.rows_repaired, b.rows_quarantined, b.duration_s) for b in report.batches],
                   with_id=False)


def fr_int(n: int | None) -> str:
    """French thousands separator, as in the seed ("1 323 146")."""
    return "" if n is None else f"{n:,}".replace(",", "\u202f")


@app.command()
def ingest(
    folder: Path = typer.Argument(..., help="Network folder written by `p4dp synth` "
                                  "(network.json + exports/)."),
) -> None:
    """Run each practice's agent (read, pseudonymise, scrub, bundle), then load every bundle."""
    settings = get_settings()
    _print_ingest(_ingest_with_progress(folder, settings))


@app.command()
def batches() -> None:
    """List the load batches recorded in the warehouse."""
    from p4dp.warehouse.connect import connect

    settings = get_settings()
    try:
        con = connect(settings, read_only=True)
    except FileNotFoundError as e:
        fail(str(e))
    rows = con.execute(
        "SELECT batch_id, source_id, status, rows_in, rows_loaded, rows_repaired, "
        "rows_quarantined, duration_s FROM load_batch ORDER BY started_at").fetchall()
    con.close()
    _print_batches(rows)


@app.command()
def withdraw(
    patient: str = typer.Option(None, "--patient", help="Pseudonym of a patient who objects."),
    practitioner: str = typer.Option(None, "--practitioner",
                                     help="Pseudonym of a GP who withdraws their data."),
    by: str = typer.Option(None, "--by", help="Who asked (recorded); default: current user."),
) -> None:
    """Purge every row from a patient or a GP (all tables, marts, quarantine) and block future loads."""
    import getpass

    from p4dp.privacy.withdrawal import WithdrawalError
    from p4dp.privacy.withdrawal import withdraw as do_withdraw
    from p4dp.warehouse.connect import connect, create_schema

    if bool(patient) == bool(practitioner):
        fail("give exactly one of --patient PSEUDONYM or --practitioner PSEUDONYM")
    kind, pseudonym = ("patient", patient) if patient else ("practitioner", practitioner)
    settings = get_settings()
    with connect(settings) as con:
        create_schema(con)
        try:
            r = do_withdraw(con, kind, pseudonym, by or getpass.getuser())
        except WithdrawalError as e:
            fail(str(e))
    what = "Patient" if kind == "patient" else "Praticien"
    console.print(f"{what} [bold]{pseudonym}[/] retiré : {fr_int(r.rows_deleted)} lignes "
                  f"supprimées {r.detail}; ses données futures seront bloquées.")


def _synth_with_progress(preset: str, seed: int, out: Path) -> Path:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from p4dp.synth.generate import SynthError, generate
    from p4dp.synth.presets import PRESETS

    if preset not in PRESETS:
        fail(f"préréglage inconnu « {preset} » / unknown preset; choisir parmi : "
             f"{', '.join(PRESETS)}.")
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TimeElapsedColumn(), console=console) as bar:
        tasks: dict[str, object] = {}

        def on_progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        try:
            return generate(preset, seed, out, progress=on_progress)
        except SynthError as e:
            fail(str(e))


@app.command()
def synth(
    preset: str = typer.Option("demo", help="Network size: tiny, demo, primege or national."),
    seed: int = typer.Option(42, help="Random seed; the same seed gives the same network."),
    out: Path = typer.Option(..., help="Output folder (must not exist or be empty)."),
) -> None:
    """Generate a synthetic practice network: vendor exports, network.json and ground truth."""
    folder = _synth_with_progress(preset, seed, out)
    console.print(f"Réseau « {preset} » (graine {seed}) écrit dans [bold]{folder}[/]")


@app.command()
def demo(
    preset: str = typer.Option("demo", help="Synthetic network preset."),
    seed: int = typer.Option(42, help="Random seed."),
    serve: bool = typer.Option(True, "--serve/--no-serve",
                               help="Start the web application at the end."),
) -> None:
    """Run everything on the embedded default: synthetic network → agent → ingest (coding,
    quality) → warehouse → surveillance → demo accounts and logbook → web application.

    The network is generated once into $P4DP_HOME/network-<preset>-<seed>; the warehouse is
    rebuilt from it at every run; accounts get new passwords at every run.
    """
    import shutil

    settings = get_settings()
    network = settings.home / f"network-{preset}-{seed}"
    if not (network / "network.json").is_file():
        console.rule(f"Réseau synthétique « {preset} » (graine {seed})")
        _synth_with_progress(preset, seed, network)
    console.rule("Ingestion")
    settings.warehouse.unlink(missing_ok=True)
    shutil.rmtree(settings.home / "bundles", ignore_errors=True)
    report = _ingest_with_progress(network, settings)
    _print_ingest(report)
    console.print(f"Entrepôt : [bold]{settings.warehouse}[/] — {fr_int(report.rows_loaded)} lignes "
                  "chargées.")
    console.rule("Surveillance, comptes et carnet de consultation")
    accounts = _demo_services(settings, seed)
    _print_demo_accounts(accounts, settings)
    if serve:
        from p4dp.web.commands import serve as serve_web

        serve_web(host=None, port=None, workers=1)


def _demo_services(settings, seed: int) -> list[tuple[str, str, str, str]]:
    """Surveillance tables, one demo account per role, the interns' demo logbook."""
    from p4dp.governance.demo import create_demo_accounts, random_password
    from p4dp.governance.store import StoreError, open_store
    from p4dp.logbook.synth import populate_demo_logbook
    from p4dp.logbook.warehouse import load_logbook
    from p4dp.surveillance.analysis import run as run_surveillance
    from p4dp.warehouse.connect import connect

    import ibis

    from p4dp.analytics.compile import Warehouse

    with console.status("Surveillance : séries hebdomadaires, seuils, alertes…"), \
            connect(settings) as con:
        surveillance = run_surveillance(Warehouse(ibis.duckdb.from_connection(con)))
    console.print(f"Surveillance : {surveillance.series} séries, "
                  f"{surveillance.alerts.raised} alertes.")
    try:
        store = open_store(settings)
    except StoreError as e:
        fail(str(e))
    accounts = create_demo_accounts(store, settings.warehouse)
    password = random_password()
    with console.status("Carnet de consultation…") as status:
        book = populate_demo_logbook(store, settings.warehouse, password=password, seed=seed,
                                     progress=lambda m: status.update(m))
        with connect(settings) as con:
            load_logbook(store, con)
    console.print(f"Carnet de consultation : {fr_int(book.entries)} entrées de "
                  f"{book.interns} internes (comptes interne.…, mds.…, dmg.… : mot de passe "
                  f"[bold]{password}[/]).")
    return accounts


def _print_demo_accounts(accounts: list[tuple[str, str, str, str]], settings) -> None:
    """The demo accounts with the URL, on screen and in HOME/demo-accounts.txt (mode 0600)."""
    import os

    from rich.table import Table

    from p4dp.governance.accounts import ROLE_LABELS_FR

    url = f"http://{settings.web_host}:{settings.web_port}/"
    table = Table(title=f"Comptes de démonstration — {url}")
    for col in ("identifiant", "mot de passe", "rôle", "périmètre"):
        table.add_column(col)
    lines = [f"P4DP {url}"]
    for username, password, role, description in accounts:
        table.add_row(username, password, ROLE_LABELS_FR[role], description)
        lines.append(f"{username}\t{password}\t{role}\t{description}")
    console.print(table)
    path = settings.home / "demo-accounts.txt"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    console.print(f"(liste conservée dans {path})")


# --- agent (practice side) ---------------------------------------------------------------------

agent_app = typer.Typer(help="The practice-side collection agent: pseudonymise, scrub, bundle.",
                        no_args_is_help=True)
app.add_typer(agent_app, name="agent")


@agent_app.command("prepare")
def agent_prepare(
    export_dir: Path = typer.Argument(..., help="Folder of the EHR export."),
    fmt: str = typer.Option("auto", "--format", help="Export format: csv-fr, jsonl, fhir or auto."),
    source: str = typer.Option(..., "--source", help="Source code of the practice (e.g. arm)."),
    practice: str = typer.Option(..., "--practice", help="Practice id in the network."),
    out: Path = typer.Option(Path("bundles"), "--out", help="Where to write the bundle folder."),
) -> None:
    """Read an export, pseudonymise and scrub it, write a bundle (nothing identifying leaves)."""
    from p4dp.agent import PrepareError, prepare
    from p4dp.agent.bundle import BundleError
    from p4dp.agent.keys import KeyFileError

    settings = get_settings()
    try:
        with console.status("Préparation du lot…") as status:
            path = prepare(export_dir, fmt, source, practice, settings, out,
                           progress=lambda msg: status.update(msg))
    except (PrepareError, BundleError, KeyFileError, ValueError, FileNotFoundError) as e:
        fail(str(e))
    console.print(f"Lot écrit : [bold]{path}[/]")


@agent_app.command("run")
def agent_run(
    network_dir: Path = typer.Argument(..., help="Folder with network.json and exports/."),
    out: Path = typer.Option(Path("bundles"), "--out", help="Where to write the bundle folders."),
) -> None:
    """Prepare one bundle per practice listed in NETWORK_DIR/network.json."""
    from p4dp.agent import PrepareError, run
    from p4dp.agent.bundle import BundleError
    from p4dp.agent.keys import KeyFileError

    try:
        with console.status("Préparation des lots…") as status:
            paths = run(network_dir, get_settings(), out, progress=lambda m: status.update(m))
    except (PrepareError, BundleError, KeyFileError, ValueError, FileNotFoundError) as e:
        fail(str(e))
    for path in paths:
        console.print(f"Lot écrit : [bold]{path}[/]")


@agent_app.command("reidentify")
def agent_reidentify(
    pseudonyms: list[str] = typer.Argument(..., help="Pseudonyms to trace back."),
    source: str = typer.Option(..., "--source", help="Source code of the practice."),
) -> None:
    """At the practice only: the local record id behind each pseudonym."""
    from p4dp.agent import reidentify

    try:
        result = reidentify(source, pseudonyms, get_settings())
    except ValueError as e:
        fail(str(e))
    for row in result.to_pylist():
        local = row["local_id"] if row["local_id"] is not None else "inconnu"
        kind = row["kind"] or "-"
        console.print(f"{row['pseudonym']}\t{kind}\t{local}", highlight=False)


# --- quality: stored data-quality reports (quality/) ---------------------------------------------

quality_app = typer.Typer(help="Data quality: the reports of the loaded batches.",
                          no_args_is_help=True)
app.add_typer(quality_app, name="quality")


@quality_app.command("report")
def quality_report(
    batch: str | None = typer.Option(None, "--batch", help="Batch id (default: the latest one)."),
    source: str | None = typer.Option(None, "--source", help="Only batches of this source."),
    html: Path | None = typer.Option(None, "--html", help="Also write the report as a "
                                     "self-contained French HTML page, with trends across loads."),
) -> None:
    """Show the data-quality report of a loaded batch: checks passed and failed, repairs,
    quarantined rows."""
    from rich.table import Table as RichTable

    from p4dp.quality import load_reports, render_html
    from p4dp.warehouse.connect import connect

    settings = get_settings()
    try:
        con = connect(settings, read_only=True)
    except FileNotFoundError:
        fail(f"aucun entrepôt à {settings.warehouse} : lancez `p4dp init` puis `p4dp ingest`.")
    with con:
        reports = load_reports(con, source_id=source, batch_id=batch)
        if not reports:
            what = f"du lot {batch}" if batch else "dans l'entrepôt"
            fail(f"aucun rapport qualité {what} ({settings.warehouse}) ; "
                 "`p4dp batches` liste les lots chargés.")
        report = reports[-1]
        history = load_reports(con, source_id=report["source_id"])
    s = report["summary"]
    console.print(f"Lot [bold]{report['batch_id']}[/] · source {report['source_id']} · "
                  f"données au {report['as_of']}")
    console.print(f"Lignes reçues {fr_int(s['rows_in'])} · retenues {fr_int(s['rows_loaded'])} · "
                  f"réparées {fr_int(s['rows_repaired'])} · en quarantaine "
                  f"{fr_int(s['rows_quarantined'])} · contrôles réussis {s['checks_passed']}/"
                  f"{s['checks_run']}")
    t = RichTable(title="Contrôles en violation")
    for name in ("contrôle", "violations", "%", "seuil %", "statut"):
        t.add_column(name, justify="left" if name in ("contrôle", "statut") else "right")
    for cid, c in sorted(report["checks"].items()):
        if c["violations"]:
            t.add_row(cid, fr_int(c["violations"]), f"{c['pct']:.2f}".replace(".", ","),
                      f"{c['threshold']:g}".replace(".", ","),
                      "réussi" if c["passed"] else "[red]échoué[/]")
    console.print(t)
    repairs = ", ".join(f"{rule} {fr_int(r['rows'])}" for rule, r in report["repairs"].items()
                        if r["rows"])
    console.print(f"Réparations : {repairs or 'aucune'}")
    if html:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(report, history), encoding="utf-8")
        console.print(f"Page écrite : {html}")

# --- indicators (analytics + disclosure control) ---------------------------------------------

indicators_app = typer.Typer(help="Indicators of the dashboards (definitions, runs, docs).",
                             no_args_is_help=True)
app.add_typer(indicators_app, name="indicators")


@indicators_app.command("list")
def indicators_list() -> None:
    """List every indicator: name, theme and French title."""
    from rich.table import Table as RichTable

    from p4dp.analytics.library import all_indicators

    t = RichTable(title="Indicateurs")
    for col in ("nom", "thème", "titre"):
        t.add_column(col)
    for ind in all_indicators().values():
        t.add_row(ind.name, ind.theme, ind.title_fr)
    console.print(t)


@indicators_app.command("run")
def indicators_run(
    names: list[str] = typer.Argument(None, help="Indicator names (default: all)."),
    practitioner: str = typer.Option(None, "--practitioner", help="Scope: one GP's patients "
                                     "(practitioner pseudonym)."),
    practice: str = typer.Option(None, "--practice", help="Scope: one practice (id)."),
    region: str = typer.Option(None, "--region", help="Scope: one region (INSEE code)."),
    sex: str = typer.Option(None, "--sex", help="F or M."),
    age_min: int = typer.Option(None, "--age-min", help="Minimum age in completed years."),
    age_max: int = typer.Option(None, "--age-max", help="Maximum age in completed years."),
    age_today: bool = typer.Option(False, "--age-today", help="Ages today rather than at the "
                                   "event."),
    date_from: str = typer.Option(None, "--from", help="First date (YYYY-MM-DD)."),
    date_to: str = typer.Option(None, "--to", help="Last date (YYYY-MM-DD)."),
    patient: str = typer.Option(None, "--patient", help="One patient pseudonym."),
    role: str = typer.Option("researcher", "--as", help="Who asks: gp, intern, supervisor, "
                             "researcher, data_steward, ethics, epidemiologist, admin. A gp sees "
                             "exact values only for their own --practitioner scope."),
    me: str = typer.Option(None, "--me", help="With --as gp: the requesting GP's own pseudonym "
                           "(default: the --practitioner value; the API takes it from the login)."),
    as_json: bool = typer.Option(False, "--json", help="Print the payloads as JSON."),
) -> None:
    """Run indicators with disclosure control for the role given; print one payload each."""
    import datetime as dt
    import json

    from p4dp.analytics.compile import IndicatorError
    from p4dp.analytics.model import Filters, Period, Scope
    from p4dp.analytics.runner import open_warehouse, run_protected
    from p4dp.privacy.disclosure import Policy, Requester

    scopes = [(k, v) for k, v in (("practitioner", practitioner), ("practice", practice),
                                  ("region", region)) if v]
    if len(scopes) > 1:
        fail("un seul périmètre à la fois : --practitioner, --practice ou --region")

    def day(v: str | None, opt: str):
        if v is None:
            return None
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            fail(f"{opt} {v!r} : date attendue au format AAAA-MM-JJ (ex. 2024-01-31)")

    settings = get_settings()
    try:
        scope = Scope(*scopes[0]) if scopes else Scope()
        filters = Filters(sex=sex, age_min=age_min, age_max=age_max,
                          age_at="today" if age_today else "event",
                          period=Period(day(date_from, "--from"), day(date_to, "--to")),
                          patient_id=patient)
        requester = Requester(role, (me or practitioner) if role == "gp" else None)
        wh = open_warehouse(settings.warehouse, cache_dir=settings.home / "cache")
        payloads = list(run_protected(wh, names or [], requester, scope, filters,
                                      Policy.from_settings(settings)))
    except (ValueError, KeyError, FileNotFoundError, IndicatorError) as e:
        fail(str(e).strip("'\""))
    if as_json:
        print(json.dumps(payloads if len(payloads) != 1 else payloads[0], ensure_ascii=False,
                         indent=2))
        return
    from rich.table import Table as RichTable

    from p4dp.analytics.display import display_fr

    for p in payloads:
        t = RichTable(title=f"{p['title_fr']} ({p['indicator']})")
        for c in p["columns"]:
            t.add_column(c["label_fr"])
        hidden = {(r, c) for r, c in p.get("suppressed_cells", [])}
        label = p.get("disclosure", {}).get("suppressed_label", "< 11")
        for i, row in enumerate(p["rows"]):
            t.add_row(*[label if (i, c["name"]) in hidden else display_fr(v)
                        for c, v in zip(p["columns"], row)])
        if p.get("refused"):
            t.caption = f"Refusé : {p['refused']}"
        console.print(t)


@indicators_app.command("docs")
def indicators_docs(
    out: Path = typer.Option(Path("docs/indicators.md"), help="Where to write the page."),
) -> None:
    """Regenerate the indicator reference page from the definitions."""
    from p4dp.analytics.docs import render_markdown

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_markdown(), encoding="utf-8")
    console.print(f"Écrit : {out}")


coding_app = typer.Typer(help="Automatic coding of free text (ICPC-2 / CISP-2).", no_args_is_help=True)
app.add_typer(coding_app, name="coding")


@coding_app.command("evaluate")
def coding_evaluate(
    file: Path = typer.Argument(..., help="CSV with columns text, field (motif / resultat / "
                                "procedure), gold (ICPC-2 code or _) and optional acceptable "
                                "(other accepted codes separated by |)."),
    errors: bool = typer.Option(False, "--errors", help="Also list every wrong row."),
    min_confidence: float = typer.Option(None, help="Abstention threshold (default: setting "
                                         "coding_min_confidence)."),
) -> None:
    """Score the coder on a gold CSV: prints JSON with n, coverage, accuracy,
    accuracy_when_coded, per-field and per-chapter figures (and the errors with --errors)."""
    import json

    from p4dp.coding.evaluate import EvaluationFileError, evaluate_csv

    try:
        report = evaluate_csv(file, min_confidence)
    except EvaluationFileError as e:
        fail(str(e))
    if not errors:
        report = {k: v for k, v in report.items() if k != "errors"} | {"n_errors": len(report["errors"])}
    print(json.dumps(report, ensure_ascii=False, indent=2))


@coding_app.command("text")
def coding_text(
    text: str = typer.Argument(..., help="The text to code, as the GP typed it."),
    field: str = typer.Option("motif", help="Field of the text: motif, resultat or procedure."),
) -> None:
    """Code one text and explain the choice (matched term, qualifiers, other problems)."""
    from p4dp.coding import code_text
    from p4dp.coding.coder import canonical_field
    from p4dp.coding.icpc import title_fr

    try:
        canonical_field(field)
    except ValueError as e:
        fail(str(e))
    result = code_text(text, field)
    title = title_fr(result.code) if result.coded else "Pas de code attribué"
    console.print(f"[bold]{result.code}[/] {title}  (confiance {result.confidence:.2f})")
    console.print(result.explanation, highlight=False)
    if result.others:
        console.print("Autres codes : " + ", ".join(result.others), highlight=False)


# --- governance and applications: each package carries its own sub-commands -------------------

from p4dp.cohorts.commands import app as cohort_app  # noqa: E402
from p4dp.governance.commands import audit_app, users_app  # noqa: E402
from p4dp.logbook.commands import app as logbook_app  # noqa: E402
from p4dp.surveillance.commands import app as surveillance_app  # noqa: E402
from p4dp.web.commands import serve as web_serve  # noqa: E402

app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(cohort_app, name="cohort")
app.add_typer(surveillance_app, name="surveillance")
app.add_typer(logbook_app, name="logbook")
app.command("serve")(web_serve)


if __name__ == "__main__":  # pragma: no cover
    app()
