"""End-to-end runs: each practice's agent step, then the central load, over a network folder.

This is the only module that crosses from the practice side (agent) to the central side
(warehouse); in production the two halves run on different machines and a bundle travels between
them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path

from p4dp.settings import Settings
from p4dp.warehouse.load import BatchResult, load_bundle

@dataclass(frozen=True)
class PracticeConfig:
    source_id: str
    practice_id: str
    vendor_format: str
    export_dir: Path
    export_period: tuple[date, date] | None = None


@dataclass
class IngestReport:
    batches: list[BatchResult] = field(default_factory=list)
    agent_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows_loaded(self) -> int:
        return sum(b.rows_loaded for b in self.batches)


class NetworkError(ValueError):
    pass


def read_network(folder: Path) -> list[PracticeConfig]:
    """Read the agents' configuration (`network.json`) of a network folder."""
    path = folder / "network.json"
    if not path.is_file():
        raise NetworkError(
            f"{folder}: no network.json — expected a folder written by `p4dp synth` "
            "(network.json + exports/<source>/)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise NetworkError(f"{path}: line {e.lineno}: invalid JSON ({e.msg})") from None
    practices = data["practices"] if isinstance(data, dict) else data
    out = []
    for i, p in enumerate(practices):
        try:
            period = None
            if p.get("export_start") and p.get("export_end"):
                period = (date.fromisoformat(p["export_start"]), date.fromisoformat(p["export_end"]))
            cfg = PracticeConfig(p["source_id"], p["practice_id"], p["vendor_format"],
                                 folder / p.get("export_folder", f"exports/{p['source_id']}"),
                                 period)
        except KeyError as e:
            raise NetworkError(f"{path}: practices[{i}] lacks field {e.args[0]!r}") from None
        except ValueError as e:
            raise NetworkError(f"{path}: practices[{i}]: bad export period ({e})") from None
        if not cfg.export_dir.is_dir():
            raise NetworkError(f"{path}: practices[{i}]: export folder {cfg.export_dir} is missing")
        out.append(cfg)
    return out


def _run_agent(cfg: PracticeConfig, settings: Settings, bundles_dir: Path) -> tuple[Path, float]:
    """One practice's agent step (in the agents' worker process): its bundle and seconds."""
    from p4dp.agent import prepare

    t = time.perf_counter()
    bundle = prepare(cfg.export_dir, cfg.vendor_format, cfg.source_id, cfg.practice_id,
                     settings, bundles_dir, export_period=cfg.export_period)
    return bundle, time.perf_counter() - t


def ingest_network(
    folder: Path,
    settings: Settings,
    *,
    as_of: date | None = None,
    on_practice: Callable[[PracticeConfig, str], None] | None = None,
) -> IngestReport:
    """Run the agent for every practice of `folder` and load each bundle, in the network's order.

    The agents run in one worker process ahead of the central load, as practices' agents run on
    their own machines: a practice's export is read, pseudonymised and bundled while the previous
    practice's bundle loads (benchmarks/README.md, ingestion). Loads stay one at a time, in order;
    a failure stops the agents not yet started.
    """
    configs = read_network(folder)
    report = IngestReport()
    bundles_dir = settings.home / "bundles"
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as agents:
        pending = [agents.submit(_run_agent, cfg, settings, bundles_dir) for cfg in configs]
        try:
            for cfg, agent in zip(configs, pending):
                step = (lambda msg, cfg=cfg: on_practice(cfg, msg)) if on_practice else None
                if step:
                    step("agent : lecture, pseudonymisation, nettoyage du texte libre")
                bundle, seconds = agent.result()
                report.agent_seconds[cfg.source_id] = seconds
                report.batches.append(load_bundle(bundle, settings, as_of=as_of, progress=step))
        except BaseException:
            agents.shutdown(wait=True, cancel_futures=True)
            raise
    return report
