"""Epidemiological surveillance: the page for epidemiologists and its /api/v1 twins.

The page shows what the weekly bulletin shows (`p4dp.surveillance.bulletin`): syndrome, region
and week selectors, the national and regional weekly curves against their epidemic thresholds
(plotly.js, provisional weeks marked), the table of regions (small counts "< 11"), the week's
alerts and the method; the bulletin itself downloads as HTML or PDF.

Disclosure: every figure comes from `p4dp.surveillance.api`, which protects counts for the
requester's role and recomputes rates from the published counts. Scope: an account confined to a
region (researchers and epidemiologists with a `region_code`, `governance.access.scopes_for`)
sees that region only — neither the other regions nor the national total, and not the bulletin,
which shows them all. Every read is audited here, refused ones too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from p4dp.governance.access import Principal, may_see_whole_base
from p4dp.governance.audit import Event, record
from p4dp.governance.serve import ServiceUnavailable
from p4dp.web.security import Refused, allow, principal_of, refuse
from p4dp.web.views import displayed, fast_json

router = APIRouter(tags=["surveillance"])

SyndromeKey = Annotated[str, Query(pattern=r"^[a-z_]{1,32}$", description="Syndrome (clé : "
                                   "grippe, diarrhee …, voir /api/v1/surveillance/syndromes)")]
RegionCode = Annotated[str | None, Query(pattern=r"^(FR|[0-9]{2})$", description="Code INSEE "
                                         "de la région, ou FR pour la France entière")]
IsoWeek = Annotated[str | None, Query(pattern=r"^[0-9]{4}-W[0-9]{2}$",
                                      description="Semaine ISO, ex. 2026-W05")]
DEFAULT_SYNDROME = "grippe"
#: The page's curves show two seasons up to the chosen week (the bulletin shows one).
CURVE_WEEKS = 104


def allowed_regions(p: Principal, cube_regions: tuple[str, ...]) -> list[str]:
    """Regions (and `FR`) the user may see: all, or their own region when confined to it."""
    if may_see_whole_base(p):
        from p4dp.surveillance.population import NATIONAL

        return [NATIONAL, *[r for r in cube_regions if r != NATIONAL]]
    return [r for r in cube_regions if r == p.region_code]


def _served(request: Request, action: str, params: dict,
            compute: Callable[[object, Principal, list[str]], dict]) -> dict:
    """Run `compute(wh, principal, allowed regions)` on a warehouse connection; audited (also
    when refused or invalid). Its ValueError/LookupError become 422, PermissionError 403."""
    from p4dp.surveillance import api

    p = principal_of(request)
    data = request.app.state.data
    params = {k: v for k, v in params.items() if v is not None}
    allowed: list[str] = []

    def audit(outcome: str = "ok", rows: int | None = None, cells: int | None = None,
              reason: str | None = None) -> None:
        scope = {"regions": allowed} | ({"reason": reason} if reason else {})
        record(data.store, Event(actor=p.username, role=p.role, action=action,
                                 target=request.url.path, params=params, scope=scope,
                                 outcome=outcome, rows=rows, cells=cells))

    try:
        with data.warehouse() as wh:
            allowed = allowed_regions(p, api.analysis(wh).cube.regions)
            if not allowed:
                raise PermissionError("votre compte est limité à une région absente du réseau "
                                      "de surveillance")
            payload = compute(wh, p, allowed)
    except ServiceUnavailable as e:
        raise refuse(request, 503, str(e)) from None
    except PermissionError as e:
        audit("denied", reason=str(e))
        raise Refused(403, f"Accès refusé : {e}.") from None
    except (ValueError, LookupError) as e:
        audit("invalid", reason=str(e))
        raise Refused(422, str(e).strip("'\"")) from None
    rows, cells = _size(payload)
    audit(rows=rows, cells=cells)
    return payload


def _size(payload: dict) -> tuple[int | None, int | None]:
    """Rows and non-empty cells returned (a bulletin: those of its tables and curves)."""
    if isinstance(payload.get("rows"), list):
        tables = [payload]
    elif "table" in payload:  # the page
        tables = [payload["table"]]
    else:
        tables = [t for s in payload.get("sections", []) for t in (s["regions"], *s["series"])]
    if not tables:
        return None, None
    return (sum(len(t["rows"]) for t in tables),
            sum(v is not None for t in tables for r in t["rows"] for v in r))


def _policy_of(request: Request):
    return request.app.state.data.policy


def _check_region(region: str, allowed: list[str]) -> None:
    if region not in allowed:
        raise PermissionError(f"région « {region} » hors de votre périmètre (autorisé : "
                              f"{', '.join(allowed)})")


def _series(wh, p: Principal, allowed: list[str], policy, syndrome: str, region: str | None,
            start: dt.date | None = None, end: dt.date | None = None) -> dict:
    from p4dp.surveillance import api

    region = region or allowed[0]
    _check_region(region, allowed)
    if start and end and start > end:
        raise ValueError(f"période : le début ({start:%d/%m/%Y}) est après la fin "
                         f"({end:%d/%m/%Y})")
    weeks = api.analysis(wh).cube.weeks
    if (end and end < weeks[0]) or (start and start > weeks[-1] + dt.timedelta(days=6)):
        raise ValueError(f"période hors des données de l'entrepôt (du {weeks[0]:%d/%m/%Y} au "
                         f"{weeks[-1] + dt.timedelta(days=6):%d/%m/%Y})")
    return api.weekly_series(wh, syndrome, region, p.requester, start=start, end=end,
                             policy=policy)


def _keep_rows(payload: dict, keep: list[int]) -> dict:
    """The payload with only rows `keep` (suppression flags re-indexed)."""
    where = {old: new for new, old in enumerate(keep)}
    return {**payload, "rows": [payload["rows"][i] for i in keep],
            "suppressed_cells": [[where[r], c] for r, c in payload.get("suppressed_cells", [])
                                 if r in where]}


def _regions(wh, p: Principal, allowed: list[str], policy, syndrome: str,
             week: str | None) -> dict:
    from p4dp.surveillance import api

    table = api.regions_table(wh, syndrome, _week_or_last(wh, week), p.requester, policy=policy)
    keep = [i for i, row in enumerate(table["rows"]) if row[0] in allowed]
    return table if len(keep) == len(table["rows"]) else _keep_rows(table, keep)


def _week_or_last(wh, week: str | None) -> str:
    """`week` if the data cover it, else a French ValueError; default the data's last week."""
    from p4dp.surveillance import api
    from p4dp.surveillance.incidence import parse_week, week_label

    weeks = api.analysis(wh).cube.weeks
    if week is None:
        return week_label(weeks[-1])
    if not weeks[0] <= parse_week(week) <= weeks[-1]:
        raise ValueError(f"semaine {week} hors des données de l'entrepôt "
                         f"({week_label(weeks[0])} à {week_label(weeks[-1])})")
    return week


