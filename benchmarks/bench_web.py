"""Web app under load: N simulated users (asyncio + httpx) against a real uvicorn server on loopback.

    python benchmarks/bench_web.py [WAREHOUSE] [--users 20] [--seconds 30]

Starts `uvicorn p4dp.web.commands:make_app` in a subprocess on a free port with a fresh HOME
(operational store + demo accounts bound to the warehouse's pseudonyms), logs every simulated user
in, warms each (role, theme) once, then lets every user browse for the given time: open a random
tab of their role (default slicers), read it, move the slicers (sex, age range, date range, scope
at random) in 70 % of cases, read again — reading takes `--think` seconds (1–3 by default; 0-0
sends calls back to back and measures saturation). Prints p50 / p95 / max latency of the data calls, errors and throughput as the rows
of the table in benchmarks/README.md. The target (issue 6): 20 users, demo scale, p95 < 500 ms,
zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
#: The simulated population: mostly GPs (the product's main users), then researchers.
MIX = ["medecin", "medecin", "medecin", "chercheur", "chercheur-region", "epidemio", "dim"]
SEXES = [None, "F", "M"]
AGES = [(None, None), (0, 15), (16, 60), (61, None), (6, 15)]
DATES = [(None, None), ("2024-01-01", None), ("2020-01-01", "2024-12-31")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, warehouse: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "P4DP_HOME": str(home), "P4DP_WAREHOUSE_PATH": str(warehouse),
           "P4DP_SECRET_KEY": "bench-" + "k" * 40}
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "p4dp.web.commands:make_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT)


async def wait_up(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as c:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("the server exited")
            try:
                if (await c.get(base + "/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start")


async def login(base: str, username: str, password: str) -> httpx.AsyncClient:
    c = httpx.AsyncClient(base_url=base, timeout=60)
    page = await c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    r = await c.post("/login", data={"username": username, "password": password,
                                     "csrf_token": token, "next": "/"})
    if r.status_code != 303:
        raise RuntimeError(f"login {username}: {r.status_code}")
    return c


def random_query(rng: random.Random, scopes: list[str]) -> dict:
    sex, (a0, a1), (d0, d1) = rng.choice(SEXES), rng.choice(AGES), rng.choice(DATES)
    q = {"scope": rng.choice(scopes), "sex": sex, "age_min": a0, "age_max": a1,
         "date_from": d0, "date_to": d1}
    return {k: v for k, v in q.items() if v is not None}


async def user_loop(c: httpx.AsyncClient, me: dict, seed: int, until: float,
                    think: tuple[float, float], out: list[tuple]) -> None:
    """Open a random tab (default slicers), read it, then move the slicers (70 %), read."""
    rng = random.Random(seed)
    scopes = [s["key"] for s in me["scopes"]]

    async def call(theme: str, params: dict) -> None:
        t0 = time.perf_counter()
        r = await c.get(f"/api/v1/themes/{theme}", params=params)
        out.append((time.perf_counter() - t0, r.status_code, theme, bool(params)))
        await asyncio.sleep(rng.uniform(*think))

    while time.monotonic() < until:
        theme = rng.choice(me["themes"])
        await call(theme, {})
        if rng.random() < 0.7 and time.monotonic() < until:
            await call(theme, random_query(rng, scopes))


async def run(warehouse: Path, users: int, seconds: float, think: tuple[float, float]) -> None:
    from p4dp.governance.demo import create_demo_accounts
    from p4dp.governance.store import Store

    home = Path(tempfile.mkdtemp(prefix="bench-web-"))
    store = Store.open(f"sqlite:///{(home / 'p4dp.sqlite').resolve()}")
    accounts = {u: pw for u, pw, _r, _d in create_demo_accounts(store, warehouse)}
    store.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(home, warehouse, port)
    try:
        await wait_up(base, proc)
        names = [MIX[i % len(MIX)] for i in range(users)]
        clients = [await login(base, n, accounts[n]) for n in names]
        profiles = [(await c.get("/api/v1/me")).json() for c in clients]
        t0 = time.perf_counter()
        seen = set()
        for c, me in zip(clients, profiles):  # warm: each role's tabs once (compiles the SQL)
            for theme in me["themes"]:
                if (me["role"], theme) not in seen:
                    seen.add((me["role"], theme))
                    await c.get(f"/api/v1/themes/{theme}")
        warm = time.perf_counter() - t0
        samples: list[tuple] = []
        until = time.monotonic() + seconds
        t0 = time.perf_counter()
        await asyncio.gather(*(user_loop(c, me, i, until, think, samples)
                               for i, (c, me) in enumerate(zip(clients, profiles))))
        wall = time.perf_counter() - t0
        for c in clients:
            await c.aclose()
    finally:
        proc.terminate()
        proc.wait(30)
    lat = sorted(s[0] for s in samples)
    errors = sum(1 for s in samples if s[1] != 200)
    p95 = percentile(lat, 0.95)
    print(f"warm-up (each role's tabs once, cold SQL): {warm:.1f} s")
    print("| users | think s | calls | errors | p50 ms | p95 ms | max ms | calls/s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {users} | {think[0]:g}–{think[1]:g} | {len(lat)} | {errors} | "
          f"{1000 * statistics.median(lat):.0f} | {1000 * p95:.0f} | {1000 * lat[-1]:.0f} | "
          f"{len(lat) / wall:.1f} |")
    print("\n| tab | default slicers: calls, p95 ms | moved slicers: calls, p95 ms |")
    print("| --- | ---: | ---: |")
    for theme in sorted({s[2] for s in samples}):
        cells = []
        for moved in (False, True):
            xs = sorted(s[0] for s in samples if s[2] == theme and s[3] == moved)
            cells.append(f"{len(xs)}, {1000 * percentile(xs, 0.95):.0f}" if xs else "—")
        print(f"| {theme} | {cells[0]} | {cells[1]} |")


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[int(q * (len(sorted_values) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse", nargs="?", default=str(ROOT / "var" / "warehouse.duckdb"))
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--think", default="1-3", help="a user's reading time between two calls, "
                    "seconds, uniform in MIN-MAX (0-0: back-to-back calls, saturation)")
    a = ap.parse_args()
    lo, hi = (float(x) for x in a.think.split("-"))
    asyncio.run(run(Path(a.warehouse), a.users, a.seconds, (lo, hi)))


if __name__ == "__main__":
    main()
