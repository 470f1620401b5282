"""Feasibility counts for researchers: total, attrition and breakdowns under disclosure control.

Every published count goes through three steps:

1. **small cells**: a count from 0 to `small_cell_max` (default 10: the hospital data-access
   centre masks cells under 11, DOMAIN.md §4) is not published ("< 11"). Zero is hidden too: a
   feasibility answer "0" against "< 11" would tell whether one given patient exists;
2. **bounded noise**: an integer drawn uniformly in [−`NOISE_BOUND`, +`NOISE_BOUND`] is added. It
   is *deterministic*: an HMAC, under a secret key of the platform, of the data version (the
   loaded batches and withdrawals), the user, and a fingerprint of the **set of patients** the
   cell counts. Repeating a query gives the same answer, so averaging repeats learns nothing; and
   because the seed is the patient set rather than the wording of the definition, rephrasing a
   definition ("age ≤ 120" added) draws no fresh noise either. The same definition, data version
   and user therefore always give the same figures;
3. **rounding up** to a multiple of `ROUNDING_BASE` (5, OpenSAFELY's output policy; upwards as
   `p4dp.privacy.disclosure.round_to` explains), never below the first value above the
   small-cell threshold.

With noise on every cell, a difference of two published counts (a total minus its regions, a
query minus a slightly narrower one) is off by up to 2 × (`NOISE_BOUND` + `ROUNDING_BASE` − 1):
it cannot pin a small count. What it cannot stop is an attacker who asks *many different* pairs
of queries that differ by the same patient; that is what the audit of every query (returned with
each payload, written by governance) is for.

Breakdowns by role (`BREAKDOWNS`): researchers see the total, the attrition and the regions;
data stewards and admins the practices too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.analytics.compile import Warehouse
from p4dp.analytics.display import format_number_fr
from p4dp.cohorts.compile import attrition_frame, index_date_of
from p4dp.cohorts.criteria import Cohort
from p4dp.cohorts.labels import rule_label_fr
from p4dp.privacy.disclosure import Policy, Requester, round_to

#: Noise bound: every published count is moved by at most ±3 before rounding. i2b2 obfuscates
#: cohort counts with Gaussian noise of σ ≈ 1.3 (DOMAIN.md §4), whose values fall within ±3
#: (2.3 σ) 98 % of the time; a uniform draw on ±3 (σ = 2) is bounded and wider.
NOISE_BOUND = 3
#: Breakdowns each role may see beside the total and the attrition table.
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "researcher": ("region",), "epidemiologist": ("region",), "ethics": ("region",),
    "gp": ("region",), "supervisor": ("region",), "intern": (),
    "data_steward": ("region", "practice"), "admin": ("region", "practice"),
}
#: File of the platform's noise key (32 random bytes), created on first use, owner-readable only.
NOISE_KEY_FILE = "cohort_noise.key"
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


# --- data version and secret -------------------------------------------------------------------


def data_version(wh: Warehouse) -> str:
    """Fingerprint of the warehouse content: the loaded batches and the withdrawals carried out
    (a withdrawal changes the data without a new batch)."""
    lb = wh.table("load_batch")
    batches = lb.filter(lb.status == "loaded").batch_id.name("b").to_pyarrow()
    w = wh.table("withdrawal")
    wd = w.aggregate(n=w.count(), last=w.requested_at.max()).to_pyarrow().to_pylist()[0]
    h = hashlib.sha256()
    for b in sorted(batches.to_pylist()):
        h.update(b.encode() + b"\n")
    h.update(f"withdrawals {wd['n']} {wd['last']}".encode())
    return h.hexdigest()[:16]


def noise_key(home: Path) -> bytes:
    """The platform's noise key in `home`, created (owner-readable only) when missing."""
    path = Path(home) / NOISE_KEY_FILE
    if path.is_file():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(key)
    tmp.chmod(0o600)
    tmp.replace(path)
    return key


# --- per-cell deterministic noise --------------------------------------------------------------


