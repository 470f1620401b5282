"""EHR export writers of the synthetic network: each practice's tables in its vendor's format.

The formats are documented in docs/formats/; their vocabularies live with their readers in
``p4dp.sources`` so that writing and reading share one definition.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

FORMATS = ("csv-fr", "jsonl", "fhir")


def write_export(fmt: str, tables: dict[str, pa.Table], out_dir: Path) -> None:
    """Write one practice's staging tables (``cdm.table(name).arrow_schema("staging")``) to
    ``out_dir`` in the export format ``fmt``. Rows are written as given, duplicates included;
    non-null ``raw_value`` texts replace the numbers they stand for."""
    out_dir = Path(out_dir)
    if fmt == "csv-fr":
        from p4dp.synth.writers.csv_fr import write
    elif fmt == "jsonl":
        from p4dp.synth.writers.jsonl import write
    elif fmt == "fhir":
        from p4dp.synth.writers.fhir import write
    else:
        raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    from p4dp.sources._common import gc_paused

    with gc_paused():
        write(tables, out_dir)


def read_back_ids(fmt: str, tables: dict[str, pa.Table]) -> dict[str, pa.Array]:
    """The row ids the reader of ``fmt`` will give, for the tables where they differ from the
    staging ids, aligned with the rows: today only csv-fr biometrics, whose ids are derived from
    the wide reading sessions (docs/formats/csv-fr.md). The generator keys its ground truth
    (``errors.row_key``) with them so that quality recall can be measured on csv-fr practices."""
    if fmt == "csv-fr" and "biometric" in tables:
        from p4dp.synth.writers.csv_fr import reading_ids

        return {"biometric": reading_ids(tables["biometric"])}
    return {}


__all__ = ["FORMATS", "read_back_ids", "write_export"]
