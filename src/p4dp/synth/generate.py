"""`generate`: write the network as vendor exports, network.json and ground truth, atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from p4dp.synth.network import (
    GROUND_TRUTH_SCHEMAS,
    Network,
    iter_practices,
    network_context,
    practices_table,
)
from p4dp.cdm import table
from p4dp.synth.presets import get_preset

Progress = Callable[[str, int, int], None]


class SynthError(Exception):
    """A user-facing problem with the requested output (message in French and English)."""


def _check_output(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise SynthError(f"{out} existe et n'est pas un dossier / exists and is not a folder: "
                         "choisissez un autre --out.")
    if out.is_dir() and any(out.iterdir()):
        raise SynthError(f"le dossier {out} n'est pas vide / is not empty: choisissez un dossier "
                         "neuf ou videz-le.")
    parent = out.parent if out.parent != Path("") else Path(".")
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise SynthError(f"{probe} n'est pas un dossier / is not a folder: impossible d'y créer "
                         f"{out}; choisissez un autre --out.")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SynthError(f"impossible d'écrire dans {probe} / folder not writable: choisissez un "
                         "--out dans un dossier où vous avez les droits d'écriture.")


def practice_slices(network: Network) -> dict[str, dict[str, pa.Table]]:
    """Each practice's staging tables (rows are grouped by practice in every table)."""
    sources = network.practices["source_id"].to_pylist()
    out: dict[str, dict[str, pa.Table]] = {s: {} for s in sources}
    for name, t in network.tables.items():
        src = t.column("source_id").to_numpy(zero_copy_only=False)
        if len(src) == 0:
            for s in out:
                out[s][name] = t
            continue
        change = np.flatnonzero(src[1:] != src[:-1]) + 1
        starts = np.r_[0, change]
        stops = np.r_[change, len(src)]
        found = {src[a]: (a, b) for a, b in zip(starts, stops)}
        if len(found) != len(starts):
            raise AssertionError(f"{name}: rows are not grouped by practice")
        for s in out:
            a, b = found.get(s, (0, 0))
            out[s][name] = t.slice(a, b - a)
    return out


def network_json(network: Network) -> dict:
    return network_json_from(network.preset, network.seed, network.today, network.practices)


def network_json_from(preset: str, seed: int, today: date, practices: pa.Table) -> dict:
    """The content of ``network.json``: the practices (the agents' configuration) and where
    their exports and the ground truth are."""
    return {
        "preset": preset,
        "seed": seed,
        "today": today.isoformat(),
        "practices": [
            {**{k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()},
             "export_folder": f"exports/{row['source_id']}"}
            for row in practices.to_pylist()
        ],
        "ground_truth": sorted(f"ground_truth/{k}.parquet" for k in GROUND_TRUTH_SCHEMAS),
    }


def rekey_errors(errors: pa.Table, tables: dict[str, pa.Table],
                 read_ids: dict[str, pa.Array]) -> pa.Table:
    """Key the ground truth of injected errors with the ids the format's reader will give (csv-fr
    biometrics are re-keyed by reading session), so quality recall can be measured on every
    format."""
    row_key = errors["row_key"]
    for name, new_ids in read_ids.items():
        id_col = table(name).primary_key[0]
        idx = pc.index_in(row_key, value_set=tables[name][id_col].combine_chunks())
        hit = pc.and_(pc.equal(errors["table"], name), pc.is_valid(idx))
        row_key = pc.if_else(hit, pc.take(new_ids, idx), row_key)
    return errors.set_column(errors.column_names.index("row_key"), "row_key", row_key)


def generate(preset: str, seed: int, out: Path, *, today: date | None = None,
             progress: Progress | None = None) -> Path:
    """Build the network and write it to ``out`` (which must not exist or be empty):
    ``exports/<source_id>/`` per practice, ``network.json``, ``ground_truth/*.parquet``.
    Everything is written in a temporary sibling folder renamed at the end, so a failure leaves
    nothing behind."""
    get_preset(preset)  # fail early on an unknown preset
    out = Path(out)
    _check_output(out)
    try:
        from p4dp.synth.writers import read_back_ids, write_export
    except ImportError as e:  # pragma: no cover - only before the writers exist
        raise SynthError("les écrivains d'export ne sont pas installés / export writers "
                         f"missing: {e}")
    report = progress or (lambda step, done, total: None)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as e:
        raise SynthError(f"impossible de créer {out} / cannot create the folder: {e}. Choisissez "
                         "un --out dans un dossier où vous avez les droits d'écriture.") from e
    try:
        report("population", 0, 1)
        ctx = network_context(preset, seed, today)
        report("population", 1, 1)
        practices = practices_table(ctx)
        fmts = dict(zip(practices["source_id"].to_pylist(), practices["vendor_format"].to_pylist()))
        gt = tmp / "ground_truth"
        gt.mkdir()
        writers = {name: pq.ParquetWriter(gt / f"{name}.parquet", schema)
                   for name, schema in GROUND_TRUTH_SCHEMAS.items()}
        try:
            # Practice by practice: memory is bounded by the largest practice (national preset).
            total = len(fmts)
            for k, (source_id, tables, truth) in enumerate(iter_practices(ctx)):
                folder = tmp / "exports" / source_id
                folder.mkdir(parents=True)
                write_export(fmts[source_id], tables, folder)
                truth["errors"] = rekey_errors(truth["errors"], tables,
                                               read_back_ids(fmts[source_id], tables))
                for name, t in truth.items():
                    writers[name].write_table(t)
                report("exports", k + 1, total)
        finally:
            for w in writers.values():
                w.close()
        meta = network_json_from(preset, seed, ctx.today, practices)
        (tmp / "network.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2),
                                          encoding="utf-8")
        if out.is_dir():
            out.rmdir()  # empty (checked above); rename needs the target gone
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
