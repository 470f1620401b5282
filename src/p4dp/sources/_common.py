"""What every reader shares: encoding detection, lenient date parsing, conformance to the staging
schema and the quarantine log.

A reader turns its vendor's records into *candidate* columns named like the CDM (strings for dates
and integers, typed arrays where the vendor convention was already applied) and hands them to
:func:`conform`, which parses, validates and splits good rows from quarantined ones. Reasons are in
French because they are shown to the practice's data steward.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import BinaryIO
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import CLINICAL_TABLES, Type, table

#: Two-digit years (``d/m/yy``) are read in the century that puts them not after the current year:
#: a GP export never holds dates in the future by more than a few months, and birth dates of
#: centenarians written on two digits are a known loss that the quality step cannot undo anyway.
TWO_DIGIT_YEAR_PIVOT = dt.date.today().year % 100

_DMY = r"^(?P<d>\d{1,2})[/.](?P<m>\d{1,2})[/.](?P<y>\d{4}|\d{2})$"
_ISO = (r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
        r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")

QUARANTINE_SCHEMA = table("quarantine").arrow_schema("staging")


def empty_tables() -> dict[str, pa.Table]:
    return {t.name: t.arrow_schema("staging").empty_table() for t in CLINICAL_TABLES}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while millions of small, acyclic JSON dicts are
    built: it would rescan them again and again (measured: about a third of the JSON readers'
    time). Restored on exit, whatever happens."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ── encodings ────────────────────────────────────────────────────────────────────────────────────

def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a vendor file: UTF-8 with BOM, UTF-8, else Windows-1252 (a superset of Latin-1's
    printable range that French EHRs use for « œ », « € » and typographic quotes).

    Returns the text and the name of the encoding found, for messages.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # Bytes 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252 but valid Latin-1 controls.
        return data.decode("latin-1"), "latin-1"


#: JSON documents (patients or Bundles) read before their rows are converted to Arrow: keeping the
#: parsed JSON of a whole practice would take gigabytes (measured 1.7 GB for 2,000 FHIR patients).
JSON_CHUNK = 500


def iter_lines(path) -> Iterator[tuple[int, str]]:
    """Numbered lines of a text file, split on ``\n`` only (``str.splitlines`` would also split on
    U+2028 or U+0085 that JSON strings may hold), each decoded as UTF-8 (a BOM dropped), else
    Windows-1252; read as a stream so that memory does not grow with the file."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = decode_bytes(raw)[0]
            yield number, text.rstrip("\r\n")


def to_utf8(data: bytes) -> tuple[bytes, str]:
    """The file's bytes as UTF-8 (no BOM), for Arrow's parsers, and the encoding detected."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:], "utf-8-sig"
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        text, enc = decode_bytes(data)
        return text.encode("utf-8"), enc


# ── value parsing ────────────────────────────────────────────────────────────────────────────────

def blank_to_null(arr: pa.Array) -> pa.Array:
    """Strings trimmed, with empty strings as null (exports write absence as an empty field)."""
    s = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    return pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)


def parse_dates(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Parse the date formats found in French EHR exports, vectorised.

    Accepted: ``dd/mm/yyyy``, ``d/m/yyyy``, ``dd/mm/yy`` (also with dots), ISO ``yyyy-mm-dd`` and
    ISO date-times (the time is dropped). Returns the ``date32`` array and a mask of values that were
    present but are not a real calendar date in one of these formats.
    """
    s = blank_to_null(arr)
    present = np.asarray(pc.is_valid(s))
    dmy = pc.extract_regex(s, _DMY)
    iso = pc.extract_regex(s, _ISO)

    def part(name: str) -> pa.Array:
        return pc.coalesce(pc.struct_field(dmy, name), pc.struct_field(iso, name))

    y = part("y").cast(pa.int32())
    two_digit = pc.less(y, 100)
    century = pc.if_else(pc.less_equal(y, TWO_DIGIT_YEAR_PIVOT), 2000, 1900)
    y = pc.if_else(two_digit, pc.add(y, century), y)
    m = part("m").cast(pa.int32())
    d = part("d").cast(pa.int32())
    iso_text = pc.binary_join_element_wise(
        y.cast(pa.string()),
        pc.utf8_lpad(m.cast(pa.string()), 2, "0"),
        pc.utf8_lpad(d.cast(pa.string()), 2, "0"),
        "-",
    )
    ts = pc.strptime(iso_text, format="%Y-%m-%d", unit="s", error_is_null=True)
    # Arrow's strptime rolls 31/02 over to 02/03: a date is real only if its parts survive.
    real = pc.and_(pc.equal(pc.day(ts), d), pc.equal(pc.month(ts), m))
    dates = pc.if_else(pc.fill_null(real, False), ts.cast(pa.date32()),
                       pa.scalar(None, pa.date32()))
    bad = present & ~np.asarray(pc.is_valid(dates))
    return dates, bad


