"""Reference populations: INSEE regional and national figures, to extrapolate incidence.

Regional populations are INSEE's legal populations of 2021 (`data/insee_population_regions_2021
.csv`, see `data/README.md`); the national population of a year is INSEE's estimate in
`p4dp.reference` (`insee_population_fr.csv`, 1982–2020), the last year standing for later ones.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib.resources import files

from p4dp.reference import path as reference_path

#: Pseudo-region code of the whole network / France in every surveillance output.
NATIONAL = "FR"
NATIONAL_NAME = "France entière"
REGIONS_FILE = "insee_population_regions_2021.csv"


@lru_cache(maxsize=1)
def regions() -> dict[str, tuple[str, int]]:
    """INSEE region code → (French name, population)."""
    with files(__package__).joinpath("data").joinpath(REGIONS_FILE).open(encoding="utf-8") as f:
        return {r["region_code"]: (r["region_name"], int(r["population"]))
                for r in csv.DictReader(f)}


def region_name(code: str) -> str:
    if code == NATIONAL:
        return NATIONAL_NAME
    return regions().get(code, (f"région {code}", 0))[0]


@lru_cache(maxsize=1)
def national_by_year() -> dict[int, int]:
    with reference_path("insee_population_fr.csv").open(encoding="ascii") as f:
        rows = csv.DictReader(f, skipinitialspace=True)
        return {int(r["year"]): int(r["population"]) for r in rows}


def population(code: str, year: int) -> int | None:
    """Population of a region (its 2021 legal population) or of France in `year` (nearest year
    of the INSEE series); None for a region INSEE does not list."""
    if code == NATIONAL:
        series = national_by_year()
        return series[min(max(year, min(series)), max(series))]
    entry = regions().get(code)
    return entry[1] if entry else None
