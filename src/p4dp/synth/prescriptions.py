"""Prescriptions: chronic treatments renewed at follow-up visits, acute treatments, and the
extra long-term drugs of the elderly that make polymedication (DOMAIN.md §3)."""

from __future__ import annotations

import numpy as np

from p4dp.synth import _columns as C
from p4dp.synth._data import read_csv
from p4dp.synth.encounters import Encounters
from p4dp.synth.population import Patients
from p4dp.synth.problems import Problems
from p4dp.synth.text import Pool

#: A patient's treatment for a condition: one drug, a second one this often (bitherapy) for the
#: conditions usually treated with two drugs (HAS: hypertension and type 2 diabetes often need two;
#: asthma/COPD a controller plus a reliever).
SECOND_DRUG_SHARE = 0.4
BITHERAPY_CONDITIONS = ("hta", "dt2", "asthma", "copd")
#: Long-term drugs frequent after 75 (PPI, aspirin, paracetamol, calcium-vitamin D, nitrates):
#: each is taken by this share of patients aged 75 or more, renewed with their chronic treatments.
ELDERLY_AGE = 75
ELDERLY_DRUG_SHARE = 0.35
#: A chronic follow-up renews the patient's whole long-term prescription (« ordonnance de
#: renouvellement »), not only the drugs of the condition discussed: French GPs renew every
#: chronic treatment at once, usually for 3 months (HAS, « Prescription médicamenteuse chez le
#: sujet âgé », 2015). This is what makes polymedication visible over a 3-month window.
RENEW_ALL_AT_FOLLOW_UP = True
#: Statin for diabetics without a recorded dyslipidaemia: primary cardiovascular prevention
#: (HAS 2017, « Choix d'une statine »). About 45 % of French type 2 diabetics take a statin
#: (Entred 2019 / SNDS: 44–48 %); with dyslipidaemia in about a quarter of diabetics (always on a
#: statin here), 0.45 of the others brings the total near 45–50 %.
STATIN_DIABETIC_SHARE = 0.45
#: Chronic pain of the elderly (osteoarthritis): paracetamol, sometimes a step-2 analgesic or a
#: topical NSAID, renewed like other long-term drugs (Assurance Maladie, polymédication du sujet
#: âgé: analgesics among the 10 most reimbursed classes after 75).
ELDERLY_PAIN_SHARE = 0.45
#: Acute problems with a usual treatment get a prescription this often.
ACUTE_PRESCRIPTION_SHARE = 0.7


def _drugs():
    rows = read_csv("drugs.csv")
    by_for: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_for.setdefault(r["for"], []).append(i)
    return rows, by_for


def build_prescriptions(enc: Encounters, pat: Patients, prob: Problems, pool: Pool,
                        rng: np.random.Generator) -> dict:
    rows, by_for = _drugs()
    n_pat = len(pat)
    cond = prob.chronic_condition
    e_of = prob.encounter
    patient = enc.patient[e_of]
    date = enc.date[e_of]
    out_prob, out_drug = [], []

    # Chronic: the patient's own drugs for each active condition (stable over time), renewed
    # together at any chronic follow-up.
    followup = cond >= 0
    dt2 = pat.conditions.index("dt2")
    statin_dm = rng.random(n_pat) < STATIN_DIABETIC_SHARE
    for j, name in enumerate(pat.conditions):
        key = name
        if RENEW_ALL_AT_FOLLOW_UP:
            active = pat.onset[patient, j] <= date
            if name == "dyslipidaemia":
                active |= statin_dm[patient] & (pat.onset[patient, dt2] <= date)
            sel = np.flatnonzero(followup & active)
        else:
            sel = np.flatnonzero(cond == j)
        if name == "af":
            vka = pat.vka[patient[sel]]
            for k, s in (("af", sel[vka]), ("af_doac", sel[~vka])):
                lst = np.array(by_for.get(k, []))
                if len(lst):
                    pick = rng.integers(len(lst), size=n_pat)
                    out_prob.append(s)
                    out_drug.append(lst[pick[patient[s]]])
            continue
        lst = np.array(by_for.get(key, []))
        if not len(lst) or not len(sel):
            continue
        first = rng.integers(len(lst), size=n_pat)
        second = (first + 1 + rng.integers(max(len(lst) - 1, 1), size=n_pat)) % len(lst)
        has2 = ((rng.random(n_pat) < SECOND_DRUG_SHARE) & (len(lst) > 1)
                & (name in BITHERAPY_CONDITIONS))
        out_prob.append(sel)
        out_drug.append(lst[first[patient[sel]]])
        s2 = sel[has2[patient[sel]]]
        out_prob.append(s2)
        out_drug.append(lst[second[patient[s2]]])

    # Elderly: their extra long-term drugs are renewed with any chronic follow-up.
    old = (cond >= 0) & ((date - pat.birth[patient]) / 365.25 >= ELDERLY_AGE)
    for d in by_for.get("elderly", []):
        takes = rng.random(n_pat) < ELDERLY_DRUG_SHARE
        s = np.flatnonzero(old & takes[patient])
        out_prob.append(s)
        out_drug.append(np.full(len(s), d))
    pain = np.array(by_for.get("elderly_pain", []))
    if len(pain):
        takes = rng.random(n_pat) < ELDERLY_PAIN_SHARE
        pick = rng.integers(len(pain), size=n_pat)
        s = np.flatnonzero(old & takes[patient])
        out_prob.append(s)
        out_drug.append(pain[pick[patient[s]]])

    # Acute problems.
    acute = cond < 0
    for code, lst in by_for.items():
        if code not in pool.index:
            continue
        sel = np.flatnonzero(acute & (prob.result == pool.index[code])
                             & (rng.random(len(cond)) < ACUTE_PRESCRIPTION_SHARE))
        out_prob.append(sel)
        out_drug.append(np.array(lst)[rng.integers(len(lst), size=len(sel))])

    pi = np.concatenate(out_prob)
    di = np.concatenate(out_drug)
    # One line per drug and encounter (two problems of a visit do not duplicate a line).
    ei = e_of[pi]
    key = ei * len(rows) + di
    _, first_idx = np.unique(key, return_index=True)
    pi, di, ei = pi[first_idx], di[first_idx], ei[first_idx]
    order = np.argsort(ei, kind="stable")
    pi, di, ei = pi[order], di[order], ei[order]

    labels = [r["labels"].split("|") for r in rows]
    lab_off = np.cumsum([0] + [len(x) for x in labels])
    flat = [x for lst in labels for x in lst]
    n_lab = np.diff(lab_off)
    li = lab_off[di] + (rng.random(len(di)) * n_lab[di]).astype(np.int64)
    return {
        "encounter": ei, "patient": enc.patient[ei], "date": enc.date[ei],
        "practitioner": enc.practitioner[ei],
        "label": C.take(flat, li),
        "atc": C.take([r["atc"] for r in rows], di),
        "dose": C.take([r["dose"] for r in rows], di),
        "duration": np.array([int(r["duration_days"]) for r in rows])[di],
        "chronic": np.array([r["chronic"] == "true" for r in rows])[di],
    }
