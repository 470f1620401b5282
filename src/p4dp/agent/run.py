"""Run the agent for every practice of an agents' configuration (``network.json``).

The configuration names, for each practice, its source code, network practice id, export format,
export folder and export period (docs/dev/CONTRACTS.md, "Synthetic network folder"). In production
each practice runs its own agent on its own configuration; the synthetic network simply has many.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from p4dp.agent.prepare import PrepareError, Progress, prepare
from p4dp.settings import Settings

CONFIG_FILE = "network.json"


@dataclass(frozen=True)
class AgentConfig:
    source_id: str
    practice_id: str
    vendor_format: str
    export_dir: Path
    export_period: tuple[date, date] | None


def read_config(folder: Path) -> list[AgentConfig]:
    """The practices of ``folder/network.json``, with a clear error for each missing piece."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise PrepareError(f"{path} : configuration absente (attendu : le network.json écrit par "
                           "« p4dp synth » ou fourni au cabinet).")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise PrepareError(f"{path} : JSON illisible ({e}).") from None
    out = []
    for i, p in enumerate(data["practices"] if isinstance(data, dict) else data):
        try:
            folder_name = p.get("export_folder") or f"exports/{p['source_id']}"
            period = None
            if p.get("export_start") and p.get("export_end"):
                period = (date.fromisoformat(p["export_start"]),
                          date.fromisoformat(p["export_end"]))
            out.append(AgentConfig(p["source_id"], p["practice_id"], p["vendor_format"],
                                   Path(folder) / folder_name, period))
        except KeyError as e:
            raise PrepareError(f"{path} : practices[{i}] sans champ {e.args[0]!r}.") from None
        except ValueError as e:
            raise PrepareError(f"{path} : practices[{i}] : période d'export invalide ({e}), "
                               "attendu AAAA-MM-JJ.") from None
    return out


def run(folder: Path, settings: Settings, out_dir: Path, *, progress: Progress | None = None
        ) -> list[Path]:
    """Prepare one bundle per practice of ``folder/network.json``; returns the bundle folders."""
    bundles = []
    for cfg in read_config(folder):
        say = (lambda msg, s=cfg.source_id: progress(f"{s} : {msg}")) if progress else None
        bundles.append(prepare(cfg.export_dir, cfg.vendor_format, cfg.source_id, cfg.practice_id,
                               settings, out_dir, export_period=cfg.export_period, progress=say))
    return bundles
