"""Deny by default: every route declares who may call it, or nobody may.

A route declares its rule with the `allow` decorator (any order with the router's decorator):

    @router.get("/api/v1/themes/{theme}")
    @allow(capability="theme:{theme}")      # a capability of governance.access, path-formatted
    def theme_data(...): ...

    @allow("gp", "researcher")              # or roles by name
    @allow(authenticated=True)              # any logged-in user
    @allow(public=True)                     # anyone (login page, static files, health)

The app-wide dependency `enforce` reads the rule of the matched route: a route without one is
refused (403) to everybody, anonymous users get 401 (pages redirect to the login page), users
without the capability 403 — each refusal audited. It also checks the CSRF token of every
state-changing request (form field `csrf_token` or header `X-CSRF-Token`) and rotates it at login.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request

from p4dp.governance.access import CAPABILITIES, Principal, can
from p4dp.governance.audit import Event, record
from p4dp.governance.models import User
from p4dp.privacy.disclosure import ROLES

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
ACCESS_ATTR = "__p4dp_access__"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] = frozenset()
    capability: str | None = None
    authenticated: bool = False
    public: bool = False

    def describe(self) -> str:
        if self.public:
            return "public"
        if self.capability:
            return f"capability {self.capability}"
        if self.roles:
            return "roles " + ", ".join(sorted(self.roles))
        return "authenticated"


def allow(*roles: str, capability: str | None = None, authenticated: bool = False,
          public: bool = False) -> Callable:
    """Declare who may call the decorated route (see the module docstring)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    if capability and "{" not in capability and capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    if sum(map(bool, (roles, capability, authenticated, public))) != 1:
        raise ValueError("allow(): give roles, a capability, authenticated=True or public=True")
    rule = Rule(frozenset(roles), capability, authenticated, public)

    def decorate(fn: Callable) -> Callable:
        setattr(fn, ACCESS_ATTR, rule)
        return fn

    return decorate


def rule_of(endpoint: Callable) -> Rule | None:
    return getattr(endpoint, ACCESS_ATTR, None)


class Refused(HTTPException):
    """A 4xx whose audit entry was already written (by the boundary or by `enforce`)."""

    audited = True


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def principal_of(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)


def _load_principal(request: Request) -> Principal | None:
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    store = request.app.state.store
    with store.sessions() as s:
        user = s.get(User, uid)
        if user is None or not user.is_active:
            request.session.clear()
            return None
        return Principal.of(user)


def audit_refusal(request: Request, status: int, reason: str) -> None:
    p = principal_of(request)
    params = {"method": request.method, "query": str(request.url.query)}
    record(request.app.state.store, Event(
        actor=p.username if p else "anonyme", role=p.role if p else None, action="http.refused",
        target=request.url.path, params=params, outcome=str(status),
        scope={"reason": reason}))


def refuse(request: Request, status: int, message: str) -> Refused:
    """An audited 4xx to raise."""
    audit_refusal(request, status, message)
    return Refused(status, message)


async def enforce(request: Request) -> None:
    """The app-wide guard (a FastAPI dependency on every route)."""
    route = request.scope.get("route")
    rule = rule_of(getattr(route, "endpoint", None))
    request.state.principal = p = _load_principal(request)
    if rule is None:
        raise refuse(request, 403, "Accès refusé : cette adresse ne déclare aucune règle "
                                    "d'accès.")
    if not rule.public:
        if p is None:
            raise refuse(request, 401, "Connexion requise : identifiez-vous pour accéder à "
                                        "cette page.")
        if rule.roles and p.role not in rule.roles:
            raise refuse(request, 403, "Accès refusé : votre rôle ne permet pas cette action.")
        if rule.capability:
            cap = rule.capability.format(**request.path_params)
            if cap not in CAPABILITIES:
                raise refuse(request, 404, "Page introuvable.")
            if not can(p.role, cap):
                raise refuse(request, 403, "Accès refusé : votre rôle ne donne pas accès à « "
                                            f"{CAPABILITIES[cap]} ».")
    if request.method in UNSAFE_METHODS:
        await _check_csrf(request)


async def _check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    ctype = request.headers.get("content-type", "")
    if given is None and ctype.startswith(("application/x-www-form-urlencoded",
                                           "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(str(expected), given):
        raise refuse(request, 403, "Jeton de sécurité (CSRF) absent ou invalide : rechargez "
                                    "la page et recommencez.")


def login_session(request: Request, user: User) -> None:
    """Start a fresh session for `user` (new CSRF token: no fixation)."""
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)


def safe_next(target: str | None) -> str:
    """A local path to go back to after login (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:500]
    return "/"
