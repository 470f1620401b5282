"""Statistical disclosure control, applied at the output boundary according to who asks.

* The GP of the patients — role ``gp`` asking for the scope of their own practitioner pseudonym —
  sees exact figures and line lists (it is their own record).
* Anyone else sees aggregates only:

  1. **primary suppression**: every count from 1 to `small_cell_max` (default 10, settings) is
     suppressed;
  2. **complementary (secondary) suppression**: every *line* of the table (the cells that differ
     in one stratification only, whose total may be published elsewhere — a margin, a total
     indicator) holds either no suppressed cell or at least two, so that no cell is the difference
     between a total and the published cells. We iterate over all lines until stable, then audit
     the result with linear programming (the attacker's best tool: min and max of each suppressed
     cell given every published cell, every line total and non-negativity) and suppress more
     until no suppressed cell has a single feasible value. The audit runs per connected
     component of suppressed cells (the attacker's equations never mix two), and a cell whose
     range a null-space step already proves at least 1 wide needs no linear programme: a weekly
     series of 468 cells is audited with none instead of ≈ 900 (same masks on every table
     compared, see the tests);
  3. **rounding** of the published counts up to a multiple of `rounding_base` (default 5), so that
     differences between overlapping requests (ages 6–10 vs 6–11, two date ranges …) do not
     reveal a suppressed count exactly;
  4. shares are recomputed from the published counts, and statistics (mean, median …) of a row
     with a suppressed count are suppressed with it.

  Suppressed values are null, listed in ``suppressed_cells`` and shown as "< 11", never as 0.
  Line lists are refused.

Numbers and sources (DOMAIN.md §4): no French number is fixed by law; the data-access centre for
hospital data (CASD / AP-HP EDS practice) masks every cell under 11 and requires secondary
suppression; OpenSAFELY's output policy redacts counts ≤ 7 and rounds to the nearest 5.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Roles of the platform (DOMAIN.md §6); `department` is the teaching department (DMG) that
#: follows its interns' logbooks beside their supervisors.
ROLES: tuple[str, ...] = ("gp", "intern", "supervisor", "department", "researcher",
                          "data_steward", "ethics", "epidemiologist", "admin")
#: Counts 1..10 are small cells: the hospital data-access centre masks any cell under 11
#: (DOMAIN.md §4). The live value comes from `Settings.small_cell_max`.
SMALL_CELL_MAX = 10
#: Published counts are rounded to a multiple of 5, as OpenSAFELY's output policy does (DOMAIN.md
#: §4), to defeat differencing between overlapping filters (upwards: see `round_to`).
ROUNDING_BASE = 5
#: Above this many cells the linear-programming audit is skipped (the line rule still applies);
#: dashboards' tables are far smaller.
LP_AUDIT_MAX_CELLS = 2000


class DisclosureRefused(PermissionError):
    """The requester may not see this output at all (a line list for someone else's patients)."""


@dataclass(frozen=True)
class Requester:
    role: str
    practitioner_id: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"rôle inconnu : {self.role!r}. Rôles : {', '.join(ROLES)}")


@dataclass(frozen=True)
class Policy:
    small_cell_max: int = SMALL_CELL_MAX
    rounding_base: int = ROUNDING_BASE

    @classmethod
    def from_settings(cls, settings) -> Policy:
        return cls(small_cell_max=settings.small_cell_max)

    @property
    def suppressed_label(self) -> str:
        return f"< {self.small_cell_max + 1}"


def sees_exact(requester: Requester, scope: dict) -> bool:
    """Only a GP looking at their own patients (scope = their own pseudonym) sees exact values."""
    return (requester.role == "gp" and requester.practitioner_id is not None
            and scope.get("kind") == "practitioner"
            and scope.get("value") == requester.practitioner_id)


# --- cell suppression on one count column ------------------------------------------------------


def _lines(keys: Sequence[tuple]) -> list[list[int]]:
    """Index lists of the table's lines: cells equal on every stratification but one."""
    n_dims = len(keys[0]) if keys else 0
    if n_dims == 0:
        return []
    lines: list[list[int]] = []
    for j in range(n_dims):
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, k in enumerate(keys):
            groups[k[:j] + k[j + 1:]].append(i)
        lines.extend(groups.values())
    return lines