def _alerts(wh, allowed: list[str], syndrome: str | None, region: str | None,
            week: str | None, since: str | None = None) -> dict:
    from p4dp.surveillance import api

    if region:
        _check_region(region, allowed)
    out = api.alerts(wh, syndrome=syndrome, region=region, since=week or since)
    out["alerts"] = [a for a in out["alerts"]
                     if a["region"] in allowed and (week is None or a["week"] == week)]
    return out


# ----------------------------------------------------------------------------- API


@router.get("/api/v1/surveillance/syndromes", summary="Syndromes surveillés, régions visibles "
            "et semaines disponibles")
@allow(capability="surveillance")
def api_syndromes(request: Request) -> dict:
    from p4dp.surveillance import api
    from p4dp.surveillance.incidence import week_label
    from p4dp.surveillance.population import region_name

    def compute(wh, p, allowed):
        weeks = api.analysis(wh).cube.weeks
        return {"syndromes": api.syndromes(),
                "regions": [{"code": r, "name": region_name(r)} for r in allowed],
                "first_week": week_label(weeks[0]), "last_week": week_label(weeks[-1]),
                "bulletin": len(allowed) > 1 and allowed[0] == "FR"}

    return _served(request, "surveillance.read", {}, compute)


@router.get("/api/v1/surveillance/method", summary="Méthode et paramètres (définition de cas, "
            "dénominateur, seuil de Serfling, semaines provisoires)")
@allow(capability="surveillance")
def api_method(request: Request) -> dict:
    from p4dp.surveillance import api

    return api.method()


@router.get("/api/v1/surveillance/series", summary="Série hebdomadaire d'un syndrome dans une "
            "région (ou FR) : cas et effectifs protégés, incidence, seuil, alertes, provisoire")
@allow(capability="surveillance")
def api_series(request: Request, syndrome: SyndromeKey = DEFAULT_SYNDROME,
               region: RegionCode = None, start: dt.date | None = None,
               end: dt.date | None = None):
    params = {"syndrome": syndrome, "region": region, "start": start and start.isoformat(),
              "end": end and end.isoformat()}
    return fast_json(displayed(_served(
        request, "surveillance.read", params,
        lambda wh, p, allowed: _series(wh, p, allowed, _policy_of(request), syndrome, region,
                                       start, end))))


@router.get("/api/v1/surveillance/regions", summary="Tableau des régions pour une semaine ISO "
            "(petits effectifs « < 11 »)")
