"""Practice-side agent benchmark: HMAC pseudonyms, free-text scrubbing, whole prepare step.

    .venv/bin/python benchmarks/bench_agent.py [--ids 3500000] [--patients 50000] [--texts 1000000]

1. ``pseudonymise`` over ``--ids`` distinct local ids (the worst case: every id distinct).
2. ``scrub_texts`` over ``--texts`` GP-style texts of ``--patients`` patients, 2 % of which carry an
   identity token (name, relative, phone, NIR, e-mail, birth date), a third of the patients having a
   name that is also a French word (Petit, Blanc, Rose, Toux …). Prints texts per second, the share
   of texts that reach the Python step, and the removal / false-removal rates on this data.
3. ``prepare_tables`` on the same patients (encounters, problems) end to end, seconds per stage.

Data is generated with NumPy here (no dependency on the synthetic network); it exercises volume and
the prefilter, not clinical realism. Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.agent import prepare_tables
from p4dp.cdm import table
from p4dp.privacy.pseudonym import pseudonymise
from p4dp.privacy.scrub import Identities, scrub_texts, tokens_in
from p4dp.settings import Settings

LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Durand", "Moreau", "Laurent",
        "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
        "Petit", "Blanc", "Grand", "Toux", "Rein", "Boulanger", "Le Goff", "Rivière", "Brun"]
FIRST = ["Marie", "Jean", "Pierre", "Michel", "Anne", "Nathalie", "Rose", "Claire", "Louis",
         "Jean-Pierre", "Hélène", "Zoé", "Léa", "Hugo", "Chloé", "Noël"]
PHRASES = ["toux grasse depuis 3 jours", "renouvellement traitement HTA", "lombalgie aiguë",
           "fièvre 39, courbatures", "petit malaise ce matin", "angine érythémateuse",
           "bilan sanguin à prévoir", "douleur du rein droit", "plaque rose sur le bras",
           "Certificat de sport", "vaccin grippe fait", "TA 13/8, pouls 72", "grand fatigue",
           "RAS", "suivi diabète type 2, HbA1c 7,1", "DOLIPRANE 1000 mg 1 cp x3/j",
           "rhinopharyngite", "contrôle INR le 12/03/2024", "entorse cheville gauche"]


def _pick(rng, values, n):
    return pa.array(values).take(pa.array(rng.integers(len(values), size=n)))


def make_staging(n_patients: int, n_texts: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    pids = pa.array([f"P{i}" for i in range(n_patients)])
    last, first = _pick(rng, LAST, n_patients), _pick(rng, FIRST, n_patients)
    birth = pa.array(rng.integers(-20000, 15000, n_patients).astype("datetime64[D]"))
    relatives = pc.binary_join_element_wise(_pick(rng, FIRST, n_patients), last, " ")
    patient = {"source_id": pa.array(["bch"] * n_patients), "patient_id": pids,
               "practice_id": pa.array(["x"] * n_patients), "opposition":
               pa.array(np.zeros(n_patients, bool)), "last_name": last, "first_name": first,
               "birth_date": pc.cast(birth, pa.date32()), "relatives": relatives}

    owner = rng.integers(n_patients, size=n_texts)
    texts = np.array(PHRASES, dtype=object)[rng.integers(len(PHRASES), size=n_texts)]
    inject = np.flatnonzero(rng.random(n_texts) < 0.02)
    kinds = rng.integers(6, size=len(inject))
    truth: list[tuple[int, str]] = []
    for i, k in zip(inject, kinds, strict=True):
        p = owner[i]
        b = birth[p].as_py()
        token = [f"Mme {last[p].as_py().upper()}", first[p].as_py(),
                 relatives[p].as_py(), "06 12 34 56 78", f"{b:%d/%m/%Y}",
                 f"{first[p].as_py().lower()}.x@exemple.fr"][k]
        marked = f"vu avec {token}" if k != 4 else f"née le {token}"
        texts[i] = f"{texts[i]}, {marked}"
        truth.append((int(i), marked))
    problem = {"source_id": pa.array(["bch"] * n_texts),
               "problem_id": pa.array([f"R{i}" for i in range(n_texts)]),
               "encounter_id": pa.array([f"E{i}" for i in range(n_texts)]),
               "patient_id": pids.take(pa.array(owner)),
               "practitioner_id": pa.array(["D1"] * n_texts),
               "date": pa.array(np.full(n_texts, np.datetime64("2024-01-15"))).cast(pa.date32()),
               "reason_text": pa.array(texts.tolist(), pa.string())}
    return patient, problem, truth


def _table(name: str, cols: dict) -> pa.Table:
    schema = table(name).arrow_schema("staging")
    n = len(next(iter(cols.values())))
    return pa.table({f.name: cols.get(f.name, pa.nulls(n, f.type)) for f in schema},
                    schema=schema)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=3_500_000)
    ap.add_argument("--patients", type=int, default=50_000)
    ap.add_argument("--texts", type=int, default=1_000_000)
    args = ap.parse_args()
    key = bytes(range(32))

    ids = pa.array(np.arange(args.ids).astype(str))
    t = time.perf_counter()
    pseudonymise(ids, key, "bch", "encounter")
    s = time.perf_counter() - t
    print(f"pseudonymise: {args.ids:,} distinct ids in {s:.2f} s ({args.ids / s:,.0f} ids/s)")

    patient, problem, truth = make_staging(args.patients, args.texts)
    ptable, prob = _table("patient", patient), _table("problem", problem)
    identities = Identities.from_patient_table(ptable)
    t = time.perf_counter()
    from p4dp.privacy.scrub import candidate_rows

    flagged = len(candidate_rows(prob["reason_text"].combine_chunks(),
                                 prob["patient_id"].combine_chunks(), identities))
    t_pre = time.perf_counter() - t
    identities = Identities.from_patient_table(ptable)
    t = time.perf_counter()
    out = scrub_texts(prob["reason_text"], prob["patient_id"], identities)
    s = time.perf_counter() - t
    print(f"scrub: {args.texts:,} texts in {s:.2f} s ({args.texts / s:,.0f} texts/s); prefilter "
          f"{t_pre:.2f} s, {flagged / args.texts:.1%} of texts reach the Python step")

    before, after = prob["reason_text"].to_pylist(), out.to_pylist()
    removed = sum(1 for i, marked in truth if marked not in after[i])
    injected = {i for i, _ in truth}
    words = lost = 0
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        if i in injected:
            continue
        bw, aw = tokens_in(b), set(tokens_in(a))
        words += len(bw)
        lost += sum(1 for w in bw if w not in aw)
    print(f"removal of injected tokens: {removed}/{len(truth)}; clinical words falsely removed: "
          f"{lost}/{words} ({lost / max(words, 1):.4%})")

    home = Path(tempfile.mkdtemp(prefix="p4dp-bench-agent-"))
    tables = {"patient": ptable, "problem": prob}
    t = time.perf_counter()
    path = prepare_tables(tables, None, "bch", "x", Settings(home=home), home / "out")
    s = time.perf_counter() - t
    manifest = json.loads((path / "manifest.json").read_text())
    rows = ptable.num_rows + prob.num_rows
    print(f"prepare_tables: {rows:,} rows in {s:.2f} s ({rows / s:,.0f} rows/s); stages (s): "
          f"{manifest['timings_s']}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
