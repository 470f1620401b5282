"""Reference data shipped with P4DP (see README.md in this folder for sources and licences).

Every file is read through `path()`, so nothing depends on the location of a checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(name: str) -> Path:
    p = Path(str(files(__package__).joinpath(name)))
    if not p.is_file():
        raise FileNotFoundError(f"reference data file {name!r} is not shipped in p4dp.reference")
    return p
