"""Export the warehouse as Parquet: the exchange layout the distributed engine (Spark) reads.

One folder per table (CDM tables and marts alike), each holding Parquet files, so that Spark reads
`FOLDER/<table>/` as one table whatever the number of files. The export is written to a temporary
folder beside the target and moved into place at the end: a crash never leaves a half-written
export where a reader would find it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

#: Written last, listing each table and its row count: a folder without it is not an export.
MANIFEST = "_p4dp_export.json"


def export_parquet(con: duckdb.DuckDBPyConnection, folder: Path | str,
                   tables: list[str] | None = None) -> dict[str, int]:
    """Write every base table of the warehouse (or the `tables` given) to `folder/<table>/`.

    Replaces an earlier export in `folder`. Returns the row count of each table written.
    """
    folder = Path(folder)
    stored = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
    names = stored if tables is None else list(tables)
    unknown = [n for n in names if n not in stored]
    if unknown:
        raise ValueError(f"tables absentes de l'entrepôt : {', '.join(unknown)} "
                         f"(tables présentes : {', '.join(stored)})")
    if folder.exists() and any(folder.iterdir()) and not (folder / MANIFEST).is_file():
        raise FileExistsError(f"{folder} existe et n'est pas un export P4DP : choisissez un "
                              "dossier vide ou un export précédent à remplacer")
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    counts: dict[str, int] = {}
    try:
        for name in names:
            (tmp / name).mkdir()
            target = (tmp / name / "part-0.parquet").as_posix().replace("'", "''")
            con.execute(f'COPY "{name}" TO \'{target}\' (FORMAT parquet)')
            counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        (tmp / MANIFEST).write_text(json.dumps({"tables": counts}, indent=1), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return counts


def exported_tables(folder: Path | str) -> dict[str, int]:
    """Tables of an export (name → row count), from its manifest."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{folder} n'est pas un export Parquet P4DP (pas de {MANIFEST}) : "
                                "lancez d'abord export_parquet")
    return json.loads(path.read_text(encoding="utf-8"))["tables"]
