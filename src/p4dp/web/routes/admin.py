"""Data steward and administrator pages: data quality, the audit log, accounts (+ API twins)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from p4dp.governance import accounts, audit
from p4dp.governance.access import AccessDenied
from p4dp.governance.audit import Event, record
from p4dp.governance.models import AuditEntry, scope_label
from p4dp.governance.serve import ServiceUnavailable
from p4dp.web.security import Refused, allow, principal_of, refuse

router = APIRouter()

#: Most audit entries one page or API call lists.
AUDIT_PAGE_MAX = 500
Username = Annotated[str, Path(pattern=r"^[A-Za-z0-9._@-]{1,64}$")]


def quality_view(request: Request) -> list[dict]:
    """Per source: the latest report's summary, its failed checks, and each check's trend."""
    p = principal_of(request)
    try:
        reports = request.app.state.data.quality_reports(p, route=request.url.path)
    except AccessDenied as e:
        raise Refused(403, f"Accès refusé : {e}.") from None
    except ServiceUnavailable as e:
        raise Refused(503, str(e)) from None
    by_source: dict[str, list[dict]] = {}
    for r in reports:
        by_source.setdefault(r["source_id"], []).append(r)
    out = []
    for source, rs in sorted(by_source.items()):
        last = rs[-1]
        trend = [{"batch_id": r["batch_id"], "created_at": r["created_at"],
                  "rows_in": r["summary"]["rows_in"],
                  "rows_quarantined": r["summary"]["rows_quarantined"],
                  "rows_repaired": r["summary"]["rows_repaired"],
                  "checks_failed": r["summary"]["checks_failed"]} for r in rs]
        worst = sorted(({"check": k, "description_fr": c.get("description_fr", k),
                         "table": c.get("table"), "pct": c["pct"],
                         "violations": c["violations"], "passed": c["passed"]}
                        for k, c in last["checks"].items() if c["violations"]),
                       key=lambda c: -c["pct"])[:15]
        out.append({"source_id": source, "batches": len(rs), "as_of": last["as_of"],
                    "summary": {k: v for k, v in last["summary"].items() if k != "by_table"},
                    "by_table": last["summary"].get("by_table", {}), "worst_checks": worst,
                    "trend": trend})
    return out


@router.get("/api/v1/quality", tags=["qualité"], summary="Qualité d'ingestion par source")
@allow(capability="quality")
def quality_api(request: Request) -> list[dict]:
    return quality_view(request)


@router.get("/quality", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="quality")
def quality_page(request: Request):
    from p4dp.web.app import render

    return render(request, "quality.html", sources=quality_view(request))


def audit_view(request: Request, limit: int) -> dict:
    store = request.app.state.store
    p = principal_of(request)
    check = audit.verify(store)
    with store.sessions() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit))
        entries = [{"seq": e.seq, "at": e.at, "actor": e.actor, "role": e.role,
                    "action": e.action, "target": e.target, "params": json.loads(e.params),
                    "scope": json.loads(e.scope), "outcome": e.outcome, "rows": e.rows,
                    "cells": e.cells} for e in rows]
    record(store, Event(actor=p.username, role=p.role, action="audit.read",
                        target=request.url.path, params={"limit": limit}, rows=len(entries)))
    return {"intact": check.ok, "problems": check.problems, "entries": check.entries,
            "head": {"seq": check.head_seq, "hash": check.head_hash}, "latest": entries}


@router.get("/api/v1/audit", tags=["audit"], summary="Dernières entrées et intégrité du journal")
@allow(capability="audit")
def audit_api(request: Request,
              limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE_MAX)] = 100) -> dict:
    return audit_view(request, limit)


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="audit")
def audit_page(request: Request,
               limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE_MAX)] = 100):
    from p4dp.web.app import render

    return render(request, "audit.html", log=audit_view(request, limit))


def _users(request: Request) -> list[dict]:
    return [{"username": u.username, "display_name": u.display_name, "role": u.role,
             "role_label": accounts.ROLE_LABELS_FR[u.role],
             "scope": scope_label(u),
             "active": u.is_active,
             "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None}
            for u in accounts.list_users(request.app.state.store)]


@router.get("/api/v1/users", tags=["comptes"], summary="Les comptes")
@allow(capability="accounts")
def users_api(request: Request) -> list[dict]:
    return _users(request)


@router.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="accounts")
def users_page(request: Request):
    from p4dp.web.app import render

    return render(request, "users.html", users=_users(request))


@router.post("/api/v1/users/{username}/disable", tags=["comptes"],
             summary="Désactiver un compte (audité)")
@allow(capability="accounts")
def user_disable(request: Request, username: Username) -> dict:
    return _set_active(request, username, False)


@router.post("/api/v1/users/{username}/enable", tags=["comptes"],
             summary="Réactiver un compte (audité)")
@allow(capability="accounts")
def user_enable(request: Request, username: Username) -> dict:
    return _set_active(request, username, True)


def _set_active(request: Request, username: str, active: bool) -> dict:
    p = principal_of(request)
    if username == p.username and not active:
        raise refuse(request, 422, "Vous ne pouvez pas désactiver votre propre compte.")
    try:
        accounts.set_active(request.app.state.store, username, active, actor=p.username)
    except accounts.AccountError as e:
        raise refuse(request, 404, f"Compte introuvable : {e}.") from None
    return {"username": username, "active": active}