def parse_ints(arr: pa.Array, typ: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    s = blank_to_null(arr)
    ok = pc.match_substring_regex(s, r"^[+-]?\d{1,9}$")
    out = pc.if_else(pc.fill_null(ok, False), s, pa.scalar(None, pa.string())).cast(pa.int64())
    lo, hi = (-(2**15), 2**15 - 1) if typ == pa.int16() else (-(2**31), 2**31 - 1)
    in_range = pc.and_(pc.greater_equal(out, lo), pc.less_equal(out, hi))
    out = pc.if_else(pc.fill_null(in_range, False), out, pa.scalar(None, pa.int64())).cast(typ)
    bad = np.asarray(pc.is_valid(s)) & ~np.asarray(pc.is_valid(out))
    return out, bad


def split_number(arr: pa.Array, pattern: str, decimal: str) -> tuple[pa.Array, pa.Array]:
    """Split exported numeric text into (value, raw_value) under a format's own convention.

    A text matching ``pattern`` is a number (``decimal`` is its decimal separator) and its raw
    value is left null; any other non-empty text (``"45.30"`` in a decimal-comma file, ``"1m48"``)
    is not an error here: it is kept verbatim in ``raw_value`` with a null ``value`` so that the
    quality step can repair it by a named rule or quarantine it (CONTRACTS.md).
    """
    s = blank_to_null(arr)
    is_num = pc.fill_null(pc.match_substring_regex(s, pattern), False)
    text = s if decimal == "." else pc.replace_substring(s, decimal, ".")
    value = pc.if_else(is_num, text, pa.scalar(None, pa.string())).cast(pa.float64())
    raw = pc.if_else(is_num, pa.scalar(None, pa.string()), s)
    return value, raw


# ── quarantine ───────────────────────────────────────────────────────────────────────────────────

@dataclass
class Quarantine:
    """Rejected records of one export, in arrival order."""

    source_id: str
    rows: list[dict] = field(default_factory=list)

    def add(self, *, table_name: str, check_id: str, reason: str, location: str,
            record: object, row_key: str | None = None, patient_id: str | None = None) -> None:
        record_json = record if isinstance(record, str) else json.dumps(
            record, ensure_ascii=False, default=str)
        # The rank in the export keeps apart two identical rejected records (a duplicated row of a
        # FHIR Bundle has the same location) while staying the same when the export is re-read.
        qid = hashlib.sha256(f"{self.source_id}\x1f{len(self.rows)}\x1f{location}\x1f{check_id}"
                             f"\x1f{reason}".encode()).hexdigest()[:20]
        self.rows.append({
            "source_id": self.source_id, "quarantine_id": f"rq-{qid}", "table_name": table_name,
            "row_key": row_key, "patient_id": patient_id, "check_id": check_id, "reason": reason,
            "location": location, "record": record_json,
        })

    def table(self) -> pa.Table:
        if not self.rows:
            return QUARANTINE_SCHEMA.empty_table()
        return pa.Table.from_pylist(self.rows, schema=QUARANTINE_SCHEMA)


@dataclass
class Candidate:
    """One table's rows as read from an export, before conformance.

    ``columns``: CDM column name → array (strings for dates/integers, typed otherwise); missing
    columns are null. ``labels``: CDM column → the vendor's name for the field, used in reasons.
    ``location(i)`` / ``record(i)``: where row *i* came from and its raw content, computed only for
    rejected rows. ``errors``: vendor-specific rejections found by the reader (mask, field label,
    check id, message template with ``{value}``, raw values).
    """

    table_name: str
    columns: dict[str, pa.Array]
    labels: dict[str, str]
    location: Callable[[int], str]
    record: Callable[[int], object]
    errors: list[tuple[np.ndarray, str, str, str, Sequence | pa.Array | None]] = field(
        default_factory=list)

    def __len__(self) -> int:
        for a in self.columns.values():
            return len(a)
        return 0

    def reject(self, mask: np.ndarray, label: str, check_id: str, message: str,
               values: Sequence | pa.Array | None = None) -> None:
        if mask.any():
            self.errors.append((mask, label, check_id, message, values))


def conform(cand: Candidate, source_id: str, quarantine: Quarantine) -> pa.Table:
    """Parse, validate and cast a candidate to the exact staging schema.

    Rows with any problem (unparseable date or integer, missing required id, value outside the
    CDM's allowed set, vendor-specific rejection) go to quarantine with every problem listed; the
    others are returned.
    """
    spec = table(cand.table_name)
    schema = spec.arrow_schema("staging")
    n = len(cand)
    cols: dict[str, pa.Array] = {}
    errors = list(cand.errors)
    for col in spec.staging_columns():
        label = cand.labels.get(col.name, col.name)
        if col.name == "source_id":
            cols[col.name] = pa.array(np.full(n, source_id, dtype=object), pa.string())
            continue
        arr = cand.columns.get(col.name)
        if arr is None:
            arr = pa.nulls(n, col.type.arrow)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        raw = arr
        if col.type is Type.DATE and not pa.types.is_date32(arr.type):
            arr, bad = parse_dates(arr)
            errors.append((bad, label, "reader.invalid_date",
                           "date illisible « {value} » (formats acceptés : jj/mm/aaaa, aaaa-mm-jj)",
                           raw))
        elif col.type in (Type.INT16, Type.INT32) and pa.types.is_string(arr.type):
            arr, bad = parse_ints(arr, col.type.arrow)
            errors.append((bad, label, "reader.invalid_integer",
                           "nombre entier attendu, trouvé « {value} »", raw))
        elif pa.types.is_string(col.type.arrow) and pa.types.is_string(arr.type):
            if col.name.endswith("_id") or col.name in ("nir", "rpps", "postcode", "atc", "code"):
                arr = blank_to_null(arr)
            else:
                arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        arr = arr.cast(col.type.arrow)
        if not col.nullable:
            missing = ~np.asarray(pc.is_valid(arr))
            errors.append((missing, label, "reader.missing_required",
                           "champ obligatoire absent ou illisible", None))
        if col.allowed:
            unknown = np.asarray(pc.and_(pc.is_valid(arr),
                                         pc.invert(pc.is_in(arr, pa.array(col.allowed)))))
            errors.append((unknown, label, "reader.unknown_code",
                           "code inconnu « {value} »", raw))
        cols[col.name] = arr

    bad_any = np.zeros(n, dtype=bool)
    for mask, *_ in errors:
        bad_any |= mask
    if bad_any.any():
        key_col = spec.primary_key[0]
        for i in np.flatnonzero(bad_any):
            i = int(i)
            problems = []
            check_ids = []
            for mask, label, check_id, message, values in errors:
                if mask[i]:
                    value = None if values is None else _value_at(values, i)
                    problems.append(f"champ « {label} » : {message.format(value=value)}")
                    check_ids.append(check_id)
            location = cand.location(i)
            key = cols[key_col][i].as_py()
            patient = cols["patient_id"][i].as_py() if "patient_id" in cols else None
            quarantine.add(
                table_name=cand.table_name, check_id=check_ids[0],
                reason=f"{location} — " + " ; ".join(problems),
                location=location, record=cand.record(i), row_key=key, patient_id=patient,
            )
        keep = pa.array(~bad_any)
        cols = {k: pc.filter(v, keep) for k, v in cols.items()}
    return pa.Table.from_arrays([cols[f.name] for f in schema], schema=schema)


def _value_at(values: Sequence | pa.Array, i: int) -> object:
    v = values[i]
    return v.as_py() if isinstance(v, pa.Scalar) else v


def column(values: list, typ: pa.DataType = pa.string()) -> pa.Array:
    """A Python list gathered by a JSON reader as an Arrow array (no per-row conversion code)."""
    return pa.array(values, type=typ, from_pandas=False)


def concat_or_empty(tables: list[pa.Table], name: str) -> pa.Table:
    schema = table(name).arrow_schema("staging")
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables).combine_chunks()


def write_lines(lines: pa.ChunkedArray | pa.Array, f: BinaryIO) -> None:
    """Write a string array as text lines to a binary file, straight from Arrow's buffers (no
    Python strings): each value gets a ``\n`` appended and the value buffer is written as is."""
    chunks = lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]
    for chunk in chunks:
        if not len(chunk):
            continue
        text = pa.large_string()
        chunk = pc.binary_join_element_wise(chunk.cast(text), pa.scalar("", text),
                                            pa.scalar("\n", text))
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)
        start, end = offsets[chunk.offset], offsets[chunk.offset + len(chunk)]
        f.write(memoryview(chunk.buffers()[2])[start:end])
