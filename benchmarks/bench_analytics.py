"""Speed of the indicator library (issue 5: full library < 5 s cold, one dashboard < 300 ms p95).

    python benchmarks/bench_analytics.py WAREHOUSE [--theme surpoids] [--runs 100] [--seed 1]
    python benchmarks/bench_analytics.py WAREHOUSE --synthetic 180000   # build a random one first
    python benchmarks/bench_analytics.py WAREHOUSE --cold-only --sql-cache DIR   # one cold run
    python benchmarks/bench_analytics.py WAREHOUSE --refresh-marts   # store the marts first
    python benchmarks/bench_analytics.py WAREHOUSE --spark DIR   # the library on local Spark

Measures, on a read-only DuckDB warehouse:

1. **cold**: a fresh Python process opens the warehouse and runs every indicator of the library
   for the whole base, with disclosure control for a researcher (what the API serves) — once
   with an empty compiled-SQL cache (first run ever), once with the cache its predecessor left
   (every later start);
2. **dashboard**: one theme's indicators (a dashboard) under `--runs` random filter sets (scope,
   sex, age range, date range), p50 / p95 per dashboard, after one untimed request per kind of
   scope (each query shape is compiled once; a server then reads it from its disk SQL cache);
3. **baseline**: the same indicators as plain SQL strings executed by DuckDB directly, one
   query per indicator, distinct patients as `count(DISTINCT patient_id)` (no Ibis compilation,
   no disclosure control, no grouping sets, no bitmap of keys): the ratio ours / plain SQL is
   what the engine layer costs or saves over hand-written SQL on the same tables and marts.

`--refresh-marts` (re)builds every mart of the warehouse, timed (on a copy: the file is written).
`--spark DIR` exports the warehouse as Parquet to DIR (timed) and runs every indicator of the
library for the whole base once on a local Spark session (`local[2]`), after one warm-up run.

`--synthetic N` writes a random warehouse of N patients (≈ 20 encounters, 1.3 problems per
encounter, biometrics, INR) to WAREHOUSE first: a stand-in when no `p4dp demo` warehouse exists;
its figures are not the primege preset's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pyarrow as pa

from p4dp.analytics.compile import Warehouse, compile_indicator
from p4dp.analytics.library import all_indicators, by_theme
from p4dp.analytics.model import Filters, Period, Scope
from p4dp.analytics.runner import run_protected
from p4dp.cdm import ALL_TABLES, table
from p4dp.privacy.disclosure import Requester

CODES = ["R74", "K86", "R78", "L03", "T90", "A62", "R05", "P76", "P06", "A44", "_", "R76", "H71"]


def _arrow(name: str, cols: dict) -> pa.Table:
    schema = table(name).arrow_schema("central")
    n = len(next(iter(cols.values())))
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) if f.name in cols
                     else pa.nulls(n, type=f.type) for f in schema})


def make_synthetic(path: Path, n_patients: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    for t in ALL_TABLES:
        con.execute(t.duckdb_ddl())
    n_prac, n_gp = max(n_patients // 4500, 2), max(n_patients // 2500, 3)
    prac = [f"p{i}" for i in range(n_prac)]
    gps = np.array([f"src_g{i}" for i in range(n_gp)])
    gp_prac = np.array([prac[i % n_prac] for i in range(n_gp)])
    tabs = {
        "practice": _arrow("practice", {
            "source_id": ["src"] * n_prac, "practice_id": prac,
            "region_code": ["93" if i % 2 else "28" for i in range(n_prac)],
            "departement_code": ["06"] * n_prac, "kind": ["cabinet"] * n_prac}),
        "practitioner": _arrow("practitioner", {
            "source_id": ["src"] * n_gp, "practitioner_id": gps.tolist(),
            "practice_id": gp_prac.tolist(), "sex": rng.choice(["F", "M"], n_gp).tolist(),
            "role": ["gp"] * n_gp, "participation": ["active"] * n_gp})}
    pid = np.array([f"src_{i}" for i in range(n_patients)])
    pgp = rng.integers(0, n_gp, n_patients)
    tabs["patient"] = _arrow("patient", {
        "source_id": ["src"] * n_patients, "patient_id": pid.tolist(),
        "practice_id": gp_prac[pgp].tolist(), "gp_id": gps[pgp].tolist(),
        "sex": rng.choice(["F", "M"], n_patients).tolist(),
        "birth_year": rng.integers(1925, 2022, n_patients).astype(np.int16),
        "birth_month": rng.integers(1, 13, n_patients).astype(np.int16),
        "opposition": np.zeros(n_patients, bool)})
    n_enc = n_patients * 20
    who = rng.integers(0, n_patients, n_enc)
    day0 = np.datetime64("2015-01-01")
    days = (day0 + rng.integers(0, 8 * 365, n_enc)).astype("datetime64[D]")
    enc_id = np.char.add("e", np.arange(n_enc).astype(str))
    tabs["encounter"] = _arrow("encounter", {
        "source_id": np.full(n_enc, "src"), "encounter_id": enc_id, "patient_id": pid[who],
        "practitioner_id": gps[pgp[who]], "date": days,
        "kind": rng.choice(["cabinet", "visite", "teleconsultation"], n_enc, p=[.85, .1, .05])})
    sel = rng.random(n_enc) < 0.3
    n_pb = int(n_enc * 1.3)
    pick = np.concatenate([np.arange(n_enc), np.flatnonzero(sel)])[:n_pb]
    tabs["problem"] = _arrow("problem", {
        "source_id": np.full(len(pick), "src"),
        "problem_id": np.char.add("pb", np.arange(len(pick)).astype(str)),
        "encounter_id": enc_id[pick], "patient_id": pid[who[pick]],
        "practitioner_id": gps[pgp[who[pick]]], "date": days[pick],
        "result_code": rng.choice(CODES, len(pick)), "reason_code": rng.choice(CODES, len(pick))})
    nb = n_enc // 4
    bsel = rng.integers(0, n_enc, nb)
    w = rng.uniform(15, 90, nb)
    h = rng.uniform(110, 190, nb)
    tabs["biometric"] = _arrow("biometric", {
        "source_id": np.full(2 * nb, "src"),
        "biometric_id": np.char.add("b", np.arange(2 * nb).astype(str)),
        "patient_id": np.concatenate([pid[who[bsel]]] * 2),
        "date": np.concatenate([days[bsel]] * 2),
        "kind": np.repeat(["weight", "height"], nb), "value": np.concatenate([w, h])})
    ni = n_patients * 2
    isel = rng.integers(0, n_enc, ni)
    anticoag = who[isel] % 25 == 0  # 4 % of patients on VKA
    isel = isel[anticoag]
    tabs["lab_result"] = _arrow("lab_result", {
        "source_id": np.full(len(isel), "src"),
        "lab_result_id": np.char.add("l", np.arange(len(isel)).astype(str)),
        "patient_id": pid[who[isel]], "date": days[isel], "raw_label": np.full(len(isel), "INR"),
        "exam_code": np.full(len(isel), "inr"), "value": rng.gamma(9, 0.28, len(isel))})
    for name, t in tabs.items():
        con.register("t_in", t)
        con.execute(f"INSERT INTO {name} SELECT * FROM t_in")
        con.unregister("t_in")
    con.close()


def random_filters(rng: random.Random, wh: Warehouse) -> tuple[Scope, Filters]:
    gps = wh.backend.raw_sql("SELECT practitioner_id, practice_id FROM practitioner").fetchall()
    regions = [r[0] for r in wh.backend.raw_sql("SELECT DISTINCT region_code FROM practice")
               .fetchall()]
    kind = rng.choice(["base", "practitioner", "practice", "region"])
    scope = {"base": Scope(), "practitioner": Scope("practitioner", rng.choice(gps)[0]),
             "practice": Scope("practice", rng.choice(gps)[1]),
             "region": Scope("region", rng.choice(regions))}[kind]
    lo = rng.choice([None, 0, 6, 16, 40])
    hi = None if lo is None else rng.choice([lo + 9, lo + 30, None])
    start = dt.date(rng.randint(2014, 2021), rng.randint(1, 12), 1)
    period = rng.choice([Period(), Period(start, None), Period(start, start + dt.timedelta(400))])
    return scope, Filters(sex=rng.choice([None, "F", "M"]), age_min=lo, age_max=hi,
                          period=period)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--theme", default="surpoids",
                    help="dashboard(s) to time, comma-separated (e.g. surpoids,examen)")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold full-library runs")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--synthetic", type=int, default=0, metavar="PATIENTS")
    ap.add_argument("--cold-only", action="store_true", help="time one cold run and exit")
    ap.add_argument("--sql-cache", type=Path, default=None, help="compiled-SQL cache folder")
    ap.add_argument("--no-disclosure", action="store_true", help="with --cold-only: run the "
                    "queries only (run_indicator), without disclosure control")
    ap.add_argument("--refresh-marts", action="store_true", help="rebuild every mart first")
    ap.add_argument("--spark", type=Path, default=None, metavar="DIR",
                    help="export to DIR as Parquet and time the library on local Spark")
    args = ap.parse_args()
    if args.refresh_marts:
        from p4dp.warehouse.marts import refresh_marts

        con = duckdb.connect(str(args.warehouse))
        t0 = time.perf_counter()
        con.execute("BEGIN")
        refresh_marts(con)
        con.execute("COMMIT")
        con.close()
        print(f"refresh_marts, all sources: {time.perf_counter() - t0:.1f} s", flush=True)
    if args.spark:
        _spark(args.warehouse, args.spark)
        return
    if args.synthetic:
        t0 = time.perf_counter()
        make_synthetic(args.warehouse, args.synthetic, args.seed)
        print(f"synthetic warehouse: {args.synthetic} patients in "
              f"{time.perf_counter() - t0:.1f} s")
    who = Requester("researcher")
    if args.cold_only:
        t0 = time.perf_counter()
        wh = Warehouse.open(args.warehouse, cache_dir=args.sql_cache)
        if args.no_disclosure:
            from p4dp.analytics.compile import run_indicator

            gp = wh.backend.raw_sql("SELECT min(practitioner_id) FROM practitioner").fetchone()[0]
            payloads = [run_indicator(wh, ind, Scope("practitioner", gp)
                                      if ind.scope_policy == "practitioner" else Scope())
                        for ind in all_indicators().values()]
        else:
            payloads = list(run_protected(wh, [], who))
        print(f"{len(payloads)} {time.perf_counter() - t0:.3f}")
        return

    for extra, what in ((([], "with disclosure control (researcher)"),
                         (["--no-disclosure"], "queries only")) if not args.no_cold else ()):
        cache = Path(tempfile.mkdtemp(prefix="p4dp-sql-cache-"))
        for label in ("empty SQL cache", "warm SQL cache"):
            out = subprocess.run([sys.executable, __file__, str(args.warehouse), "--cold-only",
                                  "--sql-cache", str(cache), *extra], capture_output=True,
                                 text=True, check=True).stdout.split()
            print(f"full library, whole base, cold process, {label}, {what}: {out[0]} "
                  f"indicators in {float(out[1]):.2f} s", flush=True)
        shutil.rmtree(cache, ignore_errors=True)
    wh = Warehouse.open(args.warehouse)
    for theme in args.theme.split(","):
        _dashboard(wh, theme, args.runs, args.seed, who)


def _dashboard(wh: Warehouse, theme: str, runs: int, seed: int, who: Requester) -> None:
    names = [i.name for i in by_theme(theme)]
    rng = random.Random(seed)
    sets = [random_filters(rng, wh) for _ in range(runs)]
    from p4dp.analytics.compile import run_indicators

    ours, queries, plain = [], [], []
    # same DuckDB connection (the IOTF cut-offs are registered there as an in-memory table)
    raw = wh.backend.con
    # one untimed request per kind of scope first: a server compiles each query shape once
    # (then reads it from its disk SQL cache, `SqlDiskCache`); the runs time answering
    warm = {s.kind: (s, f) for s, f in sets}
    for scope, filters in warm.values():
        list(run_protected(wh, names, who, scope, filters))
    for scope, filters in sets:
        t = time.perf_counter()
        list(run_protected(wh, names, who, scope, filters))
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        # a GP-only indicator asked for another scope gives an error, as above
        run_indicators(wh, [all_indicators()[n] for n in names], scope, filters)
        queries.append(time.perf_counter() - t)
        sqls = []
        for n in names:
            ind = all_indicators()[n]
            try:
                sqls.append(ibis.to_sql(compile_indicator(wh, ind, scope, filters).expr,
                                        dialect="duckdb"))
            except ValueError:
                pass  # e.g. a GP-only indicator asked for a practice: not run by ours either
        t = time.perf_counter()
        for s in sqls:
            raw.execute(str(s)).arrow()
        plain.append(time.perf_counter() - t)

    def p95(xs):
        return float(np.percentile(xs, 95))

    print(f"dashboard {theme!r} ({len(names)} indicators) over {runs} filter sets: "
          f"p50 {statistics.median(ours) * 1000:.0f} ms, p95 {p95(ours) * 1000:.0f} ms")
    print(f"  queries only (no disclosure control): p50 {statistics.median(queries) * 1000:.0f} "
          f"ms, p95 {p95(queries) * 1000:.0f} ms")
    print(f"plain SQL of the same queries: p50 {statistics.median(plain) * 1000:.0f} ms, "
          f"p95 {p95(plain) * 1000:.0f} ms; ratio p95 ours/plain "
          f"{p95(ours) / max(p95(plain), 1e-9):.2f}, queries only/plain "
          f"{p95(queries) / max(p95(plain), 1e-9):.2f}", flush=True)


def _spark(warehouse: Path, folder: Path) -> None:
    from p4dp.analytics.compile import run_indicator
    from p4dp.warehouse.parquet import export_parquet
    from p4dp.warehouse.spark import connect_spark, local_session

    t0 = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = sum(export_parquet(con, folder).values())
        gp = con.execute("SELECT min(practitioner_id) FROM practitioner").fetchone()[0]
    print(f"export_parquet: {rows} rows in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    session = local_session()
    session.sparkContext.setLogLevel("ERROR")
    wh = Warehouse(connect_spark(folder, session))
    print(f"Spark session and views: {time.perf_counter() - t0:.1f} s", flush=True)
    inds = list(all_indicators().values())
    for label in ("first run", "second run"):
        times = {}
        for ind in inds:
            scope = Scope("practitioner", gp) if ind.scope_policy == "practitioner" else Scope()
            t = time.perf_counter()
            run_indicator(wh, ind, scope, Filters())
            times[ind.name] = time.perf_counter() - t
        slow = sorted(times, key=times.get, reverse=True)[:3]
        print(f"Spark local[2], {label}: {len(inds)} indicators in {sum(times.values()):.1f} s "
              f"(median {statistics.median(times.values()):.2f} s; slowest "
              + ", ".join(f"{n} {times[n]:.1f} s" for n in slow) + ")", flush=True)
    session.stop()


if __name__ == "__main__":
    main()
