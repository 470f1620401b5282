"""Bring an input table to the exact central schema, remembering what did not fit.

A column of another type is cast value by value (DuckDB ``TRY_CAST``): a value that cannot be cast
becomes null and its row is marked, so that the conformance checks quarantine it instead of
loading a silently emptied field. Dates written as text are parsed in ISO (``2024-03-01``) and
French (``01/03/2024``) notation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import Layer, Type, table as cdm_table
from p4dp.quality.frame import mask

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


@dataclass
class Conformed:
    table: pa.Table
    #: Rows with a value that could not be cast to its column type, per column.
    bad_type: dict[str, np.ndarray] = field(default_factory=dict)
    #: Rows with a date that could not be parsed, per column.
    bad_date: dict[str, np.ndarray] = field(default_factory=dict)
    #: Input columns outside the central schema (dropped; identifying columns among them).
    unexpected: list[str] = field(default_factory=list)
    #: Central columns absent from the input (filled with nulls).
    missing: list[str] = field(default_factory=list)


def _try_cast(arr: pa.Array, ctype: Type) -> pa.Array:
    con = duckdb.connect()
    try:
        con.register("t", pa.table({"v": arr}))
        if ctype is Type.DATE and pa.types.is_string(arr.type):
            parsed = ", ".join(f"TRY_STRPTIME(trim(v), '{f}')" for f in DATE_FORMATS)
            sql = f"SELECT CAST(COALESCE({parsed}) AS DATE) AS v FROM t"
        else:
            sql = f"SELECT TRY_CAST(v AS {ctype.duckdb}) AS v FROM t"
        res = con.execute(sql).arrow()
        # duckdb ≥ 1.4 returns a RecordBatchReader here, older versions a Table.
        out = (res.read_all() if hasattr(res, "read_all") else res).column("v")
    finally:
        con.close()
    out = out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out
    return out.cast(ctype.arrow)


def conform(name: str, data: pa.Table, batch_id: str) -> Conformed:
    spec = cdm_table(name)
    schema = spec.arrow_schema("central")
    n = data.num_rows
    result = Conformed(table=data)
    result.unexpected = [c for c in data.column_names if c not in schema.names]
    arrays = []
    for f in schema:
        column = spec.column(f.name)
        if f.name == "batch_id":
            arrays.append(pa.array([batch_id] * n, pa.string()))
            continue
        if f.name not in data.column_names:
            if column.layer is not Layer.CENTRAL:
                result.missing.append(f.name)
            arrays.append(pa.nulls(n, f.type))
            continue
        arr = data.column(f.name).combine_chunks()
        if arr.type != f.type:
            if pa.types.is_null(arr.type):
                cast = pa.nulls(n, f.type)
            else:
                try:
                    cast = arr.cast(f.type) if not pa.types.is_string(arr.type) else None
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    cast = None
                if cast is None:
                    cast = _try_cast(arr, column.type)
            lost = mask(pc.and_(pc.is_valid(arr), pc.is_null(cast)))
            if lost.any():
                (result.bad_date if column.type is Type.DATE else result.bad_type)[f.name] = lost
            arr = cast
        arrays.append(arr)
    result.table = pa.Table.from_arrays(arrays, schema=schema)
    return result
