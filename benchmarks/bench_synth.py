"""Time the synthetic network generator per preset and its peak memory; print markdown rows.

    .venv/bin/python benchmarks/bench_synth.py tiny demo [--mode build|stream|generate] [--seed 42]

Each preset runs in a fresh subprocess so that peak RSS (``ru_maxrss``) is that preset's alone.
Modes: ``build`` = ``build_network`` (the whole network in memory, what tests use);
``stream`` = the practice-by-practice build that ``generate`` uses, without writing exports;
``generate`` = ``generate`` into a temporary folder (export writers included).
Not a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

TODAY = date(2026, 11, 29)


def _child(preset: str, mode: str, seed: int) -> dict:
    t0 = time.perf_counter()
    rows: dict[str, int] = {}
    if mode == "build":
        from p4dp.synth import build_network

        net = build_network(preset, seed, today=TODAY)
        rows = {k: v.num_rows for k, v in net.tables.items()}
    elif mode == "stream":
        from p4dp.synth.network import iter_practices, network_context

        ctx = network_context(preset, seed, TODAY)
        for _, tables, _truth in iter_practices(ctx):
            for k, v in tables.items():
                rows[k] = rows.get(k, 0) + v.num_rows
    else:
        from p4dp.synth import generate

        tmp = Path(tempfile.mkdtemp(prefix="bench-synth-"))
        try:
            generate(preset, seed, tmp / "net", today=TODAY)
            rows = {"bytes": sum(p.stat().st_size for p in (tmp / "net").rglob("*") if p.is_file())}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB → GiB
    return {"preset": preset, "mode": mode, "seconds": seconds, "peak_gib": peak, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("presets", nargs="+")
    ap.add_argument("--mode", choices=("build", "stream", "generate"), default="build")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.presets[0], args.mode, args.seed)))
        return
    print("| preset | mode | seconds | peak RSS (GiB) | encounters | problems | biometrics | "
          "bytes written |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for preset in args.presets:
        out = subprocess.run([sys.executable, __file__, preset, "--mode", args.mode, "--seed",
                              str(args.seed), "--child"], capture_output=True, text=True, check=True)
        line = out.stdout.strip().splitlines()[-1]
        print(line, file=sys.stderr)  # the raw measurement, in case the table row fails
        r = json.loads(line)

        def cell(key: str) -> str:
            v = r["rows"].get(key)
            return "–" if v is None else f"{v:,}".replace(",", " ")

        print(f"| {preset} | {r['mode']} | {r['seconds']:.1f} | {r['peak_gib']:.2f} | "
              f"{cell('encounter')} | {cell('problem')} | {cell('biometric')} | {cell('bytes')} |",
              flush=True)


if __name__ == "__main__":
    main()
