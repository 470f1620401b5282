"""Children's growth z-scores from the WHO LMS tables (`p4dp/reference/who_growth_lms.csv`).

z-scores follow the WHO method: the LMS formula z = ((y/M)^L − 1) / (L·S), and, for weight and BMI
(skewed, L ≠ 1), the WHO "restricted" extrapolation beyond ±3 SD, which measures the distance past
±3 SD in units of the 2–3 SD interval (WHO Child Growth Standards 2006, technical report, ch. 7;
WHO AnthroPlus manual). L, M, S are interpolated linearly in age between the monthly rows.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import numpy as np

from p4dp.quality.constants import ADULT_AGE_MONTHS, WHO_WEIGHT_FOR_AGE_MAX_MONTHS

INDICATORS = ("height_for_age", "weight_for_age", "bmi_for_age")
_SKEWED = {"weight_for_age", "bmi_for_age"}


@lru_cache(maxsize=1)
def lms_table() -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(indicator, sex) → (age_months, L, M, S), ages ascending."""
    path = resources.files("p4dp.reference").joinpath("who_growth_lms.csv")
    rows: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    with path.open(encoding="utf-8") as f:
        for line_no, row in enumerate(csv.DictReader(f), start=2):
            try:
                key = (row["indicator"], row["sex"])
                rows.setdefault(key, []).append(
                    (float(row["age_months"]), float(row["L"]), float(row["M"]), float(row["S"]))
                )
            except (KeyError, ValueError) as e:  # pragma: no cover - the file ships with the package
                raise ValueError(f"who_growth_lms.csv line {line_no}: bad row {row!r} ({e}); "
                                 "restore the file from the package") from None
    out = {}
    for key, values in rows.items():
        arr = np.array(sorted(values), dtype=np.float64)
        out[key] = (arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
    return out


def max_age_months(indicator: str) -> float:
    return WHO_WEIGHT_FOR_AGE_MAX_MONTHS if indicator == "weight_for_age" else ADULT_AGE_MONTHS


def lms_at(indicator: str, sex: np.ndarray, age_months: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L, M, S at each (sex, age); NaN where the reference does not apply (age or sex unknown or
    outside the reference's range)."""
    n = len(age_months)
    L = np.full(n, np.nan)
    M = np.full(n, np.nan)
    S = np.full(n, np.nan)
    table = lms_table()
    for sx in ("M", "F"):
        ages, l_, m_, s_ = table[(indicator, sx)]
        sel = (sex == sx) & (age_months >= ages[0]) & (age_months <= ages[-1])
        if sel.any():
            a = age_months[sel]
            L[sel] = np.interp(a, ages, l_)
            M[sel] = np.interp(a, ages, m_)
            S[sel] = np.interp(a, ages, s_)
    return L, M, S


def _sd_line(L: np.ndarray, M: np.ndarray, S: np.ndarray, k: float) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return M * np.power(1.0 + L * S * k, 1.0 / L)


def zscore(indicator: str, value: np.ndarray, sex: np.ndarray, age_months: np.ndarray) -> np.ndarray:
    """WHO z-score of each value; NaN where it cannot be computed."""
    value = np.asarray(value, dtype=np.float64)
    L, M, S = lms_at(indicator, np.asarray(sex), np.asarray(age_months, dtype=np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(value > 0, value / M, np.nan)
        small_l = np.abs(L) < 1e-9
        z = np.where(small_l, np.log(ratio) / S, (np.power(ratio, L) - 1.0) / (L * S))
        # Non-positive values have no z-score but are always implausible for a body measure.
        z = np.where(np.isfinite(value) & (value <= 0) & np.isfinite(M), -np.inf, z)
        if indicator in _SKEWED:
            sd3p, sd2p = _sd_line(L, M, S, 3.0), _sd_line(L, M, S, 2.0)
            sd3n, sd2n = _sd_line(L, M, S, -3.0), _sd_line(L, M, S, -2.0)
            high = z > 3.0
            low = np.isfinite(z) & (z < -3.0)
            z = np.where(high, 3.0 + (value - sd3p) / (sd3p - sd2p), z)
            z = np.where(low, -3.0 + (value - sd3n) / (sd2n - sd3n), z)
    return z
