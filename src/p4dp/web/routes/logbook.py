"""The interns' logbook ("Carnet de consultation"): pages and their /api/v1 twins.

Interns record consultations with a CISP-2 picker (`/api/v1/logbook/cisp` answers each keystroke
from `terminology.icpc2.search`; `/api/v1/logbook/suggest` gives the automatic coder's code for a
typed text, which the form pre-fills); supervisors validate or send back; supervisors and the
teaching department follow the dashboard and download portfolios. Every rule of who sees what is
in `p4dp.logbook.service`; these routes only translate HTTP. Reads and downloads are audited here,
changes by the service (in the same transaction as the change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from p4dp.analytics.display import format_date_fr
from p4dp.governance.audit import Event, record
from p4dp.logbook import reference as R
from p4dp.logbook import service as S
from p4dp.logbook.dashboard import Dashboard, dashboard, warehouse_base_profile
from p4dp.web.security import allow, audit_refusal, principal_of
from p4dp.web.views import PICKER_LIMIT, icpc2_picker

router = APIRouter(tags=["carnet de consultation"])

LOGBOOK_ROLES = ("intern", "supervisor", "department")
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: Problem rows shown by the entry form (the seed's screen shows "Problème n°3"); one spare row
#: is added when editing an entry that already has as many.
FORM_PROBLEM_ROWS = 3
HERE = FilePath(__file__).resolve().parents[1] / "templates" / "logbook"
PROBLEM_KEYS = tuple(f"{f}_{k}" for f in R.FIELDS for k in ("text", "code"))


@dataclass(frozen=True)
class _Actor:
    id: int
    username: str
    role: str
    department: str | None
    display_name: str


def actor_of(request: Request) -> _Actor:
    p = principal_of(request)
    return _Actor(p.user_id, p.username, p.role, p.department, p.display_name)


def _store(request: Request):
    return request.app.state.store


def _audit_read(request: Request, action: str, rows: int | None = None, **params) -> None:
    a = actor_of(request)
    record(_store(request), Event(actor=a.username, role=a.role, action=action,
                                  target=request.url.path, params=params, rows=rows))


def _not_found(e: S.EntryNotFound) -> HTTPException:
    return HTTPException(404, str(e))


def _forbidden(e: S.LogbookForbidden) -> HTTPException:
    return HTTPException(403, str(e))


def _invalid_json(request: Request, e: S.LogbookError) -> JSONResponse:
    audit_refusal(request, 422, str(e))
    return JSONResponse({"detail": str(e), "errors": [{"field": x.field, "message": x.message}
                                                      for x in e.errors]}, status_code=422)


def _render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    from p4dp.web.app import render

    return render(request, f"logbook/{template}", status_code,
                  R=R, format_date_fr=format_date_fr, **context)


# ----------------------------------------------------------------------------- picker


def _warm_picker() -> None:
    """Build the search index when the app starts (~0.1 s), not at an intern's first keystroke."""
    from p4dp.terminology.icpc2 import search

    search("r74")


_warm_picker()


@router.get("/api/v1/logbook/cisp", summary="Sélecteur CISP-2 : codes classés pour quelques "
            "lettres ou un code, avec leurs titres français")
@allow(*LOGBOOK_ROLES)
def cisp_search(request: Request, q: Annotated[str, Query(max_length=200)] = "",
                limit: Annotated[int, Query(ge=1, le=50)] = PICKER_LIMIT) -> list[dict]:
    return icpc2_picker(q, limit)


@router.get("/api/v1/logbook/suggest", summary="Suggestion du codeur automatique pour un texte "
            "de Motif, Résultat ou Procédure")
@allow(*LOGBOOK_ROLES)
def suggest(request: Request, text: Annotated[str, Query(max_length=S.MAX_TEXT_CHARS)] = "",
            field: Annotated[str, Query(pattern=r"^(reason|result|procedure)$")] = "result"
            ) -> dict:
    from p4dp.coding import code_text
    from p4dp.terminology.icpc2 import NO_CODE, title_fr_in_context

    if not text.strip():
        return {"code": None, "title_fr": None, "confidence": 0.0, "explanation": ""}
    c = code_text(text, field)
    code = None if c.code == NO_CODE else c.code
    return {"code": code, "title_fr": title_fr_in_context(code) if code else None,
            "confidence": c.confidence, "explanation": c.explanation}


