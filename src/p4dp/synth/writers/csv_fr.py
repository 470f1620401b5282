"""Writer of the ``csv-fr`` export (docs/formats/csv-fr.md), vectorised with Arrow and DuckDB.

The vocabulary (file names, headers, codes) is the reader's, imported from
``p4dp.sources.csv_fr`` so that the two sides cannot drift apart.
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from p4dp.sources import csv_fr as spec


def _text(arr: pa.Array) -> pa.Array:
    return arr.cast(pa.string())


def _date(arr: pa.Array) -> pa.Array:
    return pc.strftime(arr.cast(pa.timestamp("s")), format=spec.DATE_FORMAT)


def _number(arr: pa.Array) -> pa.Array:
    """Floats with a decimal comma, shortest exact form (``45,3``, ``120``)."""
    # NaN is not a value an EHR writes: an empty cell, like null.
    arr = pc.if_else(pc.fill_null(pc.is_nan(arr), False), pa.scalar(None, arr.type), arr)
    return pc.replace_substring(arr.cast(pa.string()), ".", ",")


def _code(arr: pa.Array, mapping: dict) -> pa.Array:
    """CDM value → vendor code; a value outside the mapping (injected dirt) is written as is."""
    keys = pa.array(list(mapping.keys()), type=arr.type)
    codes = pa.array([str(v) for v in mapping.values()], pa.string())
    mapped = pc.take(codes, pc.index_in(arr, keys))
    return pc.coalesce(mapped, arr.cast(pa.string()))


def _column(t: pa.Table, name: str, col: str, kind: str) -> pa.Array:
    arr = t[col].combine_chunks()
    if kind == "date":
        return _date(arr)
    if kind == "sex":
        return _code(arr, spec.SEX)
    if kind == "bool":
        return _code(arr, spec.BOOL)
    if kind == "code":
        return _code(arr, spec.CODES[f"{name}.{col}"])
    if kind == "number":
        # Injected dirt travels as written: a non-null raw value replaces the formatted number.
        return pc.coalesce(t["raw_value"].combine_chunks(), _number(arr))
    if name == "lab_result" and col == "raw_unit":
        return pc.coalesce(arr, t["unit"].combine_chunks())
    return _text(arr)


def _write(columns: dict[str, pa.Array], path: Path) -> None:
    out = io.BytesIO()
    pcsv.write_csv(pa.table(columns), out,
                   write_options=pcsv.WriteOptions(delimiter=spec.DELIMITER,
                                                   quoting_style="needed"))
    # Characters outside Windows-1252 (rare in French: emoji, some Eastern European letters)
    # become "?" as they do in the vendors' own exports.
    path.write_bytes(out.getvalue().decode("utf-8").encode(spec.ENCODING, errors="replace"))


def reading_ids(biometric: pa.Table) -> pa.Array:
    """The ``biometric_id`` the csv-fr reader will give each input row (aligned with the input):
    ``<N° relevé>-<kind>``. The generator keys its ground truth with it for csv-fr practices."""
    b = biometric.append_column("_ord", pa.array(np.arange(biometric.num_rows)))
    con = duckdb.connect()
    con.register("b", b)
    rows = con.execute(f"""
        SELECT {_SESSION} || '-' || kind AS id FROM b ORDER BY _ord
    """).to_arrow_table()
    return rows["id"].combine_chunks()


#: The session number (N° relevé): the smallest id among the readings of one patient, encounter
#: and date. A repeated quantity (duplicated row) gets a second wide row with the same number, so
#: that its derived id repeats too, as the duplicated id does in the staging table.
_SESSION = "min(biometric_id) OVER (PARTITION BY patient_id, encounter_id, date)"


def write(tables: dict[str, pa.Table], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, (filename, columns) in spec.FILES.items():
        t = tables.get(name)
        if t is None:
            continue
        _write({header: _column(t, name, col, kind) for header, col, kind in columns},
               out_dir / filename)
    b = tables.get("biometric")
    if b is not None:
        _write_biometrics(b, out_dir / spec.BIOMETRIC_FILE)


def _write_biometrics(biometric: pa.Table, path: Path) -> None:
    """One row per reading session: (patient, encounter, date, occurrence), one column per kind.

    A quantity measured twice in the same session (a duplicated row, injected dirt) opens a second
    session row with the same session number (N° relevé), so that nothing is lost and the
    duplicate keeps a duplicated id; the reader derives ``<N° relevé>-<kind>`` ids
    (:func:`reading_ids` gives them for each input row).
    """
    b = biometric.append_column("_ord", pa.array(np.arange(biometric.num_rows)))
    b = b.append_column("_cell", pc.coalesce(b["raw_value"].combine_chunks(),
                                             _number(b["value"].combine_chunks())))
    pivots = ",\n".join(
        f"max(_cell) FILTER (WHERE kind = '{kind}') AS \"{header}\""
        for header, kind, _ in spec.BIOMETRIC_COLUMNS)
    con = duckdb.connect()
    con.register("b", b)
    wide = con.execute(f"""
        WITH s AS (
            SELECT *, row_number() OVER (PARTITION BY patient_id, encounter_id, date, kind
                                         ORDER BY _ord) AS _k,
                   {_SESSION} AS _session
            FROM b)
        SELECT any_value(_session) AS "{spec.BIOMETRIC_KEYS[0][0]}",
               patient_id AS "{spec.BIOMETRIC_KEYS[1][0]}",
               encounter_id AS "{spec.BIOMETRIC_KEYS[2][0]}",
               strftime(date, '{spec.DATE_FORMAT}') AS "{spec.BIOMETRIC_KEYS[3][0]}",
               {pivots}
        FROM s
        GROUP BY patient_id, encounter_id, date, _k
        ORDER BY min(_ord)
    """).to_arrow_table()
    _write({name: wide[name].combine_chunks() for name in wide.column_names}, path)
