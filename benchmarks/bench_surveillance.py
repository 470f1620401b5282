"""Speed of epidemiological surveillance (issue 7: all syndromes × all regions × 10 years of
weekly series, thresholds included, in under 2 s at the primege scale).

    python benchmarks/bench_surveillance.py WAREHOUSE [--years 10] [--runs 5] [--keep-copy]

WAREHOUSE is copied to a temporary file first (`run` writes its tables), then, on the copy:

1. **recompute**: the weekly cube from the CDM tables — the case query and the active-patient
   (GP-list) query over `--years` years plus the 5 training years of the first thresholds — and
   the Serfling baselines, thresholds and epidemics of every syndrome × region series;
2. **run**: `p4dp surveillance run` (everything from the CDM tables over the whole history,
   stored: weekly cube and alerts);
3. **served**: what the bulletin and the web page do after a run — the stored cube of `--years`
   years (plus training) read back and every series' thresholds and epidemics recomputed,
   `--runs` times in a fresh Warehouse each (min / median / max);
4. **API**: one weekly series (protected for an epidemiologist) and one regions table, p95 over
   `--runs`; one bulletin in HTML.

The machine's load average is printed with the figures (the project's machine is shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import ibis

from p4dp.analytics.compile import Warehouse
from p4dp.privacy.disclosure import Requester
from p4dp.surveillance import api
from p4dp.surveillance.analysis import analyse, analyse_warehouse, run
from p4dp.surveillance.bulletin import bulletin_data, render_bulletin_html
from p4dp.surveillance.incidence import build_cube, last_data_date, week_label
from p4dp.surveillance.serfling import TRAINING_YEARS


def seconds(f) -> tuple[float, object]:
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--years", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep-copy", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-surv-"))
    path = tmp / "warehouse.duckdb"
    shutil.copy(args.warehouse, path)
    rows: list[tuple[str, str]] = []
    try:
        wh = Warehouse(ibis.duckdb.connect(str(path)))
        last = last_data_date(wh)
        start = last - dt.timedelta(days=round((args.years + TRAINING_YEARS) * 365.25))
        t, cube = seconds(lambda: build_cube(wh, start=start, end=last))
        t2, a = seconds(lambda: analyse(cube))
        shape = cube.cases.shape
        rows.append((f"recompute from CDM: {shape[0]} syndromes × {shape[1]} regions × "
                     f"{shape[2]} weeks", f"{t + t2:.2f} s (queries {cube.timings['queries_s']:.2f}"
                     f" s, thresholds {t2:.2f} s)"))
        t, report = seconds(lambda: run(wh))
        rows.append((f"`run`: whole history ({report.weeks} weeks), stored", f"{t:.2f} s"))
        wh.backend.disconnect()

        served = []
        for _ in range(args.runs):
            wh = Warehouse.open(path)
            t, a = seconds(lambda: analyse_warehouse(wh, years=args.years))
            served.append(t)
            wh.backend.disconnect()
        shape = a.cube.cases.shape
        rows.append((f"served (stored cube + thresholds): {shape[0]} × {shape[1]} × {shape[2]} "
                     f"weeks, {args.runs} runs",
                     f"min {min(served):.2f} s, median {statistics.median(served):.2f} s, "
                     f"max {max(served):.2f} s"))

        wh = Warehouse.open(path)
        req = Requester("epidemiologist")
        api.analysis(wh)  # the API keeps the analysis in memory between requests
        region = a.cube.regions[0]
        week = week_label(a.cube.weeks[-10])
        series = [seconds(lambda: api.weekly_series(wh, "grippe", region, req))[0]
                  for _ in range(args.runs)]
        table = [seconds(lambda: api.regions_table(wh, "grippe", week, req))[0]
                 for _ in range(args.runs)]
        p95 = lambda xs: sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]  # noqa: E731
        rows.append((f"API weekly series (grippe, {region}, whole history), p95",
                     f"{1000 * p95(series):.0f} ms"))
        rows.append((f"API regions table (grippe, {week}), p95", f"{1000 * p95(table):.0f} ms"))
        t, data = seconds(lambda: bulletin_data(wh, week, req))
        t2, _ = seconds(lambda: render_bulletin_html(data))
        rows.append((f"bulletin {week}: data / HTML rendering", f"{t:.2f} s / {t2:.2f} s"))
    finally:
        if not args.keep_copy:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"warehouse {args.warehouse}, load average {os.getloadavg()[0]:.1f}")
    print("| measure | time |\n| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