def _pick_complement(line: list[int], values: np.ndarray, suppressed: np.ndarray) -> int | None:
    """The published cell of the line to suppress too: the smallest non-zero one (a zero adds
    little uncertainty), else a zero, else none."""
    free = [i for i in line if not suppressed[i]]
    if not free:
        return None
    positive = [i for i in free if values[i] > 0]
    pool = positive or free
    return min(pool, key=lambda i: (values[i], i))


def _line_rule(lines: list[list[int]], values: np.ndarray, suppressed: np.ndarray) -> None:
    changed = True
    while changed:
        changed = False
        for line in lines:
            if int(suppressed[line].sum()) == 1:
                c = _pick_complement(line, values, suppressed)
                if c is not None:
                    suppressed[c] = True
                    changed = True


def published_totals(values: np.ndarray, keys: Sequence[tuple], small_cell_max: int
                     ) -> list[list[int]]:
    """The lines whose totals an attacker knows: those that the margin tables (the same count
    stratified by every dimension but one, themselves protected) publish, and the grand total
    unless it is a small cell."""
    n_dims = len(keys[0]) if keys else 0
    known: list[list[int]] = []
    for j in range(n_dims):
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, k in enumerate(keys):
            groups[k[:j] + k[j + 1:]].append(i)
        if n_dims == 1:
            continue  # the margin of a one-way table is its grand total, below
        lines = list(groups.values())
        totals = [int(values[line].sum()) for line in lines]
        hidden = suppress(totals, list(groups), small_cell_max)
        known += [line for line, h in zip(lines, hidden) if not h]
    grand = values.sum()
    if not 1 <= grand <= small_cell_max:
        known.append(list(range(len(values))))
    return known


def feasible_range(values: np.ndarray, suppressed: np.ndarray, known: list[list[int]],
                   cell: int) -> tuple[float, float]:
    """Attacker's view: min and max of a suppressed cell given the published cells, the known
    line totals and non-negativity (linear programming)."""
    from scipy.optimize import linprog

    hidden = np.flatnonzero(suppressed)
    pos = {c: k for k, c in enumerate(hidden)}
    rows, rhs = [], []
    for line in known:
        h = [pos[i] for i in line if suppressed[i]]
        if not h:
            continue
        row = np.zeros(len(hidden))
        row[h] = 1.0
        rows.append(row)
        rhs.append(float(values[line].sum() - values[[i for i in line if not suppressed[i]]].sum()))
    if not rows:
        return 0.0, float("inf")
    a_eq, b_eq = np.array(rows), np.array(rhs)
    c = np.zeros(len(hidden))
    c[pos[cell]] = 1.0
    lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    top = float("inf") if hi.status == 3 else -hi.fun
    return float(lo.fun), top


def _hidden_components(suppressed: np.ndarray, known: list[list[int]]
                       ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Connected components of the suppressed cells, two cells being linked when a known total
    holds both: the attacker's equations never mix two components, so each is audited alone.

    Returns the hidden cell indices and, per component, (positions in `hidden`, rows of the
    equation matrix restricted to that component)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    hidden = np.flatnonzero(suppressed)
    pos = np.full(len(suppressed), -1)
    pos[hidden] = np.arange(len(hidden))
    eq_rows, eq_cols = [], []
    for r, line in enumerate(known):
        h = pos[np.asarray(line, dtype=int)]
        h = h[h >= 0]
        eq_rows.append(np.full(len(h), r))
        eq_cols.append(h)
    rows = np.concatenate(eq_rows) if eq_rows else np.zeros(0, int)
    cols = np.concatenate(eq_cols) if eq_cols else np.zeros(0, int)
    a = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(known), len(hidden)))
    # cells sharing an equation are adjacent: AᵀA is the adjacency (with self-loops)
    n_comp, label = connected_components(a.T @ a, directed=False)
    a = a.tocsc()
    comps = []
    for k in range(n_comp):
        members = np.flatnonzero(label == k)
        sub = a[:, members]
        used = np.flatnonzero(sub.getnnz(axis=1))
        comps.append((members, sub[used].toarray()))
    return hidden, comps


