"""HTML pages: home per role, the thematic tabs, saved dashboards and the "+" editor.

The data pages are views of their API twin: the page carries the slicers and the panels'
places, and `static/app.js` fetches `/api/v1/themes/<theme>` (or `/api/v1/dashboards/<id>`) and
redraws with Plotly.react when a slicer moves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from p4dp.analytics.library import THEMES
from p4dp.governance import dashboards
from p4dp.governance.access import ROLE_CAPABILITIES, themes_for
from p4dp.privacy.disclosure import ROLES
from p4dp.web.security import allow, principal_of
from p4dp.web.views import scope_options

router = APIRouter(include_in_schema=False)

#: Short descriptions on the home page, per capability shown as a card.
HOME_LINKS = (
    ("logbook:own", "/logbook", "Mon carnet de consultation",
     "Saisir mes consultations (CISP-2), suivre mes compétences, mon portfolio."),
    ("logbook:supervise", "/logbook", "Carnets de consultation des internes",
     "Relire et valider les entrées, tableau de bord des internes."),
    ("cohorts:recruit", "/cohorts/patients", "Mes patients éligibles",
     "Vos patients correspondant à une définition de cohorte partagée."),
    ("surveillance", "/surveillance", "Surveillance épidémiologique",
     "Courbes hebdomadaires, seuils épidémiques, alertes et bulletin."),
    ("cohorts:feasibility", "/cohorts", "Constructeur de cohortes",
     "Effectifs de faisabilité protégés, définitions enregistrées."),
    ("editor", "/dashboards", "Tableaux de bord « + »",
     "Composer, enregistrer et partager un tableau de bord."),
    ("quality", "/quality", "Qualité des données", "Rapports d'ingestion et tendances par source."),
    ("accounts", "/admin/users", "Comptes", "Créer, désactiver les comptes."),
    ("audit", "/audit", "Journal d'audit", "Accès aux données et actes d'administration."),
)


@router.get("/", response_class=HTMLResponse)
@allow(authenticated=True)
def home(request: Request):
    from p4dp.web.app import render

    p = principal_of(request)
    links = [(url, title, text) for cap, url, title, text in HOME_LINKS if p.can(cap)]
    return render(request, "home.html", themes=[(t, THEMES[t]) for t in themes_for(p.role)],
                  links=links, scopes=scope_options(p),
                  capabilities=sorted(ROLE_CAPABILITIES[p.role]))


@router.get("/themes/{theme}", response_class=HTMLResponse)
@allow(capability="theme:{theme}")
def theme_page(request: Request, theme: Annotated[str, Path(pattern=r"^[a-z0-9_]{1,32}$")]):
    from p4dp.web.app import render

    p = principal_of(request)
    return render(request, "theme.html", theme=theme, title=THEMES[theme],
                  scopes=scope_options(p),
                  data_url=f"/api/v1/themes/{theme}", patient_slicer=p.can("line_lists"))


@router.get("/dashboards", response_class=HTMLResponse)
@allow(capability="editor")
def dashboards_page(request: Request):
    from p4dp.web.app import render

    p = principal_of(request)
    return render(request, "dashboards.html",
                  saved=dashboards.visible(request.app.state.store, p.user_id, p.role),
                  charts=dashboards.CHART_TYPES, roles=ROLES)


@router.get("/dashboards/{dashboard_id}", response_class=HTMLResponse)
@allow(capability="editor")
def dashboard_page(request: Request, dashboard_id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    from p4dp.web.app import render
    from p4dp.web.routes.api import _visible_or_404

    p = principal_of(request)
    d = _visible_or_404(request, dashboard_id)
    return render(request, "theme.html", theme=None, title=d["title"],
                  scopes=scope_options(p),
                  data_url=f"/api/v1/dashboards/{dashboard_id}",
                  patient_slicer=p.can("line_lists"))
