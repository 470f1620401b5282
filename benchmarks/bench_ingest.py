"""End-to-end ingestion benchmark: agent (read, pseudonymise, scrub, bundle) then central load
(verify, code, check, load, marts), with rows per second per stage and peak memory.

Usage: python benchmarks/bench_ingest.py NETWORK_DIR [--home DIR]
(NETWORK_DIR written beforehand by `p4dp synth --preset demo --seed 42 --out NETWORK_DIR`).
Prints a markdown table to paste into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from p4dp.pipeline import ingest_network
from p4dp.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("network", type=Path)
    ap.add_argument("--home", type=Path, default=None)
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="p4dp-bench-"))
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home)
    t = time.perf_counter()
    report = ingest_network(args.network, settings)
    total = time.perf_counter() - t
    stages: dict[str, float] = defaultdict(float)
    stages["agent"] = sum(report.agent_seconds.values())
    for b in report.batches:
        for k, v in b.stage_seconds.items():
            stages[k] += v
    rows_in = sum(b.rows_in for b in report.batches)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    agents_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"network: {args.network}  batches: {len(report.batches)}  rows: {rows_in:,}")
    print("| stage | seconds | rows/s |")
    print("| --- | ---: | ---: |")
    for k, v in stages.items():
        print(f"| {k} | {v:.1f} | {rows_in / v:,.0f} |" if v else f"| {k} | 0 | - |")
    print(f"| **total** | **{total:.1f}** | {rows_in / total:,.0f} |")
    print("(the agents run in a worker process while the previous bundle loads: the stages "
          "overlap and add up to more than the total)")
    print(f"peak RSS: {peak_mib:,.0f} MiB (agents' worker: {agents_mib:,.0f} MiB); "
          f"loaded {report.rows_loaded:,}, "
          f"quarantined {sum(b.rows_quarantined for b in report.batches):,}, "
          f"repaired {sum(b.rows_repaired for b in report.batches):,}")


if __name__ == "__main__":
    main()
