"""Patient identification in the web app: the cohort builder (researchers), "Mes patients
éligibles" (GPs), saved versioned definitions, and the terminology search any user may call.

* The builder posts the definition's JSON form to `/api/v1/cohorts/count` at every change and
  shows the protected total, attrition and regions (`p4dp.cohorts.feasibility`, the noise seeded
  by the logged-in user). Definitions are saved in the operational store, a new version for each
  change (`p4dp.governance.cohorts`), private or shared with a role; exported and imported as
  JSON, validated against the `p4dp.cohort/1` schema (errors name the field by JSON pointer).
* A GP picks a definition (their own or shared with GPs) and gets *their own* matching patients:
  the practitioner pseudonym comes from their account, never from the request. Re-identification
  happens at the practice (`p4dp agent reidentify`).

Every count and list goes through `governance.cohorts.count` / `recruit`, which write the audit
entry the answer carries; refused and invalid requests are audited too.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from p4dp.governance import cohorts as G
from p4dp.governance.serve import ServiceUnavailable
from p4dp.privacy.disclosure import ROLES
from p4dp.web.security import allow, principal_of, refuse
from p4dp.web.views import PICKER_LIMIT, csv_text, icpc2_picker

router = APIRouter(tags=["cohortes"])

DefinitionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Version = Annotated[int | None, Query(ge=1, le=100_000)]
SharedRole = Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$",
                                         description="Rôle avec lequel partager (défaut : "
                                                     "privée)")]
NOT_FOUND = "Définition de cohorte introuvable (ou non partagée avec vous)."


def _store(request: Request):
    return request.app.state.store


class _Invalid(Exception):
    """A definition that cannot be counted or saved; `problems` are (JSON pointer, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems


def _parse(body: object):
    from p4dp.cohorts import CriteriaError, parse

    try:
        return parse(body if isinstance(body, dict) else json.dumps(body))
    except CriteriaError as e:
        raise _Invalid(e.problems) from None


def _impossible_windows(cohort) -> list[tuple[str, str]]:
    """Windows that start after the index date (the compiler finds them only at query time; a
    definition is saved only if it can be counted)."""
    from p4dp.cohorts.compile import index_date_of

    index = index_date_of(cohort)
    out: list[tuple[str, str]] = []

    def walk(rule, where: str) -> None:
        window = getattr(rule, "window", None)
        if window is not None:
            start, end = window.bounds(index)
            if start is not None and start >= end:
                out.append((f"{where}/window", f"fenêtre impossible à la date index "
                                               f"{index:%d/%m/%Y} (elle commence après elle)"))
        for i, sub in enumerate(getattr(rule, "rules", None) or ()):
            walk(sub, f"{where}/rules/{i}")
        if getattr(rule, "rule", None) is not None:
            walk(rule.rule, f"{where}/rule")

    for i, rule in enumerate(cohort.rules):
        walk(rule, f"/rules/{i}")
    return out


def _invalid(request: Request, action: str, e: _Invalid) -> JSONResponse:
    """422 naming every faulty field; audited, nothing saved, no query run."""
    detail = "Définition de cohorte invalide — " + " ; ".join(
        f"{ptr or '/'} : {msg}" for ptr, msg in e.problems)
    G.refused(_store(request), principal_of(request), action, request.url.path, detail)
    return JSONResponse({"detail": detail, "errors": [{"field": ptr or "/", "message": msg}
                                                      for ptr, msg in e.problems]},
                        status_code=422)


def _cohort_error(e: Exception) -> _Invalid:
    """`CohortError` messages read "<pointer> : <message>"."""
    ptr, _, msg = str(e).partition(" : ")
    return _Invalid([(ptr, msg)] if ptr.startswith("/") else [("", str(e))])


def _run(request: Request, action: str, fn):
    """`fn(wh)` on a pooled warehouse connection; evaluation errors become audited 4xx."""
    from p4dp.cohorts import CohortError
    from p4dp.privacy.disclosure import DisclosureRefused

    try:
        with request.app.state.data.warehouse() as wh:
            return fn(wh)
    except ServiceUnavailable as e:
        raise refuse(request, 503, str(e)) from None
    except CohortError as e:
        raise _InvalidResponse(_invalid(request, action, _cohort_error(e))) from None
    except DisclosureRefused as e:
        raise refuse(request, 403, f"Accès refusé : {e}.") from None


class _InvalidResponse(Exception):
    def __init__(self, response: JSONResponse):
        self.response = response


# ----------------------------------------------------------------------------- terminology


@router.get("/api/v1/terminology/icpc2", summary="Recherche CISP-2 (ICPC-2) : codes classés "
            "pour quelques lettres ou un code, avec leurs titres français")
@allow(authenticated=True)
def icpc2_search(request: Request, q: Annotated[str, Query(max_length=200)] = "",
                 limit: Annotated[int, Query(ge=1, le=50)] = PICKER_LIMIT) -> list[dict]:
    return icpc2_picker(q, limit)


@router.get("/api/v1/terminology/exams", summary="Examens biologiques : code, nom, unité de "
            "référence et unités acceptées pour un seuil")
@allow(authenticated=True)
def exams(request: Request) -> list[dict]:
    from p4dp.terminology import labs

    t = labs.exams().to_pylist()
    other: dict[str, list[str]] = {}
    for rule in labs.RULES:
        other.setdefault(rule.exam_code, []).append(rule.unit)
    return [{"code": x["exam_code"], "name_fr": x["name_fr"], "unit": x["canonical_unit"],
             "units": list(dict.fromkeys([x["canonical_unit"], *other.get(x["exam_code"], [])]))}
            for x in sorted(t, key=lambda x: x["name_fr"])]


# ----------------------------------------------------------------------------- counts


@router.get("/api/v1/cohorts/schema", summary="Schéma JSON du format de définition "
            "(p4dp.cohort/1)")
@allow(capability="cohorts:definitions")
def schema(request: Request) -> dict:
    from p4dp.cohorts import json_schema

    return json_schema()


def _count(request: Request, cohort, extra: dict | None = None) -> dict:
    from p4dp.cohorts import noise_key

    p = principal_of(request)
    key = noise_key(request.app.state.settings.home)
    return _run(request, "cohort.count", lambda wh: G.count(
        _store(request), wh, p, cohort, key, request.app.state.data.policy, request.url.path,
        extra))


@router.post("/api/v1/cohorts/count", summary="Effectif de faisabilité d'une définition (JSON) : "
             "total, attrition et régions, protégés ; journalisé")
@allow(capability="cohorts:feasibility")
def count(request: Request, body: Annotated[dict[str, Any], Body(examples=[{
        "name": "diabete", "title_fr": "Diabétiques de 40 à 75 ans", "rules": [
            {"type": "demographics", "age_min": 40, "age_max": 75},
            {"type": "condition", "codes": ["T90"]}]}])]) -> Any:
    try:
        cohort = _parse(body)
        payload = _count(request, cohort)
    except _Invalid as e:
        return _invalid(request, "cohort.count", e)
    except _InvalidResponse as e:
        return e.response
    from p4dp.cohorts.labels import rule_label_fr

    return {**payload, "rules_fr": [rule_label_fr(r) for r in cohort.rules]}


# ----------------------------------------------------------------------------- definitions


def _actor(request: Request):
    p = principal_of(request)
    return p.user_id, p.username, p.role


def _share(shared_role: object) -> str | None:
    if shared_role is not None and (not isinstance(shared_role, str) or shared_role not in ROLES):
        raise _Invalid([("/shared_role", f"rôle inconnu {str(shared_role)[:30]!r} ("
                         f"{', '.join(ROLES)}, ou null pour une définition privée)")])
    return shared_role


@router.get("/api/v1/cohorts/definitions", summary="Définitions enregistrées visibles (les "
            "siennes et celles partagées avec son rôle)")
@allow(capability="cohorts:definitions")
def definitions(request: Request) -> list[dict]:
    uid, _, role = _actor(request)
    return G.visible(_store(request), uid, role)


def _save(request: Request, definition: object, shared_role: object,
          definition_id: int | None = None) -> Any:
    uid, name, role = _actor(request)
    try:
        shared_role = _share(shared_role)
        cohort = _parse(definition)
        if problems := _impossible_windows(cohort):
            raise _Invalid(problems)
    except _Invalid as e:
        return _invalid(request, "cohort.save", e)
    if definition_id is None:
        return JSONResponse(G.create(_store(request), uid, name, role, cohort, shared_role),
                            status_code=201)
    saved = G.update(_store(request), definition_id, uid, name, role, cohort, shared_role)
    if saved is None:
        raise refuse(request, 404, NOT_FOUND)
    return saved


@router.post("/api/v1/cohorts/definitions", status_code=201,
             summary="Enregistrer une nouvelle définition (version 1)")
@allow(capability="cohorts:feasibility")
def create(request: Request, body: Annotated[dict[str, Any], Body(examples=[{
        "shared_role": "gp", "definition": {"name": "diabete", "title_fr": "Diabétiques",
                                            "rules": [{"type": "condition", "codes": ["T90"]}]}
        }])]) -> Any:
    return _save(request, body.get("definition"), body.get("shared_role"))


@router.post("/api/v1/cohorts/definitions/import", status_code=201,
             summary="Importer un fichier de définition (JSON p4dp.cohort/1) : validé par le "
                     "schéma, enregistré en version 1")
@allow(capability="cohorts:feasibility")
def import_definition(request: Request, body: Annotated[dict[str, Any], Body()],
                      shared_role: SharedRole = None) -> Any:
    return _save(request, body, shared_role)


@router.put("/api/v1/cohorts/definitions/{definition_id}",
            summary="Modifier une de ses définitions : une nouvelle version, les anciennes "
                    "conservées")
@allow(capability="cohorts:feasibility")
def update(request: Request, definition_id: DefinitionId,
           body: Annotated[dict[str, Any], Body()]) -> Any:
    return _save(request, body.get("definition"), body.get("shared_role"), definition_id)


def _visible(request: Request, definition_id: int, version: int | None = None) -> dict:
    uid, _, role = _actor(request)
    d = G.get(_store(request), definition_id, uid, role, version)
    if d is None:
        raise refuse(request, 404, NOT_FOUND)
    return d


@router.get("/api/v1/cohorts/definitions/{definition_id}",
            summary="Une définition (version courante ou ?version=n)")
@allow(capability="cohorts:definitions")
def definition(request: Request, definition_id: DefinitionId, version: Version = None) -> dict:
    return _visible(request, definition_id, version)


@router.get("/api/v1/cohorts/definitions/{definition_id}/versions",
            summary="Toutes les versions conservées d'une définition")
@allow(capability="cohorts:definitions")
def definition_versions(request: Request, definition_id: DefinitionId) -> list[dict]:
    uid, _, role = _actor(request)
    out = G.versions(_store(request), definition_id, uid, role)
    if out is None:
        raise refuse(request, 404, NOT_FOUND)
    return out


@router.get("/api/v1/cohorts/definitions/{definition_id}/export",
            summary="Exporter une définition en fichier JSON (p4dp.cohort/1)",
            response_class=Response, responses={200: {"content": {"application/json": {}}}})
@allow(capability="cohorts:definitions")
def export(request: Request, definition_id: DefinitionId, version: Version = None) -> Response:
    d = _visible(request, definition_id, version)
    text = json.dumps(d["definition"], ensure_ascii=False, indent=2) + "\n"
    name = f"{d['definition']['name']}-v{d['version']}.json"
    return Response(text, media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ----------------------------------------------------------------------------- GP lists


def _patients(request: Request, definition_id: int, version: int | None) -> dict:
    d = _visible(request, definition_id, version)
    try:  # stored definitions were valid when saved; a terminology update may retire a code
        cohort = _parse(d["definition"])
    except _Invalid as e:
        raise _InvalidResponse(_invalid(request, "cohort.list", e)) from None
    p = principal_of(request)
    extra = {"definition_id": definition_id, "definition_version": d["version"]}
    payload = _run(request, "cohort.list", lambda wh: G.recruit(
        _store(request), wh, p, cohort, request.url.path, extra))
    return {**payload, "definition_id": definition_id, "definition_version": d["version"]}


@router.get("/api/v1/cohorts/definitions/{definition_id}/patients",
            summary="Mes patients éligibles : ses propres patients qui correspondent "
                    "(pseudonymes et faits) ; journalisé")
@allow(capability="cohorts:recruit")
def patients(request: Request, definition_id: DefinitionId, version: Version = None) -> Any:
    try:
        return _patients(request, definition_id, version)
    except _InvalidResponse as e:
        return e.response


@router.get("/api/v1/cohorts/definitions/{definition_id}/patients.csv",
            summary="Mes patients éligibles en CSV (pseudonymes, à ré-identifier au cabinet)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
@allow(capability="cohorts:recruit")
def patients_csv(request: Request, definition_id: DefinitionId,
                 version: Version = None) -> Response:
    try:
        payload = _patients(request, definition_id, version)
    except _InvalidResponse as e:
        return e.response
    name = f"patients-eligibles-{payload['cohort']}-v{payload['definition_version']}.csv"
    return Response(csv_text(payload), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ----------------------------------------------------------------------------- pages


@router.get("/cohorts", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="cohorts:feasibility")
def builder_page(request: Request):
    from p4dp.web.app import render

    uid, _, role = _actor(request)
    return render(request, "cohorts/builder.html", roles=ROLES,
                  saved=G.visible(_store(request), uid, role))


@router.get("/cohorts/patients", response_class=HTMLResponse, include_in_schema=False)
@allow(capability="cohorts:recruit")
def patients_page(request: Request, definition_id: Annotated[int | None, Query(
        ge=1, le=2**31 - 1)] = None):
    from p4dp.web.app import render

    uid, _, role = _actor(request)
    result, error = None, None
    if definition_id is not None:
        try:
            result = _patients(request, definition_id, None)
        except _InvalidResponse as e:
            error = json.loads(e.response.body)["detail"]
    return render(request, "cohorts/patients.html", saved=G.visible(_store(request), uid, role),
                  chosen=definition_id, result=result, error=error)
