"""The output boundary: every figure the web app or the API returns comes out of here.

`DataService.indicators` checks the user's capabilities and scope (`access`), runs the indicators
through `run_protected` (disclosure control for the requester) and appends one audit entry per
request — who, route, parameters, scope, rows and cells returned — whether it succeeds or is
refused. Nothing else in the web app opens the warehouse.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from p4dp.analytics.compile import Warehouse
from p4dp.analytics.library import all_indicators
from p4dp.analytics.model import Filters, Scope
from p4dp.analytics.runner import open_warehouse, run_protected
from p4dp.governance.access import (AccessDenied, Principal, may_see_whole_base, resolve_scope,
                                    themes_for)
from p4dp.governance.audit import Event, record
from p4dp.governance.store import Store
from p4dp.privacy.disclosure import Policy, sees_exact

#: Most indicators one request may ask for (a dashboard tab has at most 16).
MAX_INDICATORS_PER_REQUEST = 20
#: Protected payloads kept in memory, keyed by requester, scope, filters and the warehouse file's
#: modification time (a new load changes it, so nothing stale is served).
RESULT_CACHE_SIZE = 512
#: Warming fills at most half of the cache: the rest is for what users actually ask.
WARM_MAX_PAYLOADS = RESULT_CACHE_SIZE // 2


class ServiceUnavailable(RuntimeError):
    """The warehouse is missing; the message tells the operator what to do."""


@dataclass(frozen=True)
class DataResult:
    scope_key: str
    scope: Scope
    payloads: list[dict]

    @property
    def rows(self) -> int:
        return sum(len(p["rows"]) for p in self.payloads)

    @property
    def cells(self) -> int:
        return sum(sum(v is not None for v in r) for p in self.payloads for r in p["rows"])


class DataService:
    """Read access to the warehouse for logged-in users, through the boundary."""

    def __init__(self, store: Store, warehouse_path: Path | str, *, policy: Policy = Policy(),
                 pool_size: int = 2, cache_dir: Path | None = None):
        self.store = store
        self.warehouse_path = Path(warehouse_path)
        self.policy = policy
        self._pool_size = pool_size
        self._cache_dir = cache_dir
        self._pool: queue.Queue[Warehouse] | None = None
        self._pool_lock = threading.Lock()
        self._cache: OrderedDict[tuple, dict] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._inflight: dict[tuple, threading.Lock] = {}
        #: Who the default views are computed for after a start or a load (`warm_after_loads`).
        self._principals: Callable[[], list[Principal]] | None = None
        self._warmed_stamp: float | None = None
        self._closed = False

    # --- warehouse connections -------------------------------------------------------------

    @contextmanager
    def warehouse(self) -> Iterator[Warehouse]:
        """One of `pool_size` read-only connections (a DuckDB connection serves one thread)."""
        with self._pool_lock:
            if self._pool is None:
                if not self.warehouse_path.is_file():
                    raise ServiceUnavailable(
                        "entrepôt introuvable : lancez `p4dp demo` ou `p4dp ingest`, ou indiquez "
                        "P4DP_WAREHOUSE_PATH")
                pool: queue.Queue[Warehouse] = queue.Queue()
                for _ in range(self._pool_size):
                    pool.put(open_warehouse(self.warehouse_path, self._cache_dir))
                self._pool = pool
            pool = self._pool
        wh = pool.get()
        try:
            yield wh
        finally:
            with self._pool_lock:
                current = self._pool is pool
            if current:
                pool.put(wh)
            else:  # the pool was closed meanwhile (a warming thread at shutdown)
                wh.backend.disconnect()

    def close(self) -> None:
        self._closed = True
        with self._pool_lock:
            if self._pool is not None:
                while not self._pool.empty():
                    self._pool.get().backend.disconnect()
                self._pool = None

    # --- warming: the default view of every tab, computed before anyone asks ----------------

    def warm_after_loads(self, principals: Callable[[], list[Principal]]) -> None:
        """From now on, after the start and after each new load (the warehouse file changes),
        compute in a background thread the default view (default scope, no slicer) of every
        tab each of `principals()` may open, into the result cache: the first visitor of a tab
        reads it instead of waiting for its queries."""
        self._principals = principals
        self._maybe_warm()

    def _maybe_warm(self) -> None:
        stamp = self._stamp()
        with self._cache_lock:
            if (self._principals is None or self._closed or stamp == self._warmed_stamp
                    or not self.warehouse_path.is_file()):
                return
            self._warmed_stamp = stamp
        threading.Thread(target=self.warm, args=(self._principals(),), daemon=True,
                         name="p4dp-warm").start()

    def warm(self, principals: Sequence[Principal]) -> int:
        """Default views of every tab of each principal into the result cache (one connection
        at a time: users keep the others), shared scopes (researchers…) before personal ones
        (each GP), at most `WARM_MAX_PAYLOADS`; not audited, nobody receives the figures.
        Returns the number of tabs computed."""
        from p4dp.analytics.library import by_theme

        done = payloads = 0
        for p in sorted(principals, key=lambda p: p.practitioner_id is not None):
            for theme in themes_for(p.role):
                inds = list(by_theme(theme))
                payloads += len(inds)
                if self._closed or payloads > WARM_MAX_PAYLOADS:
                    return done
                try:
                    _, scope = resolve_scope(p, None)
                    self._payloads(p, inds, scope, Filters(), may_see_whole_base(p), warm=True)
                    done += 1
                except Exception:  # a tab that fails here fails again, reported, when asked
                    logging.getLogger(__name__).exception("warming %s for %s", theme,
                                                          p.username)
        return done

    def _stamp(self) -> float:
        try:
            return os.stat(self.warehouse_path).st_mtime
        except OSError:
            return 0.0

    # --- the boundary ----------------------------------------------------------------------

    def indicators(self, p: Principal, names: Sequence[str], *, scope_choice: str | None,
                   filters: Filters, route: str, params: dict,
                   action: str = "data.read") -> DataResult:
        """Protected payloads of `names` for `p`; audited (also when refused)."""
        scope_key, scope = None, None
        try:
            names = list(dict.fromkeys(names))
            if not names or len(names) > MAX_INDICATORS_PER_REQUEST:
                raise ValueError(f"de 1 à {MAX_INDICATORS_PER_REQUEST} indicateurs par requête")
            inds = all_indicators()
            for n in names:
                if n not in inds:
                    raise LookupError(f"indicateur inconnu : {n[:60]!r}")
                if not p.can(f"theme:{inds[n].theme}"):
                    raise AccessDenied(f"le thème « {inds[n].theme} » n'est pas accessible à "
                                       "votre rôle")
            scope_key, scope = resolve_scope(p, scope_choice)
            exact = sees_exact(p.requester, scope.as_dict())
            if filters.patient_id and not exact:
                raise AccessDenied("le filtre « patient » est réservé au médecin du patient, sur "
                                   "le périmètre « personnel »")
            whole_base = may_see_whole_base(p)
            payloads = self._payloads(p, [inds[n] for n in names], scope, filters, whole_base)
        except (AccessDenied, LookupError, ValueError) as e:
            record(self.store, Event(
                actor=p.username, role=p.role, action=action, target=route, params=params,
                scope=scope.as_dict() if scope else {"requested": scope_choice},
                outcome="denied" if isinstance(e, AccessDenied) else "invalid"))
            raise
        result = DataResult(scope_key, scope, payloads)
        record(self.store, Event(actor=p.username, role=p.role, action=action, target=route,
                                 params=params, scope={**scope.as_dict(), "choice": scope_key},
                                 rows=result.rows, cells=result.cells))
        return result

    def _payloads(self, p: Principal, inds: list, scope: Scope, filters: Filters,
                  whole_base: bool, warm: bool = False) -> list[dict]:
        """Protected payloads in the order of `inds`: cached ones, then the others in one
        `run_protected` call (a dashboard computes its shared frames once)."""
        if not warm:
            self._maybe_warm()
        exact = sees_exact(p.requester, scope.as_dict())
        stamp = self._stamp()
        request_key = (stamp, p.role, p.practitioner_id if exact else None, scope.kind,
                       scope.value, tuple(sorted(filters.as_dict().items())))
        # one computation per (request, indicators) at a time: users opening the same tab
        # together wait for the first one instead of computing it again each
        flight_key = (request_key, tuple(i.name for i in inds))
        with self._cache_lock:
            flight = self._inflight.setdefault(flight_key, threading.Lock())
        with flight:
            out = self._cached(inds, request_key, scope, whole_base)
            missing = [ind.name for ind in inds if ind.name not in out]
            if missing:
                with self.warehouse() as wh:
                    fresh = list(run_protected(wh, missing, p.requester, scope, filters,
                                               self.policy))
                with self._cache_lock:
                    for payload in fresh:
                        out[payload["indicator"]] = payload
                        self._cache[(payload["indicator"], *request_key)] = payload
                    while len(self._cache) > RESULT_CACHE_SIZE:
                        self._cache.popitem(last=False)
        with self._cache_lock:
            self._inflight.pop(flight_key, None)
        return [out[ind.name] for ind in inds]

    def _cached(self, inds: list, request_key: tuple, scope: Scope, whole_base: bool
                ) -> dict[str, dict]:
        out: dict[str, dict] = {}
        with self._cache_lock:
            for ind in inds:
                if ind.scope_policy == "base" and not whole_base:
                    out[ind.name] = {
                        "indicator": ind.name, "theme": ind.theme, "title_fr": ind.title_fr,
                        "kind": "aggregate", "scope": scope.as_dict(), "columns": [],
                        "rows": [], "refused": "indicateur calculé sur l'ensemble de la base : "
                                               "hors de votre périmètre régional"}
                elif (hit := self._cache.get((ind.name, *request_key))) is not None:
                    self._cache.move_to_end((ind.name, *request_key))
                    out[ind.name] = hit
        return out

    def quality_reports(self, p: Principal, *, route: str, source_id: str | None = None
                        ) -> list[dict]:
        """The stored ingestion quality reports (data stewards); audited."""
        from p4dp.quality import load_reports

        if not p.can("quality"):
            record(self.store, Event(actor=p.username, role=p.role, action="quality.read",
                                     target=route, outcome="denied"))
            raise AccessDenied("la page qualité est réservée au médecin responsable des données")
        with self.warehouse() as wh:
            reports = load_reports(wh.backend.con, source_id=source_id)
        record(self.store, Event(actor=p.username, role=p.role, action="quality.read",
                                 target=route, params={"source_id": source_id},
                                 rows=len(reports)))
        return reports
