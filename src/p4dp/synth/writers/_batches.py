"""Patients in batches, for the writers that build one document per patient in DuckDB.

Building every document of a practice at once held the whole export in DuckDB's working memory
(measured: 1.7 GB for 2,000 FHIR patients); batches of patients bound it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import table
from p4dp.sources._common import write_lines

#: Patients per batch: a few hundred MB of JSON text at most for the verbose FHIR format.
PATIENT_BATCH = 500


def with_order(tables: dict[str, pa.Table], names: tuple[str, ...]) -> dict[str, pa.Table]:
    """Each table (an empty one when absent) with ``_ord``, its row order, so that documents keep
    the input order whatever the batching and the SQL do."""
    out = {}
    for name in names:
        t = tables.get(name)
        if t is None:
            t = table(name).arrow_schema("staging").empty_table()
        out[name] = t.append_column("_ord", pa.array(np.arange(t.num_rows), pa.int64()))
    return out


def check_patients(tables: dict[str, pa.Table], fmt: str) -> None:
    """Every row must belong to a patient of the export: a document per patient has no place for
    the others, and dropping them silently would hide a generator bug."""
    known = pc.unique(tables["patient"]["patient_id"])
    for name, t in tables.items():
        if name == "patient" or "patient_id" not in t.column_names:
            continue
        unknown = pc.sum(pc.invert(pc.is_in(t["patient_id"], known))).as_py() or 0
        if unknown:
            raise ValueError(f"{fmt} writer: {unknown} {name} row(s) have a patient_id absent from "
                             "the patient table; this format nests every row under its patient")


def patient_batches(tables: dict[str, pa.Table], size: int | None = None
                    ) -> Iterator[dict[str, pa.Table]]:
    """The tables cut by patient, in order of the patients' first appearance (the rows of a
    duplicated patient stay in the same batch)."""
    size = size or PATIENT_BATCH
    ids = pc.unique(tables["patient"]["patient_id"])
    for start in range(0, max(len(ids), 1), size):
        keep = ids.slice(start, size)
        yield {name: t.filter(pc.is_in(t["patient_id"], keep)) for name, t in tables.items()}


def write_patient_documents(path: Path, tables: dict[str, pa.Table], sql: str) -> None:
    """Run `sql` (one `line` of text per patient document) over each batch of patients and
    append the lines to `path`."""
    with open(path, "wb") as f:
        for batch in patient_batches(tables):
            con = duckdb.connect()
            for name, t in batch.items():
                con.register(name, t)
            write_lines(con.execute(sql).to_arrow_table()["line"], f)
            con.close()
