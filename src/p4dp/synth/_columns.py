"""Vectorised helpers shared by the generator's modules (dates as int days, strings as Arrow)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = date(1970, 1, 1)


def day(d: date) -> int:
    """Days since 1970-01-01 (the Arrow date32 convention)."""
    return (d - EPOCH).days


def to_date32(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.int32(), mask=mask).cast(pa.date32())


def year_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def month_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def year_start(years: np.ndarray) -> np.ndarray:
    return (np.asarray(years, dtype=np.int64) - 1970).astype("datetime64[Y]").astype(
        "datetime64[D]").astype(np.int64)


def age_years(birth: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Exact age in completed years from integer date parts (no 365.25 drift at birthdays)."""
    b = np.asarray(birth, dtype="datetime64[D]")
    a = np.asarray(at, dtype="datetime64[D]")
    by, ay = b.astype("datetime64[Y]"), a.astype("datetime64[Y]")
    years = (ay.astype(np.int64) - by.astype(np.int64))
    # Compare month-day, not day-of-year, so that leap years do not shift birthdays.
    bm = b.astype("datetime64[M]").astype(np.int64) % 12
    am = a.astype("datetime64[M]").astype(np.int64) % 12
    bd = (b - b.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    ad = (a - a.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    before = (am < bm) | ((am == bm) & (ad < bd))
    return years - before.astype(np.int64)


def age_fraction(birth: np.ndarray, at: np.ndarray) -> np.ndarray:
    return (np.asarray(at, dtype=np.float64) - np.asarray(birth, dtype=np.float64)) / 365.25


def ids(n: int, prefix: str = "", start: int = 1, width: int = 0) -> pa.Array:
    """Local string ids ``prefix + number`` (optionally zero-padded)."""
    s = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64)), pa.string())
    if width:
        s = pc.utf8_lpad(s, width=width, padding="0")
    if prefix:
        s = pc.binary_join_element_wise(prefix, s, "")
    return s


def take(pool: list[str] | pa.Array, idx: np.ndarray) -> pa.Array:
    arr = pool if isinstance(pool, pa.Array) else pa.array(pool, type=pa.string())
    return arr.take(pa.array(np.asarray(idx, dtype=np.int64)))


def join(*parts, sep: str = "") -> pa.Array:
    """Element-wise concatenation of string arrays / scalars (nulls propagate)."""
    return pc.binary_join_element_wise(*parts, sep)


def fmt_number(values: np.ndarray, decimals: int) -> pa.Array:
    """Numbers as text with a fixed number of decimals (``45.30``)."""
    v = np.round(np.asarray(values, dtype=np.float64), decimals)
    scaled = np.round(np.abs(v) * 10**decimals).astype(np.int64)
    ip = pc.cast(pa.array(scaled // 10**decimals), pa.string())
    sign = np.where(v < 0, "-", "")
    if decimals == 0:
        return join(pa.array(sign), ip)
    fp = pc.utf8_lpad(pc.cast(pa.array(scaled % 10**decimals), pa.string()), width=decimals,
                      padding="0")
    return join(pa.array(sign), ip, ".", fp)


def where(mask: np.ndarray, a: pa.Array, b: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), a, b)


def strip_accents(s: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(pc.utf8_normalize(s, form="NFD"), pattern="\\p{Mn}",
                                      replacement="")


def choice_index(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def grouped_choice(rng: np.random.Generator, group: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each row, an index drawn from ``weights[group[row]]`` (weights: groups × choices).

    One vectorised draw per group, so memory stays O(rows) whatever the number of choices."""
    w = np.asarray(weights, dtype=np.float64)
    u = rng.random(len(group))
    out = np.zeros(len(group), dtype=np.int64)
    for g in np.unique(group):
        sel = np.flatnonzero(group == g)
        cum = np.cumsum(w[g])
        if cum[-1] <= 0:
            continue
        out[sel] = np.searchsorted(cum / cum[-1], u[sel], side="right").clip(0, w.shape[1] - 1)
    return out
