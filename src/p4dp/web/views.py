"""What pages and API routes share: the slicers' query parameters, display strings, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import HTTPException, Query, Request
from fastapi.responses import JSONResponse

from p4dp.analytics.display import category_fr, display_fr
from p4dp.analytics.model import Filters, Period
from p4dp.governance.access import AccessDenied, Principal, SCOPE_LABELS_FR, scopes_for
from p4dp.governance.serve import DataResult, ServiceUnavailable
from p4dp.web.security import Refused, principal_of

#: Oldest age the age slicer accepts (anything above is a typing error).
MAX_AGE = 130
#: Pseudonyms are "<source>_<hex>": letters, digits, "_" and "-" only.
PSEUDONYM_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


@dataclass(frozen=True)
class Slicers:
    scope: str | None
    filters: Filters
    params: dict


#: Answers of a CISP-2 picker per keystroke (logbook entries, cohort criteria).
PICKER_LIMIT = 12


def icpc2_picker(q: str, limit: int) -> list[dict]:
    """Ranked CISP-2 codes for a few letters or a code, with their French titles."""
    from p4dp.terminology.icpc2 import search

    return [{"code": h.code, "title_fr": h.title_fr, "chapter_title_fr": h.chapter_title_fr,
             "matched": h.matched} for h in search(q, limit)]


def slicers(
    scope: Annotated[Literal["personnel", "base", "region"] | None,
                     Query(description="Périmètre : personnel, base ou region")] = None,
    sex: Annotated[Literal["F", "M"] | None, Query(description="Sexe : F ou M")] = None,
    age_min: Annotated[int | None, Query(ge=0, le=MAX_AGE)] = None,
    age_max: Annotated[int | None, Query(ge=0, le=MAX_AGE)] = None,
    date_from: Annotated[dt.date | None, Query(description="Début (AAAA-MM-JJ)")] = None,
    date_to: Annotated[dt.date | None, Query(description="Fin (AAAA-MM-JJ)")] = None,
    patient: Annotated[str | None, Query(pattern=PSEUDONYM_PATTERN,
                                         description="Pseudonyme d'un de vos patients")] = None,
) -> Slicers:
    """The seed's slicers as query parameters (a dependency of every data route)."""
    params = {k: v for k, v in (("scope", scope), ("sex", sex), ("age_min", age_min),
                                ("age_max", age_max), ("date_from", date_from),
                                ("date_to", date_to), ("patient", patient)) if v is not None}
    try:
        filters = Filters(sex=sex, age_min=age_min, age_max=age_max,
                          period=Period(date_from, date_to), patient_id=patient)
    except ValueError as e:
        raise HTTPException(422, f"Filtres invalides : {e}") from None
    return Slicers(scope, filters, {k: str(v) for k, v in params.items()})


def run_data(request: Request, names: list[str], s: Slicers, action: str = "data.read"
             ) -> DataResult:
    """Indicators through the boundary; its refusals become audited 4xx answers."""
    p = principal_of(request)
    try:
        return request.app.state.data.indicators(
            p, names, scope_choice=s.scope, filters=s.filters, route=request.url.path,
            params=s.params, action=action)
    except AccessDenied as e:
        raise Refused(403, f"Accès refusé : {e}.") from None
    except LookupError as e:
        raise Refused(404, str(e).strip("'\"")) from None
    except ValueError as e:
        raise Refused(422, str(e)) from None
    except ServiceUnavailable as e:
        raise HTTPException(503, str(e)) from None


def displayed(payload: dict) -> dict:
    """The payload plus `display_rows`: French strings, suppressed cells as "< 11"."""
    suppressed = {(r, c) for r, c in payload.get("suppressed_cells", [])}
    label = payload.get("disclosure", {}).get("suppressed_label", "< 11")
    cols = payload.get("columns", [])
    rows = [[label if (i, c["name"]) in suppressed else _shown(c, v) for c, v in zip(cols, row)]
            for i, row in enumerate(payload["rows"])]
    return {**payload, "display_rows": rows}


def _shown(column: dict, value: object) -> str:
    # a year or an age is a label, not a quantity: "2020", never "2 020"
    if column.get("role") == "dimension":
        if isinstance(value, int):
            return str(value)
        value = category_fr(value)
    return display_fr(value)


def fast_json(body: dict) -> JSONResponse:
    """Payloads are plain JSON already (numbers, strings, ISO dates): skip FastAPI's generic
    encoder, which costs ~10× json.dumps on a weekly series of a few thousand rows."""
    return JSONResponse(body)


def scope_options(p: Principal) -> list[dict]:
    return [{"key": k, "label": SCOPE_LABELS_FR[k]} for k in scopes_for(p)]


def csv_text(payload: dict) -> str:
    """A table as a French spreadsheet reads it: ";" separator, decimal comma, dd/mm/yyyy,
    suppressed cells as "< 11" (never 0), a UTF-8 byte-order mark for Excel."""
    suppressed = {(r, c) for r, c in payload.get("suppressed_cells", [])}
    label = payload.get("disclosure", {}).get("suppressed_label", "< 11")
    cols = payload.get("columns", [])
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow([c.get("label_fr", c["name"]) for c in cols])
    for i, row in enumerate(payload["rows"]):
        w.writerow([label if (i, c["name"]) in suppressed else _csv_cell(v)
                    for c, v in zip(cols, row)])
    if payload.get("refused"):
        w.writerow([f"Refusé : {payload['refused']}"])
    return out.getvalue()


def _csv_cell(v: object) -> str:
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, int | float):
        return str(v).replace(".", ",")  # no thousands separator: spreadsheets read numbers
    return display_fr(v)
