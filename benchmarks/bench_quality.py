"""Throughput of the quality step on biometric readings (issue 3: ≥ 1M rows/s order of magnitude).

    python benchmarks/bench_quality.py [ROWS]   # default 1,000,000 biometric rows

Builds a batch of same-day weight/height/BMI triples for a mix of children and adults (values at
random WHO z-scores, plus 1 % of each injected error kind), runs `check_batch` and prints seconds,
rows/s and peak RSS.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time

import numpy as np
import pyarrow as pa

from p4dp.quality import check_batch
from p4dp.quality.frame import month_start_days
from p4dp.quality.growth import lms_at

AS_OF = dt.date(2026, 6, 30)


def make_batch(rows: int, seed: int = 1) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    n = max(rows // 3, 1)
    as_of = (np.datetime64(AS_OF) - np.datetime64("1970-01-01")).astype(int)
    sex = rng.choice(np.array(["F", "M"]), n)
    child = rng.random(n) < 0.4
    age_y = np.where(child, rng.uniform(0.1, 18.5, n), rng.uniform(19.5, 90, n))
    read = as_of - rng.integers(0, 3 * 365, n)
    birth = (read - (age_y * 365.25).astype(int)).astype("datetime64[D]")
    by = birth.astype("datetime64[Y]").astype(int) + 1970
    bm = birth.astype("datetime64[M]").astype(int) % 12 + 1
    age_m = np.minimum((read - month_start_days(by, bm, 15)) / 30.4375, 228)
    zh, zb = np.clip(rng.normal(0, 1, (2, n)), -3, 3)
    L, M, S = lms_at("height_for_age", sex, age_m)
    h = np.where(child, M * (1 + L * S * zh) ** (1 / L), np.where(sex == "M", 176, 163) + 7 * zh)
    L, M, S = lms_at("bmi_for_age", sex, age_m)
    b = np.where(child, M * (1 + L * S * zb) ** (1 / L), np.clip(26 + 4.5 * zb, 16, 45))
    w = np.round(b * (h / 100) ** 2, 1)
    h = np.round(h, 1)
    bmi = np.round(w / (h / 100) ** 2, 1)
    e = rng.random(n)
    w = np.where(e < 0.01, w * 1000, w)  # weights in grams
    h = np.where((e >= 0.01) & (e < 0.02), h / 100, h)  # heights in metres
    bmi = np.where((e >= 0.02) & (e < 0.03), bmi / 100, bmi)  # wrong recorded BMI
    pid = pa.array(np.char.add("arm_p", np.arange(n).astype(str)))
    patients = pa.table({
        "source_id": pa.array(["arm"] * n), "patient_id": pid, "practice_id": pa.array(["pr1"] * n),
        "sex": pa.array(sex), "birth_year": pa.array(by.astype(np.int16)),
        "birth_month": pa.array(bm.astype(np.int16)), "opposition": pa.array(np.zeros(n, bool)),
    })
    ids = pa.array(np.char.add("arm_b", np.arange(3 * n).astype(str)))
    bio = pa.table({
        "source_id": pa.array(["arm"] * (3 * n)), "biometric_id": ids,
        "patient_id": pa.concat_arrays([pid, pid, pid]),
        "date": pa.array(np.concatenate([read, read, read]).astype("datetime64[D]")),
        "kind": pa.array(np.repeat(np.array(["weight", "height", "bmi"]), n)),
        "value": pa.array(np.concatenate([w, h, bmi])),
    })
    return {"patient": patients, "biometric": bio}


def main(rows: int) -> None:
    tables = make_batch(rows)
    n_bio = tables["biometric"].num_rows
    check_batch(make_batch(3000, seed=2), as_of=AS_OF, batch_id="warm", source_id="arm")
    t = time.perf_counter()
    out = check_batch(tables, as_of=AS_OF, batch_id="bench", source_id="arm")
    s = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| biometric rows | patients | seconds | biometric rows/s | repaired | quarantined "
          "| peak RSS (MiB) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {n_bio:,} | {tables['patient'].num_rows:,} | {s:.2f} | {n_bio / s:,.0f} | "
          f"{out.repaired_count:,} | {out.quarantined_count:,} | {rss:,.0f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
