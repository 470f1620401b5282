"""Vaccinations along the French calendar (calendrier des vaccinations, Ministère de la santé),
with realistic gaps (coverage below 100 %, delays) and labels as typed (brand or free text)."""

from __future__ import annotations

from datetime import date

import numpy as np

from p4dp.synth import _columns as C
from p4dp.synth._data import read_csv
from p4dp.synth.population import NO_ONSET, Patients

#: Influenza vaccine is licensed from 6 months of age (calendrier des vaccinations: at-risk
#: children from 6 months). Without this floor, risk patients got doses dated before birth.
FLU_MIN_AGE_DAYS = 183
#: Doses given before the record was opened are recorded (from the carnet de santé) this often.
RETROSPECTIVE_RECORD_SHARE = 0.3
#: A share of doses is given late (catch-up), by up to a year.
LATE_SHARE = 0.2
LATE_MAX_DAYS = 365
#: Flu vaccination: ≥ 65 years and chronic conditions; coverage about 50 % (Santé publique France,
#: 2010–2022), concentrated on the same people every year.
FLU_REGULAR_SHARE = 0.55
FLU_REGULAR_P = 0.88
FLU_OTHER_P = 0.08
FLU_RISK_CONDITIONS = ("dt2", "asthma", "copd", "af")
FLU_RISK_FACTOR = 0.3
COVID_FIRST_DOSES = C.day(date(2021, 6, 1))
#: The first label of a dose is the usual one; the others share this probability.
OTHER_LABEL_SHARE = 0.4


def _labels(spec: str) -> tuple[list[str], np.ndarray]:
    labels = spec.split("|")
    return [lbl.lstrip("~") for lbl in labels], np.array([lbl.startswith("~") for lbl in labels])


def build_vaccinations(pat: Patients, rng: np.random.Generator, today: date) -> dict:
    n = len(pat)
    t = C.day(today)
    parts = []
    family_u: dict[str, np.ndarray] = {}
    flu_propensity = np.where(rng.random(n) < FLU_REGULAR_SHARE, FLU_REGULAR_P, FLU_OTHER_P)
    risk = np.zeros(n, bool)
    cidx = {c: i for i, c in enumerate(pat.conditions)}
    for c in FLU_RISK_CONDITIONS:
        risk |= pat.onset[:, cidx[c]] != NO_ONSET
    sex_code = np.where(pat.sex == 0, "F", "M")
    for r in read_csv("vaccines.csv"):
        labels, free = _labels(r["labels"])
        family = r["key"].split("_")[0]
        # Nested coverage: a child who missed the first dose of a series misses the next ones.
        u = family_u.setdefault(family, rng.random(n))
        cov = float(r["coverage"])
        amin = int(r["age_min_days"])
        date_from = C.day(date.fromisoformat(r["date_from"]))
        if r["mode"] == "age":
            amax = int(r["age_max_days"])
            d = pat.birth + rng.integers(amin, amax + 1, n)
            d = d + np.where(rng.random(n) < LATE_SHARE, rng.integers(0, LATE_MAX_DAYS, n), 0)
            ok = (u < cov) & (d >= date_from) & (d <= t)
            if r["sex"]:
                ok &= sex_code == r["sex"]
            if r["key"] == "pneumo_adult":
                ok = (rng.random(n) < cov) & risk & (d >= date_from) & (d <= t)
            p_ = np.flatnonzero(ok)
            d_ = d[p_]
        elif r["mode"] == "campaign":
            d_to = C.day(date.fromisoformat(r["date_to"]))
            d = date_from + (rng.random(n) * (d_to - date_from)).astype(np.int64)
            ok = (u < cov) & (d - pat.birth >= amin) & (d <= t)
            p_ = np.flatnonzero(ok)
            d_ = d[p_]
        else:  # yearly (flu): one season per year from date_from's year
            d_to = C.day(date.fromisoformat(r["date_to"]))
            season_len = d_to - date_from
            ps, ds = [], []
            y = 0
            while True:
                s0 = C.day(date.fromisoformat(r["date_from"]).replace(
                    year=date.fromisoformat(r["date_from"]).year + y))
                if s0 > t:
                    break
                d = s0 + (rng.random(n) * season_len).astype(np.int64)
                # Risk conditions make children eligible, but never before 6 months of age.
                eligible = ((d - pat.birth >= amin) | risk) & (d - pat.birth >= FLU_MIN_AGE_DAYS)
                p_flu = flu_propensity * np.where(d - pat.birth >= amin, 1.0, FLU_RISK_FACTOR)
                ok = eligible & (rng.random(n) < p_flu) & (d <= t)
                ps.append(np.flatnonzero(ok))
                ds.append(d[ok])
                y += 1
            p_ = np.concatenate(ps)
            d_ = np.concatenate(ds)
        # Recorded if given while the record was open, or copied from the carnet afterwards.
        open_ = (d_ >= pat.registered[p_]) & (d_ < pat.end[p_])
        retro = (d_ < pat.registered[p_]) & (rng.random(len(p_)) < RETROSPECTIVE_RECORD_SHARE)
        keep = open_ | retro
        p_, d_ = p_[keep], d_[keep]
        w = np.r_[1 - OTHER_LABEL_SHARE, np.full(len(labels) - 1,
                                                  OTHER_LABEL_SHARE / max(len(labels) - 1, 1))]
        li = C.choice_index(rng, w, len(p_))
        # A free-text label mentioning COVID doses only makes sense once they existed.
        mentions_covid = np.array(["covid" in lbl.lower() for lbl in labels])
        anachronic = mentions_covid[li] & (d_ < COVID_FIRST_DOSES)
        li = np.where(anachronic & (family != "covid"), 0, li)
        parts.append((p_, d_, np.array(labels, dtype=object)[li], free[li],
                      np.full(len(p_), labels[0], dtype=object),
                      np.full(len(p_), r["key"], dtype=object)))
    res = {
        "patient": np.concatenate([x[0] for x in parts]),
        "date": np.concatenate([x[1] for x in parts]),
        "label": np.concatenate([x[2] for x in parts]),
        "free_label": np.concatenate([x[3] for x in parts]),
        "canonical_label": np.concatenate([x[4] for x in parts]),
        "dose": np.concatenate([x[5] for x in parts]),
    }
    order = np.lexsort((res["date"], res["patient"]))
    res = {k: v[order] for k, v in res.items()}
    # Two doses of a series drawn on the same day with the same label (late doses caught up at
    # one visit) would be one injection written twice: keep one, as a GP's record would.
    _, first = np.unique(np.stack([res["patient"], res["date"],
                                   np.unique(res["label"].astype(str), return_inverse=True)[1]]),
                         axis=1, return_index=True)
    keep = np.sort(first)
    return {k: v[keep] for k, v in res.items()}
