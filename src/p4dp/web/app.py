"""The web application: one FastAPI app on one port — pages, the JSON API under /api/v1, static files.

Routers are picked up from every module of `p4dp.web.routes` that defines `router`, so a package
adds its pages by adding a module there (see docs/web.md). Every route goes through the app-wide
guard `security.enforce` (deny by default); every figure through `governance.serve`.
"""

from __future__ import annotations

import importlib
from contextlib import asynccontextmanager
import pkgutil
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from p4dp.analytics.display import display_fr
from p4dp.governance.access import CAPABILITIES, SCOPE_LABELS_FR, Principal, themes_for
from p4dp.governance.accounts import ROLE_LABELS_FR
from p4dp.governance.serve import DataService
from p4dp.governance.store import Store, open_store
from p4dp.settings import Settings
from p4dp.web import routes
from p4dp.web.security import audit_refusal, csrf_token, enforce, principal_of, wants_json
from p4dp.web.vendor import inline_styles

HERE = Path(__file__).parent
#: Sessions end after this much inactivity (the signed cookie is re-issued on every response, so
#: the limit is idle time). A choice for shared practice computers, not a regulatory figure.
SESSION_IDLE_MINUTES = 30
#: Largest request body accepted (the biggest legitimate one, a saved dashboard, is ~2 KiB).
MAX_BODY_BYTES = 64 * 1024
#: Level 9 (Starlette's default) costs ~0.2 s on a 400 KB weekly series for a few % of size;
#: level 5 is ~10× faster (measured in benchmarks/bench_web.py's README section).
GZIP_LEVEL = 5
#: No CDN, no external font, no inline script: everything comes from this server.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["fr"] = display_fr
templates.env.globals.update(ROLE_LABELS_FR=ROLE_LABELS_FR, CAPABILITIES=CAPABILITIES,
                             SCOPE_LABELS_FR=SCOPE_LABELS_FR,
                             plotly_inline_ids=list(inline_styles()))


class BodyTooLarge(Exception):
    pass


class GuardMiddleware:
    """Security headers on every response, and the request-body size limit (413)."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _too_large(scope, send)
            return
        seen, started = 0, False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                static = scope["path"].startswith("/static/")
                extra = [h for h in SECURITY_HEADERS if not (static and h[0] == b"cache-control")]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, counted, with_headers)
        except BodyTooLarge:
            if not started:
                await _too_large(scope, send)


async def _too_large(scope: Scope, send: Send) -> None:
    response = JSONResponse({"detail": f"Requête trop volumineuse (au plus "
                                       f"{MAX_BODY_BYTES // 1024} Kio)."}, status_code=413,
                            headers={k.decode(): v.decode() for k, v in SECURITY_HEADERS})
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:  # pragma: no cover - the 413 response never reads
    return {"type": "http.disconnect"}


def discover_routers():
    """Every `router` of the modules of `p4dp.web.routes`, in module-name order."""
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            yield router


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app, inside included routers too (FastAPI ≥ 0.160 wraps them)."""
    out: list[APIRoute] = []

    def walk(routes_) -> None:
        for r in routes_:
            if isinstance(r, APIRoute):
                out.append(r)
            elif hasattr(r, "original_router"):
                walk(r.original_router.routes)

    walk(app.routes)
    return out


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """A page with the common context (user, CSRF token, navigation)."""
    p = principal_of(request)
    nav = themes_for(p.role) if p else []
    return templates.TemplateResponse(request, template, {
        "user": p, "csrf": csrf_token(request), "nav_themes": nav, **context},
        status_code=status_code)


def active_principals(store: Store) -> list[Principal]:
    """Every active account, as the access rules see it (whose tabs are warmed)."""
    from sqlalchemy import select

    from p4dp.governance.models import User

    with store.sessions() as s:
        return [Principal.of(u) for u in s.scalars(select(User).where(User.is_active))]


def create_app(settings: Settings, store: Store | None = None,
               warehouse_path: Path | str | None = None) -> FastAPI:
    store = store or open_store(settings)
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        _app.state.data.warm_after_loads(lambda: active_principals(store))
        yield
        _app.state.data.close()

    app = FastAPI(title="P4DP", lifespan=lifespan, version="1", description="API de la plateforme P4DP : "
                  "indicateurs protégés, tableaux de bord, qualité, audit.",
                  docs_url=None, redoc_url=None,  # their pages load scripts from a CDN
                  openapi_url="/api/v1/openapi.json", dependencies=[Depends(enforce)])
    app.state.settings = settings
    app.state.store = store
    from p4dp.analytics.library import THEMES
    from p4dp.privacy.disclosure import Policy

    app.state.data = DataService(store, warehouse_path or settings.warehouse,
                                 policy=Policy.from_settings(settings),
                                 pool_size=settings.duckdb_threads,
                                 cache_dir=settings.home / "cache")
    app.state.themes = THEMES
    for router in discover_routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _install_errors(app)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=GZIP_LEVEL)
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret(),
                       session_cookie="p4dp_session", max_age=SESSION_IDLE_MINUTES * 60,
                       same_site="strict", https_only=settings.cookie_secure)
    app.add_middleware(GuardMiddleware)

    return app


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if not getattr(exc, "audited", False) and 400 <= exc.status_code < 500:
            audit_refusal(request, exc.status_code, str(exc.detail))
        detail = exc.detail if isinstance(exc.detail, str) else "Requête invalide."
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Page introuvable."
        elif exc.status_code == 405:
            detail = "Méthode non autorisée pour cette adresse."
        if wants_json(request):
            return JSONResponse({"detail": detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        if exc.status_code == 401 and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return render(request, "error.html", exc.status_code, status=exc.status_code,
                      message=detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query"))
            problems.append(f"{where or 'requête'} : {_fr_error(err)}")
        detail = "Paramètres invalides — " + " ; ".join(problems)
        audit_refusal(request, 422, detail)
        if wants_json(request):
            return JSONResponse({"detail": detail}, status_code=422)
        return render(request, "error.html", 422, status=422, message=detail)


def _fr_error(err: dict) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return "valeur manquante"
    if kind.startswith("int"):
        return "nombre entier attendu"
    if kind.startswith("date"):
        return "date attendue (AAAA-MM-JJ)"
    if kind == "json_invalid":
        return "JSON mal formé"
    if kind in ("literal_error", "enum"):
        return "valeur non admise"
    if "too_long" in kind or "too_short" in kind:
        return "longueur non admise"
    if "greater" in kind or "less" in kind:
        return "valeur hors bornes"
    return "valeur invalide"
