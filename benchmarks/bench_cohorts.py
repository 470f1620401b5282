"""Cohort feasibility speed: a 5-rule cohort (age, diagnosis, lab value, drug, window) with its
attrition table, protected, on a warehouse (issue 8 target: under 1 s at the `primege` scale).

    python benchmarks/bench_cohorts.py /tmp/primege-home/warehouse.duckdb [--repeat 7]

The warehouse is copied to a temporary folder first (the original is never opened). Prints the
first run (Ibis compilation included), the median and the worst of the warm runs (the compiled
SQL is cached per definition), the CPU seconds of a warm run (all threads: a figure that the
machine's load does not inflate), and the attrition counts (exact, for the record).
"""

from __future__ import annotations

import argparse
import os
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

FIVE_RULES = {
    "name": "bench-5-regles", "title_fr": "Diabétiques de type 2 mal équilibrés sous metformine",
    "rules": [
        {"type": "demographics", "age_min": 40, "age_max": 75},
        {"type": "condition", "codes": ["T90"]},
        {"type": "lab", "exam": "HBA1C", "compare": {"op": ">", "value": 64}, "unit": "mmol/mol",
         "window": {"months": 12}},
        {"type": "drug", "atc": ["A10BA"], "window": {"months": 12}, "min_days": 90},
        {"type": "condition", "codes": ["T90"], "origins": ["result", "reason"],
         "window": {"days": 365}, "occurrences": {"min": 2}},
    ]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--index-date", default="2026-11-29")
    args = ap.parse_args()

    from p4dp.analytics.compile import Warehouse
    from p4dp.cohorts.criteria import parse
    from p4dp.cohorts.feasibility import evaluate, feasibility
    from p4dp.privacy.disclosure import Requester

    cohort = parse({**FIVE_RULES, "index_date": args.index_date})
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "warehouse.duckdb"
        shutil.copyfile(args.warehouse, copy)
        wh = Warehouse.open(copy)
        times, cpu = [], []
        for _ in range(args.repeat + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            answer = feasibility(wh, cohort, Requester("researcher"), "bench", b"k" * 32)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        ex = evaluate(wh, cohort, dt.date.fromisoformat(args.index_date))
        exact = [int((ex.steps >= i).sum()) for i in range(len(cohort.rules) + 1)]
    warm = times[1:]
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("| warehouse | rules | first run | warm median | warm max | warm CPU (median) | "
          "exact attrition |")
    print(f"| {args.warehouse.name} | {len(cohort.rules)} | {times[0]:.3f} s | "
          f"{statistics.median(warm):.3f} s | {max(warm):.3f} s | "
          f"{statistics.median(cpu[1:]):.3f} s | {' → '.join(f'{n:,}' for n in exact)} |")
    print("published total:", answer.payload["total"])


if __name__ == "__main__":
    main()
