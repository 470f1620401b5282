"""plotly.js and its stylesheet, served from the installed `plotly` wheel (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, Response

from p4dp.web.security import allow
from p4dp.web.security import refuse
from p4dp.web.vendor import PLOTLY_JS, inline_styles, plotly_css

router = APIRouter(include_in_schema=False)
CACHE = {"Cache-Control": "public, max-age=86400"}


@router.get("/static/vendor/plotly.min.js")
@allow(public=True)
def plotly_js(request: Request):
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=CACHE)


@router.get("/static/vendor/plotly.css")
@allow(public=True)
def plotly_stylesheet(request: Request):
    return Response(plotly_css(), media_type="text/css", headers=CACHE)


@router.get("/static/vendor/inline/{style_id}.css")
@allow(public=True)
def bundled_stylesheet(request: Request, style_id: str = Path(pattern=r"^[0-9a-f]{64}$")):
    css = inline_styles().get(style_id)
    if css is None:
        raise refuse(request, 404, "Feuille de style introuvable.")
    return Response(css, media_type="text/css", headers=CACHE)
