"""The threshold method on a real weekly series in the Réseau Sentinelles CSV format.

Format (as published on sentiweb.fr and copied in `p4dp/reference/sentinelles_ili_fr.csv`):
``week,indicator,inc,inc_low,inc_up,inc100,inc100_low,inc100_up,geo_insee,geo_name`` with ``week``
written ``yyyyww`` (ISO year and week), newest first. We use ``inc100`` (incidence per 100,000).

Missing weeks: a week absent from the file, a week whose confidence bounds are empty (1989-W19
reads 0 with no interval) and a week where every figure is 0 (summer weeks 1990-W33, 2001-W32/33,
2006-W32/33: no reports rather than no cases, see `p4dp/reference/README.md`) are missing — they
neither train the baseline nor count as above or below a threshold.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from p4dp.surveillance.incidence import week_label
from p4dp.surveillance.serfling import baseline, epidemics, season_start

REQUIRED = ("week", "inc100")


class SentinellesFormatError(ValueError):
    """The file is not a Réseau Sentinelles weekly CSV (names the file, line and field)."""


def read_series(path: Path) -> tuple[list[dt.date], np.ndarray]:
    """(consecutive Mondays, incidence per 100,000 with NaN for missing weeks), oldest first."""
    path = Path(path)
    if not path.is_file():
        raise SentinellesFormatError(f"{path} : fichier introuvable")
    values: dict[dt.date, float] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        # the site prefixes its downloads with a comment line ("# Sentiweb ..."): skip such lines
        lines = (line for line in f if not line.startswith("#"))
        reader = csv.DictReader(lines)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise SentinellesFormatError(
                f"{path} : colonnes {missing} absentes de l'en-tête ({reader.fieldnames}) ; "
                "attendu le format CSV du Réseau Sentinelles (week, inc100, …)")
        for n, row in enumerate(reader, start=2):
            raw = (row.get("week") or "").strip()
            try:
                week = dt.date.fromisocalendar(int(raw) // 100, int(raw) % 100, 1)
            except ValueError:
                raise SentinellesFormatError(
                    f"{path}, ligne {n}, champ week : {raw!r} n'est pas une semaine ISO AAAASS "
                    "(par exemple 202005)") from None
            if week in values:
                raise SentinellesFormatError(f"{path}, ligne {n} : semaine {raw} en double")
            values[week] = _incidence(row, path, n)
    if not values:
        raise SentinellesFormatError(f"{path} : aucune semaine")
    first, last = min(values), max(values)
    weeks = [first + dt.timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    return weeks, np.array([values.get(w, np.nan) for w in weeks])


def _incidence(row: dict, path: Path, n: int) -> float:
    raw = (row.get("inc100") or "").strip()
    if raw in ("", "-", "NA"):
        return np.nan
    try:
        value = float(raw)
    except ValueError:
        raise SentinellesFormatError(f"{path}, ligne {n}, champ inc100 : {raw!r} n'est pas un "
                                     "nombre") from None
    bounds = [(row.get(c) or "").strip() for c in ("inc100_low", "inc100_up")]
    numbers = [row.get(c) for c in ("inc", "inc_low", "inc_up", "inc100_low", "inc100_up")]
    if "" in bounds and "inc100_low" in row:
        return np.nan  # published without an interval: not observed
    if value == 0 and all((x or "0").strip() in ("0", "") for x in numbers):
        return np.nan  # every figure 0: no reports that week
    return value


def detect(weeks: list[dt.date], y: np.ndarray) -> list[dict]:
    """One JSON-able dict per epidemic of the series."""
    base = baseline(weeks, y)
    out = []
    for e in epidemics(y, base.threshold):
        s0 = season_start(weeks[e.start])
        out.append({
            "season": f"{s0.year}/{s0.year + 1}",
            "start_week": week_label(weeks[e.start]),
            "end_week": week_label(weeks[e.end]),
            "peak_week": week_label(weeks[e.peak]),
            "peak_incidence": round(float(y[e.peak]), 1),
            "weeks": e.end - e.start + 1,
            "threshold_at_start": round(float(base.threshold[e.start]), 1),
            "retrospective_baseline": bool(base.retrospective[e.start]),
        })
    return out