@functools.cache
def _blas():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _certified_wide(a_eq: np.ndarray, x: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """For each cell of `cells` (positions in x), whether the attacker's feasible range of that
    cell is proven at least 1 wide, without linear programming.

    The true values `x` satisfy the equations `a_eq` and are ≥ 0. Moving along the projection d
    of the cell's axis on the null space of `a_eq` keeps every equation; non-negativity bounds
    the step t to [−t₁, t₂] with t₁ = min x_j / d_j over d_j > 0 and t₂ = min x_j / −d_j over
    d_j < 0, so the cell takes every value in an interval of width (t₁ + t₂)·d_cell. That is a
    lower bound of the true width (an LP would find the exact one): cells it cannot certify are
    audited by `feasible_range`."""
    if a_eq.size == 0:
        return np.ones(len(cells), dtype=bool)
    # projection of the cells' axes on the null space: (I − A⁺A) e — with the pseudo-inverse
    # (thin SVD, m × n) rather than a full n × n basis of the null space (0.3 s for the weekly
    # sentinel series of a region, against milliseconds)
    # (a 0/1 matrix with a non-zero entry has a largest singular value ≥ 1: rank cut at 1e-9).
    # One BLAS thread: these matrices are small (≈ 100 × 200 for a region's weekly sentinel
    # series), and OpenBLAS threads contending with DuckDB's made the SVD 0.8 s instead of 5 ms.
    with _blas().limit(limits=1, user_api="blas"):
        d = -np.linalg.pinv(a_eq, rtol=1e-9) @ a_eq[:, cells]
    d[cells, np.arange(len(cells))] += 1.0
    d[np.abs(d) < 1e-9] = 0.0
    xs = np.repeat(x[:, None], len(cells), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(d > 0, xs / np.where(d > 0, d, 1.0), np.inf).min(axis=0)
        down = np.where(d < 0, xs / np.where(d < 0, -d, 1.0), np.inf).min(axis=0)
    diag = d[cells, np.arange(len(cells))]
    width = np.where(diag > 0, (up + down) * np.where(diag > 0, diag, 1.0), 0.0)
    return width >= 1.0 - 1e-9


def _exposed_cell(v: np.ndarray, primary: np.ndarray, suppressed: np.ndarray,
                  known: list[list[int]]) -> int | None:
    """The first primary cell whose value the attacker can pin down (feasible range narrower
    than 0.5), else None. Components are audited separately; the linear programme runs only for
    the cells the null-space bound cannot certify (few: weekly series need none)."""
    hidden, comps = _hidden_components(suppressed, known)
    exposed: list[int] = []
    for members, a_eq in comps:
        cells_global = hidden[members]
        is_primary = primary[cells_global]
        if not is_primary.any():
            continue
        if a_eq.shape[0] == 0:
            continue  # in no published total: anything from 0 to infinity
        local = np.flatnonzero(is_primary)
        safe = _certified_wide(a_eq, v[cells_global], local)
        for k in local[~safe]:
            lo, hi = feasible_range(v, suppressed, known, int(cells_global[k]))
            if hi - lo < 0.5:
                exposed.append(int(cells_global[k]))
                break
    return min(exposed) if exposed else None


def suppress(values: Sequence[int | None], keys: Sequence[tuple], small_cell_max: int
             ) -> np.ndarray:
    """Boolean mask of the cells of one count column to suppress (primary + complementary).

    `keys[i]` is the tuple of stratification values of cell i (empty tuples for a single cell).
    Cells absent from the table are zeros known to everyone.
    """
    v = np.array([0 if x is None else x for x in values], dtype=float)
    primary = (v >= 1) & (v <= small_cell_max)
    suppressed = primary.copy()
    if not primary.any():
        return suppressed
    lines = _lines(list(keys))
    _line_rule(lines, v, suppressed)
    if len(v) > LP_AUDIT_MAX_CELLS or not lines or len(keys[0]) < 2:
        return suppressed  # one line: the line rule alone leaves ≥ 2 unknowns for one total
    known = published_totals(v, keys, small_cell_max)
    while True:
        exposed = _exposed_cell(v, primary, suppressed, known)
        if exposed is None:
            return suppressed
        grew = False
        for line in lines:
            if exposed in line:
                c = _pick_complement(line, v, suppressed)
                if c is not None:
                    suppressed[c] = True
                    grew = True
                    break
        if not grew:  # nothing left to hide in its lines: hide the whole table
            suppressed[:] = v > 0
            return suppressed
        _line_rule(lines, v, suppressed)


def round_to(value: int, base: int) -> int:
    """Round *up* to a multiple of `base` (no rounding for base ≤ 1); 0 stays 0.

    Upward, not to the nearest: with nearest rounding a published "10" could only mean 11 or 12
    (10 and below are suppressed), and two overlapping requests published as 10 and 10 would give
    their difference as 1 ± 1. Rounded up, every published multiple m of 5 stands for the five
    values m−4..m, and any difference of two published counts spans at least 9 values.
    """
    if base <= 1:
        return int(value)
    return int(-(-int(value) // base) * base)


# --- payload --------------------------------------------------------------------------------------


def protect(payload: dict, requester: Requester, policy: Policy = Policy()) -> dict:
    """The payload as `requester` may see it (a new dict; the input is not changed)."""
    if sees_exact(requester, payload.get("scope", {})):
        out = {**payload, "rows": [list(r) for r in payload["rows"]]}
        out["disclosure"] = {"applied": False, "role": requester.role,
                             "reason": "médecin traitant : ses propres patients"}
        out["suppressed_cells"] = []
        return out
    if payload.get("kind") == "line_list":
        raise DisclosureRefused(
            f"la liste nominative « {payload.get('title_fr')} » n'est accessible qu'au médecin "
            "de ces patients (rôle gp, --practitioner = son propre pseudonyme)")
    # rows are rewritten below: copy them, and the small dicts, not the whole payload deeply
    out = {**payload, "rows": [list(r) for r in payload["rows"]],
           "columns": [dict(c) for c in payload["columns"]]}
    columns = payload["columns"]
    names = [c["name"] for c in columns]
    rows = out["rows"]
    dims = [i for i, c in enumerate(columns) if c.get("role") == "dimension"]
    keys = [tuple(r[i] for i in dims) for r in rows]
    counts = [i for i, c in enumerate(columns) if c.get("kind") == "count"]
    masks: dict[int, np.ndarray] = {}
    for i in counts:
        masks[i] = suppress([r[i] for r in rows], keys, policy.small_cell_max)
    row_hidden = np.zeros(len(rows), dtype=bool)
    for m in masks.values():
        row_hidden |= m
    suppressed_cells: list[list] = []
    for i in counts:
        for r_idx, r in enumerate(rows):
            if masks[i][r_idx]:
                r[i] = None
                suppressed_cells.append([r_idx, names[i]])
            elif r[i] is not None:
                r[i] = round_to(r[i], policy.rounding_base)
    for i, c in enumerate(columns):
        if c.get("kind") == "share":
            num, den = names.index(c["numerator"]), names.index(c["denominator"])
            for r_idx, r in enumerate(rows):
                if r[num] is None or r[den] is None or r[den] == 0:
                    if r[i] is not None and (r[num] is None or r[den] is None):
                        suppressed_cells.append([r_idx, c["name"]])
                    r[i] = None
                else:
                    r[i] = round(100.0 * r[num] / r[den], 1)
        elif c.get("kind") == "statistic":
            for r_idx, r in enumerate(rows):
                if row_hidden[r_idx] and r[i] is not None:
                    r[i] = None
                    suppressed_cells.append([r_idx, c["name"]])
    out["suppressed_cells"] = sorted(suppressed_cells, key=lambda x: (x[0], names.index(x[1])))
    out["disclosure"] = {
        "applied": True,
        "role": requester.role,
        "small_cell_max": policy.small_cell_max,
        "rounding_base": policy.rounding_base,
        "suppressed_label": policy.suppressed_label,
        "method": "suppression des effectifs de 1 à {k}, suppression complémentaire par ligne "
                  "et colonne vérifiée par programmation linéaire, arrondi à {b}".format(
                      k=policy.small_cell_max, b=policy.rounding_base),
    }
    return out


def display_value(payload: dict, row: int, column: str) -> object:
    """Value as shown to a user: the "< 11" label for a suppressed cell."""
    if [row, column] in payload.get("suppressed_cells", []):
        return payload.get("disclosure", {}).get("suppressed_label", "< 11")
    return payload["rows"][row][[c["name"] for c in payload["columns"]].index(column)]
