"""Small columnar helpers shared by checks and repairs (Arrow in, NumPy masks out)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.quality.constants import BIRTH_DAY_OF_MONTH, DAYS_PER_MONTH

EPOCH = dt.date(1970, 1, 1)


def col(table: pa.Table, name: str) -> pa.Array:
    c = table.column(name)
    return c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c


def mask(arr: pa.Array) -> np.ndarray:
    """Boolean Arrow array → NumPy bool, nulls as False."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def floats(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def days(arr: pa.Array) -> np.ndarray:
    """date32 → days since 1970-01-01 as float (NaN for null)."""
    return floats(pc.cast(arr, pa.int32()))


def strings(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def to_days(d: dt.date) -> int:
    return (d - EPOCH).days


def month_start_days(year: np.ndarray, month: np.ndarray, day: int = 1) -> np.ndarray:
    """Days since epoch of year-month-day, vectorised; NaN where the year is unknown.

    A missing month counts as January 1st for lower bounds (``day=1``: never later than the real
    birth) and as July 1st, the middle of the year, for ages.
    """
    y = np.asarray(year, dtype=np.float64)
    m = np.asarray(month, dtype=np.float64)
    known = np.isfinite(y)
    m_ok = np.isfinite(m) & (m >= 1) & (m <= 12)
    if day == 1:
        mm, dd = np.where(m_ok, m, 1.0), np.ones(len(y))
    else:
        mm, dd = np.where(m_ok, m, 7.0), np.where(m_ok, float(day), 1.0)
    out = np.full(len(y), np.nan)
    if known.any():
        months = ((y[known] - 1970) * 12 + (mm[known] - 1)).astype("int64")
        first = (np.datetime64("1970-01", "M") + months.astype("timedelta64[M]")).astype(
            "datetime64[D]")
        out[known] = (first - np.datetime64("1970-01-01", "D")).astype("int64") + dd[known] - 1
    return out


@dataclass(frozen=True)
class Patients:
    """Per-patient facts the row-level checks need, aligned on `ids`."""

    ids: pa.Array
    sex: np.ndarray
    birth_start: np.ndarray  # first day of the birth month (NaN unknown)
    birth_mid: np.ndarray  # mid-month birth day used for ages (NaN unknown)
    death: np.ndarray  # NaN when alive or unknown

    @classmethod
    def from_table(cls, patient: pa.Table) -> "Patients":
        year = floats(col(patient, "birth_year"))
        month = floats(col(patient, "birth_month"))
        return cls(
            ids=col(patient, "patient_id"),
            sex=strings(col(patient, "sex")),
            birth_start=month_start_days(year, month, 1),
            birth_mid=month_start_days(year, month, BIRTH_DAY_OF_MONTH),
            death=days(col(patient, "death_date")),
        )

    @classmethod
    def empty(cls) -> "Patients":
        e = np.zeros(0)
        return cls(pa.array([], pa.string()), np.zeros(0, dtype=object), e, e, e)

    def lookup(self, patient_ids: pa.Array) -> np.ndarray:
        """Index into this table for each id (−1 when unknown)."""
        idx = pc.index_in(patient_ids, value_set=self.ids)
        return np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)

    def take(self, values: np.ndarray, idx: np.ndarray, missing=np.nan) -> np.ndarray:
        out = np.full(len(idx), missing, dtype=values.dtype if values.dtype == object else float)
        ok = idx >= 0
        out[ok] = values[idx[ok]]
        return out


def age_months(reading_days: np.ndarray, birth_mid: np.ndarray) -> np.ndarray:
    return (reading_days - birth_mid) / DAYS_PER_MONTH
