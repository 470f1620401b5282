"""What stays at the practice: the re-identification map and the NIR linkage file.

Both live next to the keys (``<settings.keys>/<source_id>/``), readable by the agent's user only,
and are merged on every run (never overwritten), so that a pseudonym sent months ago can still be
traced back by the GP — to honour a patient's objection, or to contact a patient whom a study
selected.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from p4dp.agent.keys import check_source_id, practice_dir, write_private
from p4dp.settings import Settings

REID_MAP_FILE = "reid_map.parquet"
NIR_LINKAGE_FILE = "nir_linkage.parquet"

REID_SCHEMA = pa.schema([
    pa.field("pseudonym", pa.string(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("local_id", pa.string(), nullable=False),
    pa.field("first_seen", pa.timestamp("us", tz="UTC"), nullable=False),
])
LINKAGE_SCHEMA = pa.schema([
    pa.field("pseudonym", pa.string(), nullable=False),
    pa.field("nir_hash", pa.string(), nullable=False),
    pa.field("first_seen", pa.timestamp("us", tz="UTC"), nullable=False),
])


def _read(path, schema: pa.Schema) -> pa.Table:
    if not path.exists():
        return schema.empty_table()
    return pq.read_table(path).cast(schema)


def _write(path, table: pa.Table) -> None:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    write_private(path, buf.getvalue())


def _merge(old: pa.Table, new: pa.Table, keys: list[str]) -> pa.Table:
    """Union of old and new rows, one row per key, keeping the earliest ``first_seen``."""
    both = pa.concat_tables([old, new])
    others = [c for c in both.column_names if c not in keys and c != "first_seen"]
    merged = both.group_by(keys + others).aggregate([("first_seen", "min")])
    merged = merged.rename_columns([c.removesuffix("_min") for c in merged.column_names])
    return merged.select(old.column_names).sort_by([(k, "ascending") for k in keys])


def update_reid_map(source_id: str, pseudonyms: pa.Array, kinds: pa.Array, local_ids: pa.Array,
                    settings: Settings) -> int:
    """Add (pseudonym, kind, local id) rows to the practice's map; returns its size."""
    now = pa.scalar(datetime.now(UTC), pa.timestamp("us", tz="UTC"))
    new = pa.table({
        "pseudonym": pseudonyms, "kind": kinds, "local_id": local_ids,
        "first_seen": pa.repeat(now, len(pseudonyms)),
    }).filter(pc.is_valid(pseudonyms))
    new = new.group_by(["pseudonym", "kind", "local_id"]).aggregate([("first_seen", "min")])
    new = new.rename_columns([c.removesuffix("_min") for c in new.column_names]).cast(REID_SCHEMA)
    path = practice_dir(source_id, settings) / REID_MAP_FILE
    merged = _merge(_read(path, REID_SCHEMA), new, ["pseudonym"])
    _write(path, merged)
    return merged.num_rows


def update_nir_linkage(source_id: str, pseudonyms: pa.Array, nir_hashes: pa.Array,
                       settings: Settings) -> int:
    """Add (patient pseudonym, NIR linkage hash) rows to the practice's linkage file."""
    now = pa.scalar(datetime.now(UTC), pa.timestamp("us", tz="UTC"))
    new = pa.table({"pseudonym": pseudonyms, "nir_hash": nir_hashes})
    new = new.filter(pc.and_(pc.is_valid(new["pseudonym"]), pc.is_valid(new["nir_hash"])))
    new = new.append_column("first_seen", pa.repeat(now, new.num_rows))
    new = new.cast(LINKAGE_SCHEMA)
    path = practice_dir(source_id, settings) / NIR_LINKAGE_FILE
    merged = _merge(_read(path, LINKAGE_SCHEMA), new, ["pseudonym", "nir_hash"])
    _write(path, merged)
    return merged.num_rows


def reidentify(source_id: str, pseudonyms: Iterable[str], settings: Settings) -> pa.Table:
    """Local ids of the given pseudonyms, in the order given (null ``local_id`` when unknown).

    Runs at the practice only: the map never leaves it.
    """
    asked = pa.array(list(pseudonyms), pa.string())
    # Looking up must not create the practice's private folder as a side effect.
    path = Path(settings.keys) / check_source_id(source_id) / REID_MAP_FILE
    known = _read(path, REID_SCHEMA)
    pos = pc.index_in(asked, value_set=known["pseudonym"])
    return pa.table({
        "pseudonym": asked,
        "kind": pc.take(known["kind"], pos),
        "local_id": pc.take(known["local_id"], pos),
    })
