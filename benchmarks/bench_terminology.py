"""Terminology benchmark: code-picker search latency and label-normaliser throughput.

    .venv/bin/python benchmarks/bench_terminology.py [--rows 1000000] [--repeat 20]

1. `icpc2.search`: index build time (first call), then the latency of every query of a picker
   session — codes, code prefixes, and words typed keystroke by keystroke ("l", "lo", "lom" …),
   synonyms, typos — repeated `--repeat` times; prints p50 / p95 / p99 / max in milliseconds.
   The target is < 5 ms per query.
2. `vaccines`, `drugs`, `labs.normalise_labels` and `labs.to_canonical` over a stream of `--rows`
   labels drawn (Zipf-like) from a few hundred distinct realistic labels, as GP exports repeat
   them: rows per second, first call (cold memo) and second call (warm memo).

Not a test: timings depend on the machine and its load. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

from p4dp.terminology import drugs, icpc2, labs, vaccines

PICKER_WORDS = ["lombalgie", "infection respiratoire", "otite moyenne", "hypertension",
                "diabete type 2", "vaccination", "certificat", "renouvellement ordonnance",
                "gastro enterite", "angine", "douleur genou", "depression", "insomnie",
                "bronchitte", "examen cardio", "cystite", "entorse cheville", "rhume", "HTA",
                "BPCO"]
PICKER_CODES = ["R74", "r 74", "K86", "A62", "k31", "-44", "R7", "L", "T9", "_"]

VACCINE_LABELS = ["REVAXIS", "DTP", "dTP", "DTCP", "dtcp", "rappel dtp", "REPEVAX", "BOOSTRIXTETRA",
                  "INFANRIX HEXA", "HEXYON", "VAXELIS", "PRIORIX", "M-M-RVAXPRO", "ROR",
                  "grippe", "vaccin grippe", "VAXIGRIP TETRA", "INFLUVAC TETRA", "EFLUELDA",
                  "covid", "COMIRNATY", "SPIKEVAX", "3 covid et dtp à 25 ans", "GARDASIL 9",
                  "PREVENAR 13", "PNEUMOVAX", "pneumo 23", "NEISVAC", "méningo C", "BEXSERO",
                  "SHINGRIX", "HVB", "hep b", "ENGERIX B20", "TWINRIX", "HAVRIX", "STAMARIL",
                  "BEYFORTUS", "ROTARIX", "BCG", "revaxsis", "vaccin"]
DRUG_LABELS = ["DOLIPRANE 1000MG CPR", "Doliprane 500 mg gél", "DAFALGAN 1G", "EFFERALGAN 1 g",
               "LEVOTHYROX 75 µg", "Levothyrox 100", "GLUCOPHAGE 1000", "Metformine 850mg x3/j",
               "TAHOR 20", "atorvastatine 40 mg", "KARDEGIC 75", "PREVISCAN 20 mg",
               "COUMADINE 2 mg", "ELIQUIS 5 mg", "XARELTO 20", "INEXIUM 40", "MOPRAL 20",
               "AUGMENTIN 1g/125", "amoxicilline 1 g x3/j 6 jours", "SPASFON LYOC", "STILNOX 10",
               "XANAX 0,25", "LEXOMIL", "DEROXAT 20", "SERESTA 10", "amlodipine 5 mg gél",
               "ramipril 5", "bisoprolol 2,5", "furosémide 40", "paracetamol biogaran 1g",
               "ventoline", "SERETIDE 250", "levotyrox 50", "sérum physiologique"]
LAB_LABELS = ["INR", "I.N.R.", "inr (AVK)", "Hb A1c", "HbA1c", "hémoglobine glyquée", "glycémie",
              "GAJ", "créat", "Créatinine", "DFG CKD-EPI", "LDL-c", "HDL", "chol tot", "TG",
              "TSH us",
              "T4 libre", "Hémoglobine", "Ferritine", "CRP", "PSA", "K+", "Na+", "ALAT", "SGPT",
              "ASAT", "gamma GT", "RAC", "microalbuminurie", "Vitamine D", "Plaquettes",
              "Leucocytes", "NT-proBNP", "examen inconnu"]
UNITS = {"INR": [None, ""], "HBA1C": ["%", "mmol/mol"], "GLYCEMIE": ["g/L", "mmol/L"],
         "CREAT": ["µmol/L", "mg/L"], "CHOL": ["g/L", "mmol/L"], "TG": ["g/L", "mmol/L"],
         "TSH": ["mUI/L", "µUI/mL"], "K": ["mmol/L", "mEq/L"], "CRP": ["mg/L", "furlongs"]}


def _keystrokes(words: list[str]) -> list[str]:
    return [w[:k] for w in words for k in range(1, len(w) + 1)]


def _stream(rng: np.random.Generator, labels: list[str], n: int) -> pa.Array:
    weights = 1.0 / np.arange(1, len(labels) + 1)  # Zipf-like: a few labels dominate
    pick = rng.choice(len(labels), size=n, p=weights / weights.sum())
    return pa.array(labels).take(pa.array(pick))


def _rate(fn, arg) -> tuple[float, float]:
    t0 = time.perf_counter()
    fn(arg)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    fn(arg)
    warm = time.perf_counter() - t0
    return cold, warm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    t0 = time.perf_counter()
    icpc2.search("r74")
    build_ms = (time.perf_counter() - t0) * 1000
    queries = PICKER_CODES + _keystrokes(PICKER_WORDS)
    times = []
    for _ in range(args.repeat):
        for q in queries:
            t = time.perf_counter()
            icpc2.search(q)
            times.append((time.perf_counter() - t) * 1000)
    ms = np.array(times)
    print(f"## icpc2.search ({len(queries)} distinct queries × {args.repeat})\n")
    print("| index build (ms) | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| {build_ms:.1f} | {np.percentile(ms, 50):.3f} | {np.percentile(ms, 95):.3f} | "
          f"{np.percentile(ms, 99):.3f} | {ms.max():.2f} |\n")

    rng = np.random.default_rng(42)
    print(f"## label normalisers over {args.rows:,} labels\n")
    print("| normaliser | distinct labels | cold (s) | warm (s) | rows/s (warm) |")
    print("| --- | --- | --- | --- | --- |")
    for name, fn, labels in (("vaccines", vaccines.normalise_labels, VACCINE_LABELS),
                             ("drugs", drugs.normalise_labels, DRUG_LABELS),
                             ("labs", labs.normalise_labels, LAB_LABELS)):
        stream = _stream(rng, labels, args.rows)
        cold, warm = _rate(fn, stream)
        print(f"| {name}.normalise_labels | {len(labels)} | {cold:.3f} | {warm:.3f} | "
              f"{args.rows / warm:,.0f} |")

    exams = list(UNITS)
    exam = _stream(rng, exams, args.rows)
    unit_choice = rng.integers(2, size=args.rows)
    units = pa.array([UNITS[e][k] for e, k in zip(exam.to_pylist(), unit_choice.tolist())])
    values = pa.array(rng.uniform(0.5, 100.0, size=args.rows))
    t0 = time.perf_counter()
    labs.to_canonical(exam, values, units)
    dt = time.perf_counter() - t0
    print(f"| labs.to_canonical | {sum(len(u) for u in UNITS.values())} exam×unit | – | {dt:.3f} | "
          f"{args.rows / dt:,.0f} |")


if __name__ == "__main__":
    main()
