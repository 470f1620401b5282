"""`p4dp users …` and `p4dp audit …`: accounts and the audit chain from the command line."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from p4dp.governance import accounts, audit
from p4dp.governance.models import scope_label
from p4dp.governance.store import StoreError, open_store
from p4dp.privacy.disclosure import ROLES
from p4dp.settings import get_settings

users_app = typer.Typer(help="User accounts of the web application.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

console = Console()
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"[bold red]Erreur :[/] {message}")
    raise typer.Exit(2)


def _store():
    try:
        return open_store(get_settings())
    except StoreError as e:
        _fail(str(e))


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(..., help=f"Role: {', '.join(ROLES)}."),
    name: str = typer.Option("", help="Display name."),
    practitioner: str | None = typer.Option(None, help="Practitioner pseudonym (GP, intern)."),
    practice: str | None = typer.Option(None, help="Practice id."),
    region: str | None = typer.Option(None, help="INSEE region code (regional scope)."),
    department: str | None = typer.Option(None, help="Teaching department (DMG)."),
    supervisor: str | None = typer.Option(None, help="Supervisor's login (interns)."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 envvar="P4DP_NEW_PASSWORD",
                                 help="Password (prompted; or P4DP_NEW_PASSWORD)."),
) -> None:
    """Create an account (audited)."""
    new = accounts.NewUser(username=username, role=role, password=password, display_name=name,
                           practitioner_id=practitioner, practice_id=practice,
                           region_code=region, department=department, supervisor=supervisor)
    try:
        user = accounts.add_user(_store(), new)
    except accounts.AccountError as e:
        _fail(str(e))
    console.print(f"Compte créé : [bold]{user.username}[/] "
                  f"({accounts.ROLE_LABELS_FR[user.role]})")


@users_app.command("list")
def users_list() -> None:
    """List the accounts."""
    table = Table(title="Comptes")
    for col in ("identifiant", "nom", "rôle", "périmètre", "actif"):
        table.add_column(col)
    for u in accounts.list_users(_store()):
        table.add_row(u.username, u.display_name, accounts.ROLE_LABELS_FR[u.role], scope_label(u),
                      "oui" if u.is_active else "non")
    console.print(table)


@users_app.command("disable")
def users_disable(username: str = typer.Argument(..., help="Login name.")) -> None:
    """Disable an account: it can no longer log in (audited; the account and its history stay)."""
    try:
        accounts.set_active(_store(), username, False)
    except accounts.AccountError as e:
        _fail(str(e))
    console.print(f"Compte désactivé : [bold]{username}[/]")


@users_app.command("enable")
def users_enable(username: str = typer.Argument(..., help="Login name.")) -> None:
    """Re-enable an account and clear its lockout (audited)."""
    try:
        accounts.set_active(_store(), username, True)
    except accounts.AccountError as e:
        _fail(str(e))
    console.print(f"Compte réactivé : [bold]{username}[/]")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain of the audit log; exit 1 if any entry was edited or deleted."""
    result = audit.verify(_store())
    if result.ok:
        console.print(f"Journal d'audit intègre : {result.entries} entrées ; tête n° "
                      f"{result.head_seq} [bold]{result.head_hash}[/]")
        return
    err.print(f"[bold red]Journal d'audit altéré[/] ({result.entries} entrées lues) :")
    for problem in result.problems:
        err.print(f"  • {problem}")
    raise typer.Exit(1)
