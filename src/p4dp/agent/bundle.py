"""The bundle: what leaves the practice, as Parquet files and a manifest that proves them.

``<source_id>-<export end yyyymmdd>-<sha8>/`` holds one Parquet file per clinical table, in the
central schema without the columns only the warehouse fills, ``quarantine.parquet`` and
``manifest.json``. The manifest lists every file with its row count and SHA-256;
``content_sha256`` (SHA-256 of the sorted ``name:sha256`` lines) names the content, and its first
8 hex characters end the folder name, so the same export always makes the same folder.
``encryption`` and ``signature`` are reserved for the encrypted, signed transfer of a later issue.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from p4dp.cdm import CLINICAL_TABLES, Layer, table

BUNDLE_FORMAT = "p4dp-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
QUARANTINE = "quarantine"
#: Tables a bundle carries, in load order.
BUNDLE_TABLES: tuple[str, ...] = (*(t.name for t in CLINICAL_TABLES), QUARANTINE)
_CHUNK = 1 << 20


class BundleError(ValueError):
    """A bundle is incomplete, altered or of an unknown format."""


def bundle_schema(name: str) -> pa.Schema:
    """Schema of a bundle file: the table's columns minus practice-only and central-only ones."""
    t = table(name)
    cols = [c for c in t.columns if c.layer is Layer.BOTH]
    if name == QUARANTINE:
        cols = [c for c in cols if c.name != "batch_id"]
    return pa.schema([pa.field(c.name, c.type.arrow, nullable=c.nullable) for c in cols],
                     metadata={"p4dp.table": name, "p4dp.layer": "bundle"})


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def content_sha256(files: dict[str, dict]) -> str:
    lines = "".join(f"{name}:{files[name]['sha256']}\n" for name in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def write_bundle(tables: dict[str, pa.Table], *, source_id: str, practice_id: str,
                 period: tuple[date | None, date | None], out_dir: Path,
                 extra: dict | None = None) -> Path:
    """Write a bundle folder under ``out_dir`` (temp folder, then rename) and return its path.

    ``tables`` must already be pseudonymised and scrubbed: this function only checks that every
    file has its bundle schema, so that no practice-only column can slip through.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".tmp-{source_id}-{secrets.token_hex(6)}"
    tmp.mkdir()
    try:
        files: dict[str, dict] = {}
        for name in BUNDLE_TABLES:
            schema = bundle_schema(name)
            t = tables.get(name)
            t = schema.empty_table() if t is None else t
            if t.schema.names != schema.names:
                raise BundleError(
                    f"table {name} : colonnes {t.schema.names} ≠ colonnes du lot {schema.names}"
                )
            t = t.cast(schema)
            path = tmp / f"{name}.parquet"
            pq.write_table(t, path, compression="zstd")
            files[path.name] = {"table": name, "rows": t.num_rows, "bytes": path.stat().st_size,
                                "sha256": sha256_file(path)}
        content = content_sha256(files)
        start, end = period
        manifest = {
            "format": BUNDLE_FORMAT,
            "format_version": BUNDLE_FORMAT_VERSION,
            "source_id": source_id,
            "practice_id": practice_id,
            "export_period": {"start": start.isoformat() if start else None,
                              "end": end.isoformat() if end else None},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": files,
            "content_sha256": content,
            **(extra or {}),
            "encryption": None,
            "signature": None,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        end_tag = end.strftime("%Y%m%d") if end else "00000000"
        final = out_dir / f"{source_id}-{end_tag}-{content[:8]}"
        if final.exists():
            # Same folder name = same content: the earlier bundle stands (re-running is harmless),
            # unless it was damaged since, in which case the new copy replaces it.
            try:
                read_bundle(final, verify_only=True)
            except BundleError:
                shutil.rmtree(final)
            else:
                shutil.rmtree(tmp)
                return final
        os.rename(tmp, final)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_manifest(path: Path) -> dict:
    mpath = Path(path) / MANIFEST
    if not mpath.is_file():
        raise BundleError(f"{mpath} : manifeste absent — ce dossier n'est pas un lot P4DP complet.")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except ValueError as e:
        raise BundleError(f"{mpath} : manifeste illisible ({e}). Demandez au cabinet de "
                          "renvoyer le lot.") from None
    if manifest.get("format") != BUNDLE_FORMAT or \
            manifest.get("format_version") != BUNDLE_FORMAT_VERSION:
        raise BundleError(
            f"{mpath} : format {manifest.get('format')!r} version "
            f"{manifest.get('format_version')!r} non pris en charge (attendu {BUNDLE_FORMAT} "
            f"version {BUNDLE_FORMAT_VERSION}). Mettez à jour P4DP."
        )
    if manifest.get("encryption") is not None or manifest.get("signature") is not None:
        raise BundleError(f"{mpath} : lot chiffré ou signé, non pris en charge par cette version.")
    return manifest


def read_bundle(path: Path, *, verify_only: bool = False
                ) -> tuple[dict, dict[str, pa.Table]]:
    """Read a bundle after checking every file against the manifest.

    Raises :class:`BundleError` naming the file when one is missing, added, altered or truncated.
    """
    path = Path(path)
    manifest = read_manifest(path)
    files: dict = manifest.get("files") or {}
    expected = {f"{name}.parquet" for name in BUNDLE_TABLES}
    if set(files) != expected:
        raise BundleError(f"{path / MANIFEST} : liste de fichiers inattendue "
                          f"(manquants : {sorted(expected - set(files))}, "
                          f"en trop : {sorted(set(files) - expected)}).")
    present = {p.name for p in path.iterdir() if p.name != MANIFEST}
    if present - expected:
        raise BundleError(f"{path} : fichiers non déclarés dans le manifeste : "
                          f"{sorted(present - expected)}. Le lot a été modifié ; refusez-le.")
    if content_sha256(files) != manifest.get("content_sha256"):
        raise BundleError(f"{path / MANIFEST} : empreinte globale du contenu incohérente ; "
                          "le manifeste a été modifié.")
    tables: dict[str, pa.Table] = {}
    for fname in sorted(files):
        info = files[fname]
        fpath = path / fname
        if not fpath.is_file():
            raise BundleError(f"{fpath} : fichier absent du lot.")
        digest = sha256_file(fpath)
        if digest != info.get("sha256"):
            raise BundleError(f"{fpath} : SHA-256 {digest[:16]}… ≠ manifeste "
                              f"{str(info.get('sha256'))[:16]}… (fichier altéré ou tronqué). "
                              "Demandez au cabinet de renvoyer le lot.")
        if verify_only:
            rows = pq.ParquetFile(fpath).metadata.num_rows
        else:
            t = pq.read_table(fpath)
            rows = t.num_rows
            tables[info["table"]] = t
        if rows != info.get("rows"):
            raise BundleError(f"{fpath} : {rows} lignes lues, {info.get('rows')} annoncées.")
    return manifest, tables