@router.get("/api/v1/logbook/reference", summary="Compétences, niveaux, tranches d'âge, statuts")
@allow(*LOGBOOK_ROLES)
def reference(request: Request) -> dict:
    return {"competences": [{"key": c.key, "number": c.number, "label_fr": c.label_fr}
                            for c in R.competences()],
            "levels": [{"key": k, "label_fr": R.LEVEL_LABELS_FR[k]} for k in R.LEVELS],
            "age_bands": [{"key": k, "label_fr": R.AGE_BAND_LABELS_FR[k]} for k in R.AGE_BANDS],
            "sexes": [{"key": k, "label_fr": R.SEX_LABELS_FR[k]} for k in R.SEXES],
            "statuses": [{"key": k, "label_fr": R.STATUS_LABELS_FR[k]} for k in R.STATUSES],
            "max_competences": R.MAX_COMPETENCES, "max_problems": S.MAX_PROBLEMS}


ASSETS = {"logbook.js": "text/javascript; charset=utf-8", "logbook.css": "text/css; charset=utf-8"}


@router.get("/logbook/assets/logbook.js", include_in_schema=False)
@router.get("/logbook/assets/logbook.css", include_in_schema=False)
@allow(*LOGBOOK_ROLES)
def logbook_asset(request: Request) -> Response:
    """The picker's script and the pages' styles (kept beside the templates they serve)."""
    asset = request.url.path.rsplit("/", 1)[1]
    return Response((HERE / asset).read_text(encoding="utf-8"), media_type=ASSETS[asset])


# ----------------------------------------------------------------------------- API


def _summary_dict(e: S.EntrySummary) -> dict:
    return {"id": e.id, "version": e.version, "status": e.status, "status_fr": e.status_fr,
            "intern_id": e.intern_id, "intern": e.intern,
            "consultation_date": e.consultation_date.isoformat(), "age_band": e.age_band,
            "patient_sex": e.patient_sex, "n_problems": e.n_problems, "results": e.results}


def _list(request: Request, intern_id: int | None, status: str | None,
          start: date | None, end: date | None) -> list[S.EntrySummary]:
    try:
        rows = S.list_entries(_store(request), actor_of(request), intern_id=intern_id,
                              status=status, start=start, end=end)
    except S.LogbookForbidden as e:
        raise _forbidden(e) from None
    _audit_read(request, "logbook.list", rows=len(rows), intern_id=intern_id, status=status)
    return rows


Status = Annotated[str | None, Query(pattern=r"^(draft|submitted|validated)$")]
InternId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.get("/api/v1/logbook/entries", summary="Entrées visibles (version courante)")
@allow(*LOGBOOK_ROLES)
def api_entries(request: Request, intern_id: InternId = None, status: Status = None,
                start: date | None = None, end: date | None = None) -> list[dict]:
    return [_summary_dict(e) for e in _list(request, intern_id, status, start, end)]


@router.post("/api/v1/logbook/entries", status_code=201,
             summary="Saisir une consultation (brouillon, ou soumise avec submit=true)")
@allow(capability="logbook:own")
def api_create(request: Request, body: Annotated[dict[str, Any], Body()],
               submit: bool = False) -> Any:
    try:
        view = S.create_entry(_store(request), actor_of(request),
                              S.EntryInput.from_mapping(body), submit=submit)
    except S.LogbookError as e:
        return _invalid_json(request, e)
    except (TypeError, AttributeError):
        raise HTTPException(422, "Corps de requête invalide : voir /api/v1/openapi.json "
                                 "et /api/v1/logbook/reference.") from None
    return view.to_dict()


def _get(request: Request, entry_id: int, version: int | None = None) -> S.EntryView:
    try:
        view = S.get_entry(_store(request), actor_of(request), entry_id, version)
    except S.EntryNotFound as e:
        raise _not_found(e) from None
    except S.LogbookForbidden as e:
        raise _forbidden(e) from None
    _audit_read(request, "logbook.read", rows=1, entry_id=entry_id, version=view.version)
    return view


