"""Logbook benchmark: the department dashboard for 200 interns × 1 year, and the CISP-2 picker.

    .venv/bin/python benchmarks/bench_logbook.py [--interns 200] [--per-intern 250] [--runs 7]
                                                 [--url postgresql://…]

1. Builds an operational store (SQLite in a temporary folder, or the PostgreSQL database of
   ``--url``, which must be empty) with one department, a supervisor per 4 interns and
   ``--per-intern`` entries per intern over the last year (1–3 problems, 1–3 competences each;
   codes drawn from common CISP-2 codes). Bulk-inserted with `logbook.synth.insert_entries`.
2. Times the department's dashboard (`logbook.dashboard.dashboard`: load the entries from the
   store into Arrow + every aggregate) ``--runs`` times, and one intern's dashboard, and prints
   the median and worst wall time and the median CPU time (target: department < 1 s).
3. Times `terminology.icpc2.search` on each prefix of typical picker queries, keystroke by
   keystroke (target: < 50 ms end to end; the HTTP part is measured by the browser test).

Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np

from p4dp.governance.accounts import hash_password
from p4dp.governance.models import User
from p4dp.governance.store import Store
from p4dp.logbook import reference as R
from p4dp.logbook.dashboard import dashboard
from p4dp.logbook.synth import insert_entries
from p4dp.terminology.icpc2 import search

CODES = ["R74", "K86", "T90", "A62", "R05", "P76", "L03", "H71", "D73", "R80", "R81", "R76",
         "R78", "U71", "L87", "S74", "A44", "T93", "P06", "A50", "X41", "W11", "N01", "L15"]
QUERIES = ["angine", "hta", "lombalgie", "r74", "infec resp", "vaccination", "diabete",
           "otite moyenne", "cystite", "depression"]
TODAY = date(2026, 11, 29)


def build(store: Store, interns: int, per_intern: int, seed: int = 1) -> int:
    rng = np.random.default_rng(seed)
    digest = hash_password("Bench-Logbook-2026!")
    now = datetime.now(UTC)

    def user(username, role, **kw):
        return User(username=username, display_name=username, role=role, password_hash=digest,
                    is_active=True, failed_logins=0, created_at=now, **kw)

    with store.session() as s:
        dept = user("dmg.bench", "department", department="DMG bench")
        sups = [user(f"mds.{k}", "supervisor", department="DMG bench")
                for k in range((interns + 3) // 4)]
        s.add_all([dept, *sups])
        s.flush()
        ints = [user(f"int.{k}", "intern", department="DMG bench", practitioner_id=f"b_{k}",
                     practice_id="bench", supervisor_id=sups[k // 4].id) for k in range(interns)]
        s.add_all(ints)
        s.flush()
        ids = [(u.id, u.supervisor_id) for u in ints]
    keys = [c.key for c in R.competences()]
    entries = []
    for intern_id, sup_id in ids:
        days = np.sort(rng.integers(0, 365, size=per_intern))
        for k, d in enumerate(days):
            n_prob = int(rng.choice([1, 2, 3], p=[0.6, 0.28, 0.12]))
            problems = []
            for pos in range(n_prob):
                codes = rng.choice(CODES, size=3)
                problems.append({"position": pos + 1,
                                 **{f"{f}_text": "texte" for f in R.FIELDS},
                                 **{f"{f}_code": str(c) for f, c in zip(R.FIELDS, codes)},
                                 **{f"{f}_suggested": str(c) for f, c in zip(R.FIELDS, codes)}})
            comps = [{"position": i + 1, "competence": c,
                      "level": R.LEVELS[min(2, int(3 * k / per_intern + rng.random() * 0.5))],
                      "justification": "justification"}
                     for i, c in enumerate(rng.choice(keys, size=int(rng.integers(1, 4)),
                                                      replace=False))]
            entries.append({"intern_id": intern_id, "supervisor_id": sup_id,
                            "date": TODAY - timedelta(days=int(d)), "practice": "bench",
                            "age_band": str(rng.choice(R.AGE_BANDS)),
                            "sex": str(rng.choice(R.SEXES)),
                            "status": "validated" if rng.random() < 0.8 else "submitted",
                            "analysis": "analyse", "comment": None,
                            "problems": problems, "competences": comps})
    return insert_entries(store, entries, actor="bench")


def timed(fn, runs: int) -> tuple[float, float, float, object]:
    """Median and worst wall time, and median CPU time of this process (the machine is shared:
    CPU time is what the dashboard costs; wall time adds the wait for a core)."""
    times, cpu, out = [], [], None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), max(times), statistics.median(cpu), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interns", type=int, default=200)
    ap.add_argument("--per-intern", type=int, default=250)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--url", default=None, help="an empty PostgreSQL database (default: SQLite)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(args.url or f"sqlite:///{tmp}/bench.sqlite")
        t = time.perf_counter()
        n_problems = build(store, args.interns, args.per_intern)
        print(f"store {store.dialect}: {args.interns * args.per_intern} entries, {n_problems} "
              f"problems inserted in {time.perf_counter() - t:.1f} s")
        with store.sessions() as s:
            from sqlalchemy import select

            dept = s.scalar(select(User).where(User.role == "department"))
            intern = s.scalar(select(User).where(User.role == "intern"))
        print(f"load average {os.getloadavg()[0]:.1f}")
        print("| dashboard | wall median | wall worst | CPU median |")
        for label, who in (("department", dept), ("intern", intern)):
            med, worst, cpu, d = timed(lambda who=who: dashboard(store, who, today=TODAY),
                                       args.runs)
            print(f"| {label} ({d.n_interns} interns, {d.n_entries} entries, {d.n_problems} "
                  f"problems) | {med * 1000:.0f} ms | {worst * 1000:.0f} ms | "
                  f"{cpu * 1000:.0f} ms |")
        store.dispose()
    search("warm-up")
    lat = []
    for q in QUERIES:
        for k in range(1, len(q) + 1):
            t = time.perf_counter()
            search(q[:k], limit=10)
            lat.append(time.perf_counter() - t)
    lat.sort()
    print(f"| picker search, {len(lat)} keystrokes | median {statistics.median(lat) * 1000:.2f} ms "
          f"| p95 {lat[int(0.95 * len(lat))] * 1000:.2f} ms, max {lat[-1] * 1000:.2f} ms |")


if __name__ == "__main__":
    main()
