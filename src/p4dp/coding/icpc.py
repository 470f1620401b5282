"""The ICPC-2 codes the coder may give, from the terminology package (or its data file).

The terminology package (``p4dp.terminology.icpc2``) is the owner of ICPC-2; until it is
importable the coder reads the code list from its data file, so that coding never depends on
import order between the two packages.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

#: Process components (ICPC-2 components 2-6): numbers 30-69, shared by every chapter.
PROCESS_MIN, PROCESS_MAX = 30, 69
#: Diagnoses / diseases (component 7): numbers 70-99. Symptoms (component 1): 01-29.
DIAGNOSIS_MIN = 70
CHAPTERS = "ABDFHKLNPRSTUWXYZ"


def number(code: str) -> int:
    """Rubric number of a code (``"K86"`` -> 86, ``"-50"`` -> 50)."""
    return int(code[1:3])


@lru_cache(maxsize=4096)
def component(code: str) -> str:
    """``symptom``, ``process`` or ``diagnosis``."""
    n = number(code)
    if PROCESS_MIN <= n <= PROCESS_MAX:
        return "process"
    return "diagnosis" if n >= DIAGNOSIS_MIN else "symptom"


@lru_cache(maxsize=1)
def valid_codes() -> frozenset[str]:
    """All 726 ICPC-2 rubrics, process codes expanded to every chapter letter."""
    try:  # the terminology package's API when it exists
        from p4dp.terminology import icpc2  # type: ignore[attr-defined]

        table = icpc2.load()
        codes = set(table.column("code").to_pylist())
    except (ImportError, AttributeError, FileNotFoundError):
        path = resources.files("p4dp.terminology").joinpath("data/icpc2e_en_uk_icd10.json")
        codes = {e["code"] for e in json.loads(path.read_text(encoding="utf-8"))}
    out = {c for c in codes if not c.startswith("-")}
    for c in codes:
        if c.startswith("-"):
            out.update(letter + c[1:] for letter in CHAPTERS)
    return frozenset(out)


def is_valid(code: str) -> bool:
    return code in valid_codes()


@lru_cache(maxsize=4096)
def title_fr(code: str) -> str:
    """French title from the terminology package, or ``""`` when it is not available."""
    try:
        from p4dp.terminology import icpc2  # type: ignore[attr-defined]

        return str(icpc2.title_fr(code))
    except Exception:  # noqa: BLE001 - a missing title must never stop coding
        return ""