@allow(capability="surveillance")
def api_regions(request: Request, syndrome: SyndromeKey = DEFAULT_SYNDROME,
                week: IsoWeek = None):
    return fast_json(displayed(_served(
        request, "surveillance.read", {"syndrome": syndrome, "week": week},
        lambda wh, p, allowed: _regions(wh, p, allowed, _policy_of(request), syndrome,
                                        week))))


@router.get("/api/v1/surveillance/alerts", summary="Alertes (niveau, semaine, seuil ; sans "
            "effectifs), les plus récentes d'abord")
@allow(capability="surveillance")
def api_alerts(request: Request, syndrome: Annotated[str | None, Query(
               pattern=r"^[a-z_]{1,32}$")] = None, region: RegionCode = None,
               week: IsoWeek = None, since: IsoWeek = None) -> dict:
    return _served(request, "surveillance.read",
                   {"syndrome": syndrome, "region": region, "week": week, "since": since},
                   lambda wh, p, allowed: _alerts(wh, allowed, syndrome, region, week, since))


def _bulletin(request: Request, week: str | None, action: str) -> dict:
    from p4dp.surveillance.bulletin import bulletin_data

    def compute(wh, p, allowed):
        if not may_see_whole_base(p):
            raise PermissionError("le bulletin montre toutes les régions et la France entière : "
                                  "il est réservé aux comptes non limités à une région")
        return bulletin_data(wh, _week_or_last(wh, week), p.requester, _policy_of(request))

    return _served(request, action, {"week": week}, compute)


@router.get("/api/v1/surveillance/bulletin", summary="Contenu du bulletin hebdomadaire (JSON)")
@allow(capability="surveillance")
def api_bulletin(request: Request, week: IsoWeek = None):
    return fast_json(_bulletin(request, week, "surveillance.read"))


def _download(request: Request, week: str | None, fmt: str) -> Response:
    from p4dp.surveillance.bulletin import render_bulletin_html, render_bulletin_pdf

    data = _bulletin(request, week, "surveillance.export")
    name = f"bulletin-surveillance-{data['week']}.{fmt}"
    if fmt == "pdf":
        body, media = render_bulletin_pdf(data), "application/pdf"
    else:
        body, media = render_bulletin_html(data).encode(), "text/html; charset=utf-8"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/v1/surveillance/bulletin.html", summary="Bulletin hebdomadaire (HTML)",
            response_class=Response, responses={200: {"content": {"text/html": {}}}})
@allow(capability="surveillance")
def api_bulletin_html(request: Request, week: IsoWeek = None) -> Response:
    return _download(request, week, "html")


@router.get("/api/v1/surveillance/bulletin.pdf", summary="Bulletin hebdomadaire (PDF)",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
@allow(capability="surveillance")
def api_bulletin_pdf(request: Request, week: IsoWeek = None) -> Response:
    return _download(request, week, "pdf")


# ----------------------------------------------------------------------------- page


@router.get("/surveillance", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="surveillance")
def surveillance_page(request: Request, syndrome: SyndromeKey = DEFAULT_SYNDROME,
                      region: RegionCode = None, week: IsoWeek = None):
    from p4dp.surveillance import api
    from p4dp.surveillance.incidence import parse_week, week_label
    from p4dp.surveillance.population import region_name
    from p4dp.web.app import render

    def compute(wh, p, allowed):
        chosen = region or allowed[0]
        _check_region(chosen, allowed)
        table = _regions(wh, p, allowed, _policy_of(request), syndrome, week)
        weeks = api.analysis(wh).cube.weeks
        end = parse_week(table["week"]) + dt.timedelta(days=6)
        curves = [{"region": r, "name": region_name(r),
                   "url": f"/api/v1/surveillance/series?syndrome={syndrome}&region={r}"
                          f"&start={end - dt.timedelta(weeks=CURVE_WEEKS):%Y-%m-%d}"
                          f"&end={end:%Y-%m-%d}"}
                  for r in dict.fromkeys([allowed[0], chosen])]
        return {"region": chosen, "week": table["week"], "table": displayed(table), "curves": curves,
                "alerts": _alerts(wh, allowed, None, None, table["week"])["alerts"],
                "regions": [{"code": r, "name": region_name(r)} for r in allowed],
                "first_week": week_label(weeks[0]), "last_week": week_label(weeks[-1])}

    page = _served(request, "surveillance.read",
                   {"syndrome": syndrome, "region": region, "week": week}, compute)
    p = principal_of(request)
    return render(request, "surveillance/page.html", syndromes=api.syndromes(),
                  syndrome=syndrome, method=api.method(), bulletin=may_see_whole_base(p),
                  **page)