def patient_hashes(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of each patient id (vectorised polynomial hash of the bytes, then the
    splitmix64 finaliser). Sums of these identify a set of patients whatever its order."""
    a = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    a = pc.cast(a, pa.large_string())
    if len(a) == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets = np.frombuffer(a.buffers()[1], dtype=np.int64)[a.offset:a.offset + len(a) + 1]
    data = np.frombuffer(a.buffers()[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    if (lengths <= 0).any():
        raise ValueError("empty patient id")
    ends = np.repeat(offsets[1:], lengths)
    pos = np.arange(offsets[0], offsets[-1])
    powers = np.ones(int(lengths.max()), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(1, len(powers)):
            powers[k] = powers[k - 1] * np.uint64(1_000_003)
        contrib = data[offsets[0]:offsets[-1]].astype(np.uint64) * powers[ends - 1 - pos]
        h = np.add.reduceat(contrib, offsets[:-1] - offsets[0])
        h = h + _GOLDEN
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def cell_noise(key: bytes, fingerprint: int, count: int, version: str, user: str) -> int:
    """The noise of one cell: uniform integer in [−NOISE_BOUND, NOISE_BOUND], the same for the
    same (patient set, data version, user)."""
    msg = f"{fingerprint:016x}|{count}|{version}|{user}".encode()
    digest = hmac.new(key, msg, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (2 * NOISE_BOUND + 1) - NOISE_BOUND


@dataclass(frozen=True)
class Protector:
    key: bytes
    version: str
    user: str
    policy: Policy

    def publish(self, count: int, hashes: np.ndarray) -> int | None:
        """The published value of a cell counting the patients whose hashes are given (None =
        suppressed)."""
        if count <= self.policy.small_cell_max:
            return None
        with np.errstate(over="ignore"):
            fp = int(hashes.sum(dtype=np.uint64))
        noisy = count + cell_noise(self.key, fp, count, self.version, self.user)
        return round_to(max(noisy, self.policy.small_cell_max + 1), self.policy.rounding_base)


# --- the query ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exact:
    """Exact result of a cohort on the base population (never leaves this module unprotected)."""

    index_date: dt.date
    steps: np.ndarray        # per base patient: rules passed in order
    hashes: np.ndarray       # per base patient
    region: np.ndarray       # per base patient (object)
    practice: np.ndarray

    def attrition(self, n_rules: int) -> list[tuple[int, np.ndarray]]:
        return [(int(m.sum()), m) for m in (self.steps >= i for i in range(n_rules + 1))]


def _attrition_table(wh: Warehouse, cohort: Cohort, index: dt.date) -> pa.Table:
    """The attrition frame's rows. On DuckDB the compiled SQL is kept per (definition, index
    date) in the warehouse's SQL cache: a cohort builder re-asks the same definition while the
    user edits labels or looks at breakdowns, and Ibis compilation costs as much as the query."""
    if getattr(wh.backend, "name", "") != "duckdb" or not wh.use_sql_cache:
        return wh.backend.to_pyarrow(attrition_frame(wh, cohort, index))
    key = ("cohort", cohort.semantic_hash(), index)
    sql = wh.sql_cache.get(key)
    if sql is None:
        import ibis
        import ibis.expr.operations as ops

        expr = attrition_frame(wh, cohort, index)
        if expr.op().find(ops.InMemoryTable):  # reference tables must be registered: no cache
            return wh.backend.to_pyarrow(expr)
        sql = wh.sql_cache[key] = str(ibis.to_sql(expr, dialect="duckdb"))
    out = wh.backend.con.execute(sql).arrow()
    return out.read_all() if hasattr(out, "read_all") else out


def evaluate(wh: Warehouse, cohort: Cohort, index_date: dt.date | None = None) -> Exact:
    """Run the cohort: one query, one row per base patient."""
    index = index_date_of(cohort, index_date)
    t = _attrition_table(wh, cohort, index)
    return Exact(index, t["step"].to_numpy(), patient_hashes(t["patient_id"]),
                 t["region_code"].to_numpy(zero_copy_only=False),
                 t["practice_id"].to_numpy(zero_copy_only=False))


def _breakdown(ex: Exact, final: np.ndarray, column: np.ndarray, prot: Protector,
               name: str) -> list[dict]:
    rows = []
    for value in sorted({v for v in column if v is not None}):
        m = final & (column == value)
        n = int(m.sum())
        rows.append({name: value, "count": prot.publish(n, ex.hashes[m])})
    return rows


@dataclass(frozen=True)
class Answer:
    """A payload for the requester and the facts governance audits."""

    payload: dict
    audit: dict


def feasibility(wh: Warehouse, cohort: Cohort, requester: Requester, user: str, key: bytes,
                policy: Policy = Policy(), index_date: dt.date | None = None,
                version: str | None = None) -> Answer:
    """Total, attrition and the breakdowns the requester's role may see, protected (a pure
    function of its arguments and the warehouse: governance writes the audit it returns)."""
    ex = evaluate(wh, cohort, index_date)
    version = version or data_version(wh)
    prot = Protector(key, version, user, policy)
    steps = ex.attrition(len(cohort.rules))
    labels = ["Population de base (patients vivants, sans opposition)"] + [
        rule_label_fr(r) for r in cohort.rules]
    attrition, previous = [], None
    for i, ((n, m), label) in enumerate(zip(steps, labels)):
        value = prot.publish(n, ex.hashes[m])
        if value is not None and previous is not None:
            value = min(value, previous)  # post-processing: the table stays non-increasing
        previous = value if value is not None else previous
        attrition.append({"step": i, "rule": label, "count": value})
    final_n, final = steps[-1]
    total = attrition[-1]["count"]
    payload = {
        "cohort": cohort.name, "title_fr": cohort.title_fr, "version": cohort.version,
        "definition_hash": cohort.semantic_hash(), "data_version": version,
        "index_date": ex.index_date.isoformat(),
        "requester": {"role": requester.role, "user": user},
        "total": total, "total_fr": display_count(total, policy),
        "attrition": attrition,
    }
    allowed = BREAKDOWNS.get(requester.role, ())
    if "region" in allowed:
        payload["by_region"] = _breakdown(ex, final, ex.region, prot, "region_code")
    if "practice" in allowed:
        payload["by_practice"] = _breakdown(ex, final, ex.practice, prot, "practice_id")
    cells = [payload["total"], *[a["count"] for a in attrition],
             *[r["count"] for r in payload.get("by_region", [])],
             *[r["count"] for r in payload.get("by_practice", [])]]
    payload["disclosure"] = {
        "applied": True, "small_cell_max": policy.small_cell_max,
        "suppressed_label": policy.suppressed_label, "noise_bound": NOISE_BOUND,
        "rounding_base": policy.rounding_base,
        "method": (f"effectifs de 0 à {policy.small_cell_max} masqués, bruit borné ±{NOISE_BOUND} "
                   "déterministe (ensemble de patients, version des données, utilisateur), "
                   f"arrondi au multiple de {policy.rounding_base} supérieur"),
    }
    audit = {"action": "cohort.count", "user": user, "role": requester.role,
             "cohort": cohort.name, "cohort_version": cohort.version,
             "definition_hash": cohort.semantic_hash(), "data_version": version,
             "index_date": ex.index_date.isoformat(), "cells_returned": len(cells),
             "cells_suppressed": sum(c is None for c in cells), "rows_returned": 0}
    return Answer(payload, audit)


def display_count(value: int | None, policy: Policy = Policy()) -> str:
    """A published count as shown in French ("1 325", "< 11")."""
    return policy.suppressed_label if value is None else format_number_fr(value)


__all__ = ["Answer", "BREAKDOWNS", "NOISE_BOUND", "data_version", "evaluate",
           "feasibility", "noise_key", "patient_hashes"]
