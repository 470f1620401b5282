"""Login and logout pages (lockout and password checks in `governance.accounts`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from p4dp.governance import accounts
from p4dp.governance.audit import Event, record
from p4dp.web.security import allow, csrf_token, login_session, principal_of, safe_next

router = APIRouter()


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
@allow(public=True)
def login_page(request: Request, next: str | None = None):
    from p4dp.web.app import render

    csrf_token(request)
    return render(request, "login.html", next=safe_next(next), message=None)


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
@allow(public=True)
def login(request: Request, username: Annotated[str, Form(max_length=200)],
          password: Annotated[str, Form(max_length=1000)],
          next: Annotated[str, Form(max_length=500)] = "/"):
    from p4dp.web.app import render

    result = accounts.authenticate(request.app.state.store, username, password)
    if result.user is None:
        return render(request, "login.html", 401, next=safe_next(next), message=result.message,
                      username=username[:64])
    login_session(request, result.user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
@allow(authenticated=True)
def logout(request: Request):
    p = principal_of(request)
    record(request.app.state.store, Event(actor=p.username, role=p.role, action="logout"))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/healthz", include_in_schema=False)
@allow(public=True)
def health(request: Request) -> dict:
    return {"status": "ok"}
