"""Terminologies: ICPC-2 / CISP-2, vaccines, drugs (ATC) and lab exams (LOINC, units).

Every table is a data file in `data/` (sources in `data/README.md`); the modules only load them
and match labels against them. Sub-modules are imported lazily by their callers:

    from p4dp.terminology import icpc2, vaccines, drugs, labs
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_path(name: str) -> Path:
    """Path of a data file shipped in `p4dp/terminology/data/`."""
    p = Path(str(files(__package__).joinpath("data", name)))
    if not p.is_file():
        raise FileNotFoundError(
            f"terminology data file {name!r} is not shipped in p4dp/terminology/data/: "
            "reinstall the package or restore the file from git"
        )
    return p
