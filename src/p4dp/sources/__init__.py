"""Readers of the EHR export formats → canonical staging tables (docs/formats/).

``read_export(folder, fmt, source_id)`` reads one practice's export in its vendor format and returns
every clinical table of the common data model in the exact staging schema, plus the records it
had to reject (quarantine), each with a reason that names the file, the line (or JSON pointer, or
FHIR resource) and the field. A damaged record never stops the rest of the export from being read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

FORMATS = ("csv-fr", "jsonl", "fhir")


@dataclass(frozen=True)
class ReadResult:
    tables: dict[str, pa.Table]
    quarantine: pa.Table

    @property
    def rows_read(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


def detect_format(folder: Path) -> str:
    """Guess an export's format from its files (``bundles/`` → fhir, ``*.jsonl`` → jsonl, the
    csv-fr file names → csv-fr)."""
    from p4dp.sources import csv_fr, fhir, jsonl

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} : dossier d'export introuvable ; indiquer le dossier "
                                "qui contient les fichiers exportés par le logiciel du cabinet")
    if fhir.looks_like(folder):
        return "fhir"
    if jsonl.looks_like(folder):
        return "jsonl"
    if csv_fr.looks_like(folder):
        return "csv-fr"
    raise ValueError(f"{folder} : format d'export non reconnu (attendu : un dossier bundles/ "
                     "(fhir), un fichier patients.jsonl (jsonl) ou les fichiers patients.csv, "
                     "consultations.csv… (csv-fr)) ; voir docs/formats/")


def read_export(folder: Path, fmt: str, source_id: str) -> ReadResult:
    """Read one practice's export; ``fmt`` is one of :data:`FORMATS` (or ``"auto"``)."""
    folder = Path(folder)
    if fmt == "auto":
        fmt = detect_format(folder)
    if fmt == "csv-fr":
        from p4dp.sources.csv_fr import read
    elif fmt == "jsonl":
        from p4dp.sources.jsonl import read
    elif fmt == "fhir":
        from p4dp.sources.fhir import read
    else:
        raise ValueError(f"format d'export inconnu : {fmt!r} ; formats connus : "
                         f"{', '.join(FORMATS)}")
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} : dossier d'export introuvable")
    from p4dp.sources._common import gc_paused

    with gc_paused():
        tables, quarantine = read(folder, source_id)
    return ReadResult(tables=tables, quarantine=quarantine.table())


__all__ = ["FORMATS", "ReadResult", "detect_format", "read_export"]
