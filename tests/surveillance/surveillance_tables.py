"""Tiny hand-made warehouses for the surveillance tests (a uniquely named module, not conftest,
so that `from surveillance_tables import …` never picks another folder's helpers)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

from p4dp.analytics.compile import Warehouse

D = dt.date


def _analytics_tables():
    """The analytics spec tests' table builder, loaded from its file (not a package)."""
    path = Path(__file__).parents[1] / "analytics" / "analytics_tables.py"
    spec = importlib.util.spec_from_file_location("_analytics_tables_for_surveillance", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(path, tables: dict[str, list[dict]]) -> Warehouse:
    """A read-only warehouse with the CDM schema and these rows (the rest of each row null)."""
    return _analytics_tables().build_warehouse(path, tables)


PRACTICES = [
    {"practice_id": "p1", "region_code": "93", "departement_code": "06", "kind": "cabinet"},
    {"practice_id": "p2", "region_code": "28", "departement_code": "76", "kind": "msp",
     "source_id": "med"},
]


def patient(pid: str, by: int = 1980, bm: int = 6, practice: str = "p1", **kw) -> dict:
    return {"patient_id": pid, "sex": "F", "birth_year": by, "birth_month": bm,
            "practice_id": practice, **kw}


_n = iter(range(10**6))


def encounter(pid: str, day: dt.date) -> dict:
    return {"encounter_id": f"e{next(_n)}", "patient_id": pid, "practitioner_id": "g1",
            "date": day, "kind": "cabinet"}


def problem(pid: str, day: dt.date, result: str | None = None, reason: str | None = None,
            result_text: str | None = None, reason_text: str | None = None) -> dict:
    n = next(_n)
    return {"problem_id": f"pb{n}", "encounter_id": f"e{n}", "patient_id": pid,
            "practitioner_id": "g1", "date": day, "result_code": result, "reason_code": reason,
            "result_text": result_text, "reason_text": reason_text,
            "result_code_origin": "auto" if result else "none",
            "reason_code_origin": "source" if reason else "none"}


def seasonal_tables(years: int = 7, seed: int = 1) -> dict[str, list[dict]]:
    """Two practices (regions 93 and 28) of 400 patients each, who all consult every 26 weeks,
    with influenza-like illness following a winter wave (peak ≈ 30 cases a week in 93, 8 in 28)
    and rare chickenpox: enough for thresholds, small cells in region 28."""
    import numpy as np

    rng = np.random.default_rng(seed)
    first = D(2017, 1, 2)
    n_weeks = 52 * years
    pats, enc, pbs = [], [], []
    for practice, size, scale in (("p1", 400, 30.0), ("p2", 400, 8.0)):
        ids = [f"{practice}_{i}" for i in range(size)]
        pats += [patient(pid, by=1950 + i % 60, practice=practice) for i, pid in enumerate(ids)]
        for i, pid in enumerate(ids):
            for w in range(i % 26, n_weeks, 26):
                enc.append(encounter(pid, first + dt.timedelta(weeks=w)))
        for w in range(n_weeks):
            day = first + dt.timedelta(weeks=w)
            wave = max(0.0, np.cos(2 * np.pi * (day.timetuple().tm_yday - 35) / 365.25)) ** 8
            for _ in range(rng.poisson(1 + scale * wave)):
                pbs.append(problem(ids[rng.integers(size)], day, result="R80"))
            if rng.random() < 0.05:
                pbs.append(problem(ids[rng.integers(size)], day, result="A72"))
    # a few rows for the rules that the waves do not exercise: an infant (bronchiolitis), a
    # death, an objection, a Lyme disease written in the text
    pats += [patient("infant", by=2019, bm=11), patient("gone", death_date=D(2019, 3, 6)),
             patient("objector", opposition=True)]
    for pid in ("infant", "gone", "objector"):
        enc += [encounter(pid, first + dt.timedelta(weeks=w)) for w in range(0, n_weeks, 9)]
    pbs += [problem("infant", D(2020, 1, 6), result="R78"),
            problem("infant", D(2021, 12, 6), result="R78"),  # 25 months: not a bronchiolitis
            problem("objector", D(2020, 1, 6), result="R80"),
            problem("gone", D(2018, 6, 4), result="A78", result_text="maladie de Lyme")]
    return {"practice": PRACTICES, "patient": pats, "encounter": enc, "problem": pbs,
            "load_batch": [{"batch_id": "b1", "source_id": "arm", "bundle_sha256": "x",
                            "status": "loaded",
                            "finished_at": dt.datetime(2024, 1, 1, 12, 0)}]}
