"""The JSON API under /api/v1: the data of every page (pages are views of it)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import Response

from p4dp.analytics.library import THEMES, all_indicators, by_theme
from p4dp.analytics.model import Filters, Period
from p4dp.governance import dashboards
from p4dp.governance.access import ROLE_CAPABILITIES, themes_for
from p4dp.governance.accounts import ROLE_LABELS_FR
from p4dp.web.security import Refused, allow, principal_of, refuse
from p4dp.web.views import (Slicers, csv_text, displayed, fast_json, run_data, scope_options,
                            slicers)

router = APIRouter(prefix="/api/v1", tags=["données"])

IndicatorName = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$")]
ThemeName = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,32}$")]
DashboardId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/me", summary="Le compte connecté, ses droits et ses périmètres")
@allow(authenticated=True)
def me(request: Request) -> dict:
    p = principal_of(request)
    return {"username": p.username, "display_name": p.display_name, "role": p.role,
            "role_label": ROLE_LABELS_FR[p.role],
            "capabilities": sorted(ROLE_CAPABILITIES[p.role]),
            "scopes": scope_options(p), "themes": themes_for(p.role)}


@router.get("/themes", summary="Thèmes accessibles et leurs indicateurs")
@allow(authenticated=True)
def themes(request: Request) -> list[dict]:
    p = principal_of(request)
    return [{"theme": t, "title_fr": THEMES[t],
             "indicators": [i.name for i in by_theme(t)]} for t in themes_for(p.role)]


def shown_indicators(p, theme: str) -> list:
    """A tab's panels for this user: a panel on a GP's own patients ("personnel", line lists) is
    not shown to someone who has none (its API twin still answers with a refusal)."""
    return [i for i in by_theme(theme)
            if (i.scope_policy != "practitioner" or p.can("personal_scope"))
            and (not i.is_line_list or p.can("line_lists"))]


@router.get("/themes/{theme}", summary="Données d'un onglet thématique (toutes ses vignettes)")
@allow(capability="theme:{theme}")
def theme_data(request: Request, theme: ThemeName,
               s: Annotated[Slicers, Depends(slicers)]) -> dict:
    names = [i.name for i in shown_indicators(principal_of(request), theme)]
    result = run_data(request, names, s)
    return fast_json({"theme": theme, "title_fr": THEMES[theme],
                      "scope_choice": result.scope_key,
                      "scopes": scope_options(principal_of(request)),
                      "panels": [displayed(x) for x in result.payloads]})


@router.get("/indicators", summary="La bibliothèque d'indicateurs (pour l'éditeur)")
@allow(capability="dashboards")
def indicators(request: Request) -> list[dict]:
    allowed = set(themes_for(principal_of(request).role))
    return [{"name": i.name, "theme": i.theme, "title_fr": i.title_fr,
             "kind": "line_list" if i.is_line_list else "aggregate",
             "by": [str(b) for b in i.by]}
            for i in all_indicators().values() if i.theme in allowed]


@router.get("/indicators/{name}", summary="Un indicateur, protégé pour le demandeur")
@allow(capability="dashboards")
def indicator(request: Request, name: IndicatorName,
              s: Annotated[Slicers, Depends(slicers)]) -> dict:
    result = run_data(request, [name], s)
    return fast_json({**displayed(result.payloads[0]), "scope_choice": result.scope_key})


@router.get("/indicators/{name}/csv", summary="Un indicateur en CSV (même protection, audité)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
@allow(capability="dashboards")
def indicator_csv(request: Request, name: IndicatorName,
                  s: Annotated[Slicers, Depends(slicers)]) -> Response:
    result = run_data(request, [name], s, action="data.export")
    return Response(csv_text(result.payloads[0]), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


# --- saved dashboards ("+") ----------------------------------------------------------------------


@router.get("/dashboards", summary="Tableaux de bord enregistrés visibles par le compte")
@allow(capability="editor")
def dashboard_list(request: Request) -> list[dict]:
    p = principal_of(request)
    return dashboards.visible(request.app.state.store, p.user_id, p.role)


@router.post("/dashboards", status_code=201, summary="Enregistrer un tableau de bord")
@allow(capability="editor")
def dashboard_create(request: Request,
                     body: Annotated[dict[str, Any], Body(examples=[{
                         "title": "Mon suivi", "shared_role": None, "panels": [
                             {"indicator": "surpoids_by_age_sex", "chart": "bar",
                              "by": "child_age", "filters": {"sex": "F"}}]}])]) -> dict:
    p = principal_of(request)
    store = request.app.state.store
    try:
        panels = dashboards.parse_panels(body.get("panels"))
        inds = all_indicators()
        for panel in panels:
            if not p.can(f"theme:{inds[panel.indicator].theme}"):
                raise dashboards.DashboardError(
                    f"l'indicateur {panel.indicator} n'est pas accessible à votre rôle")
        shared = body.get("shared_role")
        title = body.get("title")
        if not isinstance(title, str) or not (shared is None or isinstance(shared, str)):
            raise dashboards.DashboardError("« title » (texte) et « shared_role » (rôle ou "
                                            "null) attendus")
        return dashboards.create(store, p.user_id, p.username, p.role, title, panels, shared)
    except dashboards.DashboardError as e:
        raise refuse(request, 422, f"Tableau de bord invalide : {e}.") from None


def _visible_or_404(request: Request, dashboard_id: int) -> dict:
    p = principal_of(request)
    d = dashboards.get_visible(request.app.state.store, dashboard_id, p.user_id, p.role)
    if d is None:
        raise refuse(request, 404, "Tableau de bord introuvable (ou non partagé avec vous).")
    return d


@router.get("/dashboards/{dashboard_id}", summary="Un tableau de bord et ses données, protégées "
            "pour le demandeur")
@allow(capability="editor")
def dashboard_data(request: Request, dashboard_id: DashboardId,
                   s: Annotated[Slicers, Depends(slicers)]) -> dict:
    d = _visible_or_404(request, dashboard_id)
    panels = []
    for panel in d["panels"]:
        filters = _merge(request, s, panel["filters"])
        own = Slicers(s.scope, filters, {**panel["filters"], **s.params})
        try:
            payload = run_data(request, [panel["indicator"]], own).payloads[0]
        except Refused as e:  # one panel out of the user's rights: the others still show
            payload = {"indicator": panel["indicator"], "columns": [], "rows": [],
                       "title_fr": panel["indicator"], "refused": e.detail}
        panels.append({**panel, "data": displayed(payload)})
    return fast_json({**d, "panels": panels, "scopes": scope_options(principal_of(request))})


def _merge(request: Request, s: Slicers, defaults: dict) -> Filters:
    """The request's slicers, falling back on the panel's saved default filters."""
    f = s.filters

    def date(key, current):
        if current is not None or not defaults.get(key):
            return current
        return dt.date.fromisoformat(str(defaults[key]))

    try:
        return Filters(sex=f.sex or defaults.get("sex"),
                       age_min=f.age_min if f.age_min is not None else defaults.get("age_min"),
                       age_max=f.age_max if f.age_max is not None else defaults.get("age_max"),
                       period=Period(date("date_from", f.period.start),
                                     date("date_to", f.period.end)),
                       patient_id=f.patient_id)
    except ValueError as e:
        raise refuse(request, 422, f"Filtres invalides : {e}") from None


@router.delete("/dashboards/{dashboard_id}", summary="Supprimer un de ses tableaux de bord")
@allow(capability="editor")
def dashboard_delete(request: Request, dashboard_id: DashboardId) -> dict:
    p = principal_of(request)
    if not dashboards.delete(request.app.state.store, dashboard_id, p.user_id, p.username,
                             p.role):
        raise refuse(request, 404, "Tableau de bord introuvable (ou non partagé avec vous).")
    return {"deleted": dashboard_id}
