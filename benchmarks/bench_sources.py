"""Write and read back a generated practice in each export format; print rows per second.

    .venv/bin/python benchmarks/bench_sources.py [--patients 5000] [--formats csv-fr,jsonl,fhir]

The table set is built with NumPy (random but plausible shapes: ~20 encounters per patient,
problems, biometrics, prescriptions per encounter); it exercises volume, not clinical realism.
Not a test: timings depend on the machine and on what else runs on it; the CPU seconds (all
threads) are printed beside the wall-clock seconds to tell slowness from contention.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import table
from p4dp.sources import read_export
from p4dp.synth.writers import write_export


def _ids(prefix: str, n: int) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar(prefix), pa.array(np.arange(n)).cast(pa.string()),
                                       "")


def _pick(rng: np.random.Generator, values: list, n: int) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object)[rng.integers(0, len(values), n)])


def _dates(rng: np.random.Generator, n: int, start: str = "2000-01-01",
           end: str = "2025-12-31") -> pa.Array:
    lo, hi = np.datetime64(start), np.datetime64(end)
    days = rng.integers(0, int((hi - lo).astype(int)), n)
    return pa.array((lo + days).astype("datetime64[D]"), pa.date32())


def _table(table_name: str, n: int, **cols: pa.Array) -> pa.Table:
    schema = table(table_name).arrow_schema("staging")
    arrays = []
    for f in schema:
        if f.name == "source_id":
            arrays.append(pa.array(np.full(n, "bch", dtype=object), pa.string()))
        elif f.name in cols:
            arrays.append(pa.array(cols[f.name]).cast(f.type))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def generate(patients: int, seed: int = 1) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    n_enc = patients * 20
    pat = _ids("P", patients)
    enc_pat = pc.take(pat, pa.array(rng.integers(0, patients, n_enc)))
    enc_date = _dates(rng, n_enc)
    docs = _ids("DR", 3)
    out = {
        "practice": _table("practice", 1, practice_id=["CAB"], name=["Cabinet des Écoles"],
                           region_code=["93"], departement_code=["06"], kind=["cabinet"],
                           vendor_format=["csv-fr"]),
        "practitioner": _table("practitioner", 3, practitioner_id=docs, practice_id=["CAB"] * 3,
                               sex=["F", "M", "F"], birth_year=[1970, 1980, 1990],
                               role=["gp"] * 3, participation=["active"] * 3,
                               last_name=["Lefèvre", "Martin", "Nguyen"],
                               first_name=["Hélène", "Luc", "Anne"]),
        "patient": _table("patient", patients, patient_id=pat, practice_id=np.full(
            patients, "CAB", dtype=object), sex=_pick(rng, ["F", "M"], patients),
            birth_date=_dates(rng, patients, "1925-01-01", "2024-01-01"),
            opposition=np.zeros(patients, dtype=bool), last_name=_pick(
                rng, ["Dupont", "Lefèvre", "Œuvray", "N'Diaye"], patients),
            first_name=_pick(rng, ["Françoise", "Théo", "Zoé"], patients),
            nir=_pick(rng, ["248037511300512", "131018312345678"], patients),
            phone=_pick(rng, ["06 12 34 56 78"], patients),
            relatives=_pick(rng, ["Jean Dupont;Élodie Dupont", None], patients)),
        "encounter": _table("encounter", n_enc, encounter_id=_ids("E", n_enc),
                            patient_id=enc_pat, practitioner_id=pc.take(
                                docs, pa.array(rng.integers(0, 3, n_enc))),
                            date=enc_date, kind=_pick(rng, ["cabinet", "visite"], n_enc)),
    }
    out["patient"] = out["patient"].set_column(
        out["patient"].schema.get_field_index("birth_year"), "birth_year",
        pc.year(out["patient"]["birth_date"]).cast(pa.int16()))
    out["patient"] = out["patient"].set_column(
        out["patient"].schema.get_field_index("birth_month"), "birth_month",
        pc.month(out["patient"]["birth_date"]).cast(pa.int16()))

    def child(n: int) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
        idx = pa.array(rng.integers(0, n_enc, n))
        e = out["encounter"]
        return (pc.take(e["encounter_id"], idx), pc.take(e["patient_id"], idx),
                pc.take(e["date"], idx), pc.take(e["practitioner_id"], idx))

    n = int(n_enc * 1.3)
    e, p, d, pr = child(n)
    code = _pick(rng, ["R74", None, None, "K86", None], n)
    out["problem"] = _table("problem", n, problem_id=_ids("PB", n), encounter_id=e, patient_id=p,
                            date=d, practitioner_id=pr, rank=np.ones(n, dtype=np.int16),
                            reason_text=_pick(rng, ["toux; fièvre", 'douleur "genou"\nD'], n),
                            result_text=_pick(rng, ["rhino", "HTA équilibrée"], n),
                            result_code=code, result_code_origin=pc.if_else(
                                pc.is_valid(code), "source", "none"),
                            reason_code_origin=np.full(n, "none", dtype=object),
                            procedure_code_origin=np.full(n, "none", dtype=object))
    n = n_enc * 2
    e, p, d, _ = child(n)
    kinds = _pick(rng, ["weight", "height", "systolic_bp", "diastolic_bp"], n)
    out["biometric"] = _table("biometric", n, biometric_id=_ids("B", n), patient_id=p,
                              encounter_id=e, date=d, kind=kinds,
                              value=np.round(rng.normal(70, 10, n), 1),
                              unit=_pick(rng, ["kg"], n))
    n = patients * 3
    p = pc.take(pat, pa.array(rng.integers(0, patients, n)))
    out["lab_result"] = _table("lab_result", n, lab_result_id=_ids("L", n), patient_id=p,
                               date=_dates(rng, n), raw_label=_pick(rng, ["INR", "HbA1c"], n),
                               value=np.round(rng.normal(2.5, 0.6, n), 2))
    out["vaccination"] = _table("vaccination", n, vaccination_id=_ids("V", n), patient_id=p,
                                date=_dates(rng, n), raw_label=_pick(rng, ["DTCP", "REVAXIS"], n))
    out["antecedent"] = _table("antecedent", n, antecedent_id=_ids("A", n), patient_id=p,
                               kind=_pick(rng, ["medical", "allergy"], n),
                               text=_pick(rng, ["HTA", "pénicilline"], n),
                               code_origin=np.full(n, "none", dtype=object))
    out["history"] = _table("history", n, history_id=_ids("H", n), patient_id=p,
                            kind=_pick(rng, ["tobacco"], n), label=_pick(rng, ["tabac"], n),
                            status=_pick(rng, ["yes", "no"], n))
    n = int(n_enc * 1.5)
    e, p, d, pr = child(n)
    out["prescription"] = _table("prescription", n, prescription_id=_ids("RX", n), patient_id=p,
                                 encounter_id=e, practitioner_id=pr, date=d,
                                 drug_label=_pick(rng, ["AMLODIPINE 5 mg", "DOLIPRANE"], n),
                                 atc=_pick(rng, ["C08CA01", "N02BE01"], n),
                                 duration_days=rng.integers(1, 90, n).astype(np.int32),
                                 chronic=rng.integers(0, 2, n).astype(bool))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=5000)
    ap.add_argument("--formats", default="csv-fr,jsonl,fhir")
    args = ap.parse_args()
    tables = generate(args.patients)
    rows = sum(t.num_rows for t in tables.values())
    print(f"{args.patients} patients, {rows:,} rows "
          f"({tables['encounter'].num_rows:,} encounters) — {dt.datetime.now():%Y-%m-%d %H:%M}")
    print(f"{'format':8} {'write s':>8} {'cpu s':>6} {'write rows/s':>13} {'read s':>7} "
          f"{'cpu s':>6} {'read rows/s':>12} {'MB':>7} {'quarantined':>11}")
    for fmt in args.formats.split(","):
        folder = Path(tempfile.mkdtemp(prefix=f"bench-{fmt}-"))
        try:
            c0, t0 = time.process_time(), time.perf_counter()
            write_export(fmt, tables, folder)
            c1, t1 = time.process_time(), time.perf_counter()
            result = read_export(folder, fmt, "bch")
            c2, t2 = time.process_time(), time.perf_counter()
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
            got = result.rows_read
            assert got >= rows - tables["biometric"].num_rows, (got, rows)
            print(f"{fmt:8} {t1 - t0:8.2f} {c1 - c0:6.2f} {rows / (t1 - t0):13,.0f} "
                  f"{t2 - t1:7.2f} {c2 - c1:6.2f} {got / (t2 - t1):12,.0f} {size:7.1f} "
                  f"{result.quarantine.num_rows:11}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
