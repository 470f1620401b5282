"""Throughput of the free-text coder (issue 4 target: >= 20,000 texts/s on 2 cores).

Usage: python benchmarks/bench_coding.py [--stream 500000] [--pool 30000] [--seed 4]

Builds a pool of distinct GP-like texts from the coder's own dev set (each text decorated with
the variations GP text shows: duration, laterality, case, a prefix, a typo), then draws a stream
from the pool with a Zipf distribution (GP text repeats a lot: a few texts — "HTA",
"renouvellement" — make most rows). Reports:

* stream throughput: texts/s of ``code_texts`` on the stream, in batches, cold process cache;
* unique-text throughput: texts/s on distinct texts only (no cache hit), split by whether edsnlp
  ran (texts with a negation / hypothesis / family cue);
* the share of distinct texts in the stream.

Nothing here reads tests/ or the synthetic generator's data.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import tempfile
import time
from importlib import resources

import numpy as np
import pyarrow as pa

#: Zipf exponent of the repeat distribution: a few texts make most rows (a=1.1 gives a head of
#: about 10 % of rows for the most frequent text, like "renouvellement ordonnance").
ZIPF_A = 1.1
BATCH = 100_000

_DECOR = [
    lambda t, r: t,
    lambda t, r: f"{t} depuis {r.randint(1, 15)} jours",
    lambda t, r: f"{t} {r.choice(['droit', 'gauche', 'D', 'G', 'bilatéral'])}",
    lambda t, r: t.upper(),
    lambda t, r: f"cs pour {t}",
    lambda t, r: f"{t} ++",
    lambda t, r: _typo(t, r),
    lambda t, r: f"{t}, {r.choice(['pas de fièvre', 'RAS', 'revoir si besoin', 'ATCD familial de diabète'])}",
]


def _typo(t: str, r: random.Random) -> str:
    if len(t) < 6:
        return t
    i = r.randrange(1, len(t) - 1)
    return t[:i] + t[i + 1:]


def dev_texts() -> list[tuple[str, str]]:
    path = resources.files("p4dp.coding.data").joinpath("dev_set.csv")
    rows = csv.DictReader(path.read_text(encoding="utf-8").splitlines())
    return [(r["text"], r["field"]) for r in rows]


def build_pool(size: int, seed: int) -> list[tuple[str, str]]:
    r = random.Random(seed)
    base = dev_texts()
    pool: dict[tuple[str, str], None] = {}
    for t, f in base:
        pool[(t, f)] = None
    attempts = 0
    while len(pool) < size and attempts < 50 * size:
        attempts += 1
        t, f = r.choice(base)
        # One or two decorations: enough distinct variants for large pools.
        for _ in range(r.randint(1, 2)):
            t = r.choice(_DECOR)(t, r)
        pool[(t, f)] = None
    out = list(pool)
    r.shuffle(out)
    return out[:size]


def zipf_indices(n: int, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, size + 1, dtype=np.float64)
    p = ranks ** -ZIPF_A
    p /= p.sum()
    return rng.choice(size, n, p=p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stream", type=int, default=500_000)
    ap.add_argument("--pool", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=4)
    args = ap.parse_args()

    os.environ.setdefault("P4DP_HOME", tempfile.mkdtemp(prefix="p4dp-bench-"))
    from p4dp.coding import coder as coder_mod
    from p4dp.coding.coder import Coder, code_texts
    from p4dp.coding.model import get_model
    from p4dp.coding.normalise import check_text, normalise
    from p4dp.coding.qualifiers import qualify

    from p4dp.coding.french import lemmas
    from p4dp.coding.lexicon import load

    t0 = time.perf_counter()
    load()
    get_model()
    lemmas()
    qualify("pas de fievre", [(7, 13)])
    warmup = time.perf_counter() - t0

    pool = build_pool(args.pool, args.seed)
    fields = ("reason", "result", "procedure")
    by_field = {f: [t for t, g in pool if coder_mod.canonical_field(g) == f] for f in fields}

    # Unique-text throughput: a fresh coder, each text seen once.
    fresh = Coder(min_confidence=0.5)
    sample = pool[: min(len(pool), 10_000)]
    cue = [(t, f) for t, f in sample if normalise(check_text(t)).cues]
    plain = [(t, f) for t, f in sample if (t, f) not in set(cue)]
    t0, c0 = time.perf_counter(), time.process_time()
    for t, f in plain:
        fresh.code(t, f)
    plain_s, plain_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    for t, f in cue:
        fresh.code(t, f)
    cue_s, cue_cpu = time.perf_counter() - t0, time.process_time() - c0

    # Stream throughput: Zipf draws per field, coded in batches by code_texts (cold cache).
    coder_mod.default_coder.cache_clear()
    n_per_field = args.stream // len(fields)
    total = 0
    distinct = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for k, f in enumerate(fields):
        texts = by_field[f]
        idx = zipf_indices(n_per_field, len(texts), args.seed + k)
        stream = pa.array([texts[i] for i in idx], pa.string())
        distinct += len(set(idx.tolist()))
        for start in range(0, len(stream), BATCH):
            out = code_texts(stream.slice(start, BATCH), f, 0.5)
            total += out.num_rows
    stream_s, stream_cpu = time.perf_counter() - t0, time.process_time() - c0

    report = {
        "warmup_s (lexicon, model, lemmas, edsnlp; empty cache)": round(warmup, 2),
        "stream_texts": total,
        "stream_distinct_share": round(distinct / total, 4),
        "stream_texts_per_s": round(total / stream_s),
        # The machine is shared: texts per CPU-second of this process is the stable figure.
        "stream_texts_per_cpu_s": round(total / stream_cpu),
        "unique_plain_texts": len(plain),
        "unique_plain_texts_per_s": round(len(plain) / plain_s) if plain_s else None,
        "unique_cue_texts (edsnlp)": len(cue),
        "unique_cue_texts_per_s": round(len(cue) / cue_s) if cue_s else None,
        "unique_all_texts_per_s": round(len(sample) / (plain_s + cue_s)),
        "unique_plain_texts_per_cpu_s": round(len(plain) / plain_cpu) if plain_cpu else None,
        "unique_cue_texts_per_cpu_s": round(len(cue) / cue_cpu) if cue_cpu else None,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