@router.get("/api/v1/logbook/entries/{entry_id}", summary="Une entrée (version courante ou "
            "?version=n)")
@allow(*LOGBOOK_ROLES)
def api_entry(request: Request, entry_id: EntryId,
              version: Annotated[int | None, Query(ge=1, le=10_000)] = None) -> dict:
    return _get(request, entry_id, version).to_dict()


@router.get("/api/v1/logbook/entries/{entry_id}/versions",
            summary="Toutes les versions conservées d'une entrée")
@allow(*LOGBOOK_ROLES)
def api_versions(request: Request, entry_id: EntryId) -> list[dict]:
    try:
        views = S.entry_versions(_store(request), actor_of(request), entry_id)
    except S.EntryNotFound as e:
        raise _not_found(e) from None
    _audit_read(request, "logbook.read", rows=len(views), entry_id=entry_id)
    return [v.to_dict() for v in views]


@router.put("/api/v1/logbook/entries/{entry_id}", summary="Modifier une entrée (une entrée "
            "validée donne une nouvelle version)")
@allow(capability="logbook:own")
def api_update(request: Request, entry_id: EntryId, body: Annotated[dict[str, Any], Body()],
               submit: bool = False) -> Any:
    try:
        view = S.update_entry(_store(request), actor_of(request), entry_id,
                              S.EntryInput.from_mapping(body), submit=submit)
    except S.LogbookError as e:
        return _invalid_json(request, e)
    except S.EntryNotFound as e:
        raise _not_found(e) from None
    except (TypeError, AttributeError):
        raise HTTPException(422, "Corps de requête invalide.") from None
    return view.to_dict()


@router.post("/api/v1/logbook/entries/{entry_id}/submit", summary="Soumettre au maître de stage")
@allow(capability="logbook:own")
def api_submit(request: Request, entry_id: EntryId) -> Any:
    try:
        return S.submit_entry(_store(request), actor_of(request), entry_id).to_dict()
    except S.LogbookError as e:
        return _invalid_json(request, e)
    except S.EntryNotFound as e:
        raise _not_found(e) from None


@router.post("/api/v1/logbook/entries/{entry_id}/review",
             summary="Valider (validate=true) ou renvoyer avec un commentaire")
@allow("supervisor")
def api_review(request: Request, entry_id: EntryId,
               body: Annotated[dict[str, Any], Body()]) -> Any:
    comment = body.get("comment") or ""
    if not isinstance(comment, str):
        raise HTTPException(422, "comment : texte attendu.")
    try:
        return S.review_entry(_store(request), actor_of(request), entry_id, comment,
                              validate=body.get("validate", True) is not False).to_dict()
    except S.LogbookError as e:
        return _invalid_json(request, e)
    except S.EntryNotFound as e:
        raise _not_found(e) from None


def _dashboard(request: Request, intern_id: int | None, start: date | None,
               end: date | None) -> Dashboard:
    if start and end and start > end:
        raise HTTPException(422, f"Période : le début ({format_date_fr(start)}) est après la fin "
                                 f"({format_date_fr(end)}).")
    base = warehouse_base_profile(request.app.state.data.warehouse_path)
    try:
        d = dashboard(_store(request), actor_of(request), start=start, end=end,
                      intern_id=intern_id, base=base)
    except S.EntryNotFound as e:
        raise _not_found(e) from None
    except S.LogbookForbidden as e:
        raise _forbidden(e) from None
    _audit_read(request, "logbook.dashboard", rows=d.n_entries, intern_id=intern_id,
                start=d.start.isoformat(), end=d.end.isoformat())
    return d


@router.get("/api/v1/logbook/dashboard", summary="Tableau de bord du carnet sur une période")
@allow(*LOGBOOK_ROLES)
def api_dashboard(request: Request, intern_id: InternId = None, start: date | None = None,
                  end: date | None = None) -> dict:
    return _dashboard(request, intern_id, start, end).to_dict()


