"""Run indicators for a requester: compile, execute, then disclosure control at the boundary.

This is the one function the CLI and the API call, so that no figure leaves unprotected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from p4dp.analytics.compile import IndicatorError, Warehouse, run_indicators
from p4dp.analytics.library import all_indicators, get
from p4dp.analytics.model import Filters, Indicator, Scope
from p4dp.privacy.disclosure import DisclosureRefused, Policy, Requester, protect, sees_exact


def run_protected(wh: Warehouse, names: Iterable[str], requester: Requester,
                  scope: Scope = Scope(), filters: Filters | None = None,
                  policy: Policy = Policy()) -> Iterator[dict]:
    """Payloads of the named indicators (all when empty) as `requester` may see them.

    A refused line list yields a payload with `refused` set and no rows, and an indicator that
    does not apply to the scope (a GP's "personnel" top for a region) one with `error` set, so
    that a dashboard still shows its other panels.
    """
    names = list(names) or list(all_indicators())
    filters = filters or Filters()
    inds = [get(name) for name in names]
    refused: dict[str, str] = {}
    for ind in inds:
        if ind.is_line_list and not sees_exact(requester, scope.as_dict()):
            # refused before any query runs: a line list never exists for the wrong person
            try:
                protect({**_empty(ind, scope, filters), "kind": "line_list"}, requester, policy)
            except DisclosureRefused as e:
                refused[ind.name] = str(e)
    to_run = [ind for ind in inds if ind.name not in refused]
    results = dict(zip([i.name for i in to_run], run_indicators(wh, to_run, scope, filters)))
    for ind in inds:
        if ind.name in refused:
            yield {**_empty(ind, scope, filters), "refused": refused[ind.name]}
            continue
        payload = results[ind.name]
        if isinstance(payload, IndicatorError):
            yield {**_empty(ind, scope, filters), "error": str(payload)}
            continue
        try:
            yield protect(payload, requester, policy)
        except DisclosureRefused as e:
            yield {**{k: payload[k] for k in ("indicator", "theme", "title_fr", "kind", "scope",
                                               "filters", "generated_at")},
                   "columns": payload["columns"], "rows": [], "refused": str(e)}


def _empty(ind: Indicator, scope: Scope, filters: Filters) -> dict:
    return {"indicator": ind.name, "theme": ind.theme, "title_fr": ind.title_fr,
            "kind": "line_list" if ind.is_line_list else "aggregate",
            "scope": scope.as_dict(), "filters": filters.as_dict(), "columns": [], "rows": []}


def open_warehouse(path: Path | str, cache_dir: Path | None = None) -> Warehouse:
    """The warehouse, read-only; compiled SQL is kept in `cache_dir` across processes."""
    return Warehouse.open(path, cache_dir=cache_dir)
