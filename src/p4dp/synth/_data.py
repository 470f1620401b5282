"""Readers of the generator's data files (synth/data/, sources in its README.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np


def data_path(name: str) -> Path:
    p = Path(str(files("p4dp.synth").joinpath("data", name)))
    if not p.is_file():
        raise FileNotFoundError(f"synthetic-network data file {name!r} is missing from "
                                "p4dp/synth/data: reinstall the package")
    return p


def read_csv(name: str) -> list[dict[str, str]]:
    with data_path(name).open(encoding="utf-8", newline="") as f:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


@lru_cache(maxsize=1)
def phrase_bank() -> dict[str, list[str]]:
    """The free-text phrase bank: true ICPC-2 code → phrases (``phrases_fr.txt``)."""
    bank: dict[str, list[str]] = {}
    current: str | None = None
    path = data_path("phrases_fr.txt")
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            bank.setdefault(current, [])
            continue
        if current is None:
            raise ValueError(f"{path}:{lineno}: phrase before any [CODE] section header")
        bank[current].append(line)
    empty = [c for c, v in bank.items() if not v]
    if empty:
        raise ValueError(f"{path}: sections without phrases: {', '.join(empty)}")
    return bank


@dataclass(frozen=True)
class Pyramid:
    age_min: np.ndarray
    age_max: np.ndarray
    men: np.ndarray
    women: np.ndarray

    def cell_probabilities(self) -> np.ndarray:
        """P(band, sex) as a (bands, 2) array, column 0 = women, 1 = men."""
        counts = np.stack([self.women, self.men], axis=1).astype(float)
        return counts / counts.sum()


@lru_cache(maxsize=1)
def pyramid() -> Pyramid:
    rows = read_csv("insee_pyramid_fr_2024.csv")
    return Pyramid(
        age_min=np.array([int(r["age_min"]) for r in rows]),
        age_max=np.array([int(r["age_max"]) for r in rows]),
        men=np.array([int(r["men"]) for r in rows]),
        women=np.array([int(r["women"]) for r in rows]),
    )


@lru_cache(maxsize=1)
def growth_reference() -> dict[str, dict[str, np.ndarray]]:
    """WHO-like growth medians per sex: arrays indexed by ``age`` (years)."""
    out: dict[str, dict[str, list[float]]] = {}
    for r in read_csv("growth_reference.csv"):
        d = out.setdefault(r["sex"], {k: [] for k in ("age", "h", "h_sd", "w", "w_lsd")})
        d["age"].append(float(r["age_years"]))
        d["h"].append(float(r["height_median_cm"]))
        d["h_sd"].append(float(r["height_sd_cm"]))
        d["w"].append(float(r["weight_median_kg"]))
        d["w_lsd"].append(float(r["weight_log_sd"]))
    return {s: {k: np.asarray(v) for k, v in d.items()} for s, d in out.items()}