def _portfolio(request: Request, fmt: str, intern_id: int | None, start: date | None,
               end: date | None) -> Response:
    from p4dp.logbook.export import portfolio_csv, portfolio_pdf

    a = actor_of(request)
    if intern_id is None and a.role != "intern":
        raise HTTPException(422, "intern_id : choisir l'interne dont exporter le portfolio.")
    make = portfolio_csv if fmt == "csv" else portfolio_pdf
    try:
        data = make(_store(request), a, intern_id=intern_id, start=start, end=end,
                    base=warehouse_base_profile(request.app.state.data.warehouse_path))
    except S.EntryNotFound as e:
        raise _not_found(e) from None
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/pdf"
    name = f"portfolio-{intern_id or a.id}.{fmt}"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/v1/logbook/portfolio.csv", summary="Portfolio d'un interne (CSV)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
@allow(*LOGBOOK_ROLES)
def portfolio_csv_route(request: Request, intern_id: InternId = None, start: date | None = None,
                        end: date | None = None) -> Response:
    return _portfolio(request, "csv", intern_id, start, end)


@router.get("/api/v1/logbook/portfolio.pdf", summary="Portfolio d'un interne (PDF)",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
@allow(*LOGBOOK_ROLES)
def portfolio_pdf_route(request: Request, intern_id: InternId = None, start: date | None = None,
                        end: date | None = None) -> Response:
    return _portfolio(request, "pdf", intern_id, start, end)


# ----------------------------------------------------------------------------- pages


def _blank_problem() -> dict:
    return {k: "" for k in PROBLEM_KEYS}


def _form_values(view: S.EntryView | None = None) -> dict:
    """What the entry form shows: an entry's current version, or an empty consultation."""
    if view is None:
        problems = [_blank_problem() for _ in range(FORM_PROBLEM_ROWS)]
        return {"consultation_date": date.today().isoformat(), "age_band": "",
                "patient_sex": "", "practice": "", "analysis": "", "problems": problems,
                "competences": [{} for _ in range(R.MAX_COMPETENCES)]}
    problems = [{f"{f}_{k}": (getattr(getattr(p, f), k) or "") for f in R.FIELDS
                 for k in ("text", "code")} for p in view.problems]
    problems += [_blank_problem()
                 for _ in range(max(FORM_PROBLEM_ROWS - len(problems), 1))]
    comps = [{"competence": c.competence, "level": c.level, "justification": c.justification}
             for c in view.competences]
    comps += [{} for _ in range(R.MAX_COMPETENCES - len(comps))]
    return {"consultation_date": view.consultation_date.isoformat(), "age_band": view.age_band,
            "patient_sex": view.patient_sex, "practice": view.practice,
            "analysis": view.analysis, "problems": problems, "competences": comps}


async def _form_input(request: Request) -> tuple[dict, S.EntryInput, bool]:
    """The posted form as the form's values (to show again) and the service's input. Problem
    rows and competence slots left entirely blank are the form's spare rows: dropped."""
    form = await request.form()

    def get(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    rows = [{k: get(f"problems-{i}-{k}") for k in PROBLEM_KEYS} for i in range(S.MAX_PROBLEMS)
            if f"problems-{i}-result_text" in form]
    comps = [{k: get(f"competences-{i}-{k}") for k in ("competence", "level", "justification")}
             for i in range(R.MAX_COMPETENCES)]
    values = {"consultation_date": get("consultation_date"), "age_band": get("age_band"),
              "patient_sex": get("patient_sex"), "practice": get("practice"),
              "analysis": get("analysis"), "problems": rows or [_blank_problem()],
              "competences": comps}
    data = S.EntryInput.from_mapping({
        **values, "problems": [r for r in rows if any(r.values())],
        "competences": [{k: v or None for k, v in c.items()} | {
            "justification": c["justification"]} for c in comps]})
    return values, data, get("action") == "submit"


def _form_page(request: Request, values: dict, *, entry: S.EntryView | None = None,
               error: S.LogbookError | None = None) -> HTMLResponse:
    from p4dp.terminology.icpc2 import is_valid, title_fr_in_context

    titles = {p[f"{f}_code"]: title_fr_in_context(p[f"{f}_code"])
              for p in values["problems"] for f in R.FIELDS
              if p.get(f"{f}_code") and is_valid(p[f"{f}_code"])}
    errors = {e.field: e.message for e in error.errors} if error else {}
    return _render(request, "form.html", 422 if error else 200, values=values, entry=entry,
                   errors=errors, error=error, titles=titles, competences=R.competences())


@router.get("/logbook", response_class=HTMLResponse, include_in_schema=False)
@allow(*LOGBOOK_ROLES)
def list_page(request: Request, intern_id: InternId = None, status: Status = None):
    entries = _list(request, intern_id, status, None, None)
    interns = S.visible_interns(_store(request), actor_of(request))
    return _render(request, "list.html", entries=entries, interns=interns,
                   intern_id=intern_id, status=status)


@router.get("/logbook/new", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="logbook:own")
def new_page(request: Request):
    return _form_page(request, _form_values())


@router.post("/logbook/new", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="logbook:own")
async def create_page(request: Request):
    values, data, submit = await _form_input(request)
    try:
        view = S.create_entry(_store(request), actor_of(request), data, submit=submit)
    except S.LogbookError as e:
        audit_refusal(request, 422, str(e))
        return _form_page(request, values, error=e)
    return RedirectResponse(f"/logbook/{view.id}", status_code=303)


@router.get("/logbook/dashboard", response_class=HTMLResponse, include_in_schema=False)
@allow(*LOGBOOK_ROLES)
def dashboard_page(request: Request, intern_id: InternId = None, start: date | None = None,
                   end: date | None = None):
    d = _dashboard(request, intern_id, start, end)
    a = actor_of(request)
    interns = S.visible_interns(_store(request), a)
    chosen = intern_id or (a.id if a.role == "intern" else None)
    return _render(request, "dashboard.html", d=d, interns=interns, intern_id=intern_id,
                   chosen=chosen, data=d.to_dict())


@router.get("/logbook/{entry_id}", response_class=HTMLResponse, include_in_schema=False)
@allow(*LOGBOOK_ROLES)
def entry_page(request: Request, entry_id: EntryId,
               version: Annotated[int | None, Query(ge=1, le=10_000)] = None):
    view = _get(request, entry_id, version)
    versions = S.entry_versions(_store(request), actor_of(request), entry_id)
    return _render(request, "entry.html", e=view, versions=versions)


@router.get("/logbook/{entry_id}/edit", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="logbook:own")
def edit_page(request: Request, entry_id: EntryId):
    view = _get(request, entry_id)
    return _form_page(request, _form_values(view), entry=view)


@router.post("/logbook/{entry_id}/edit", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="logbook:own")
async def update_page(request: Request, entry_id: EntryId):
    values, data, submit = await _form_input(request)
    try:
        S.update_entry(_store(request), actor_of(request), entry_id, data, submit=submit)
    except S.EntryNotFound as e:
        raise _not_found(e) from None
    except S.LogbookError as e:
        audit_refusal(request, 422, str(e))
        return _form_page(request, values, entry=_get(request, entry_id), error=e)
    return RedirectResponse(f"/logbook/{entry_id}", status_code=303)


@router.post("/logbook/{entry_id}/review", response_class=HTMLResponse, include_in_schema=False)
@allow("supervisor")
async def review_page(request: Request, entry_id: EntryId):
    form = await request.form()
    comment = form.get("supervisor_comment")
    try:
        S.review_entry(_store(request), actor_of(request), entry_id,
                       comment if isinstance(comment, str) else "",
                       validate=form.get("action") != "return")
    except S.EntryNotFound as e:
        raise _not_found(e) from None
    except S.LogbookError as e:
        audit_refusal(request, 422, str(e))
        view = _get(request, entry_id)
        return _render(request, "entry.html", 422, e=view,
                       versions=S.entry_versions(_store(request), actor_of(request), entry_id),
                       review_error=str(e))
    return RedirectResponse(f"/logbook/{entry_id}", status_code=303)
