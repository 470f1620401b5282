"""Laboratory results: INR series on vitamin K antagonists, HbA1c for diabetics, yearly panels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from p4dp.synth import _columns as C
from p4dp.synth._data import read_csv
from p4dp.synth.encounters import PatientYears
from p4dp.synth.population import Patients

#: INR every 3–5 weeks on a VKA (HAS 2008: at least monthly once stable).
INR_INTERVAL_DAYS = (21, 35)
#: Patient-level INR control: mean and spread chosen so that about 35–45 % of results fall outside
#: 2–3, as in French and European cohorts (time in range ≈ 60 %, Pirmohamed/ESC; seed's Examen tab).
INR_PATIENT_MEAN = (2.45, 0.22)
INR_PATIENT_SD = (0.4, 0.85)
INR_SPIKE_SHARE = 0.02
#: HbA1c two to three times a year for type 2 diabetes (HAS 2013); some labs report mmol/mol.
HBA1C_INTERVAL_DAYS = (100, 160)
#: Not every diabetic is tested that often: the ROSP / Assurance Maladie follow-up finds about
#: 65 % of type 2 diabetics with ≥ 2 HbA1c a year (CNAM, « Améliorer la qualité du système de
#: santé », 2019: 60–70 %). The others are tested once a year or less.
HBA1C_REGULAR_SHARE = 0.72
HBA1C_SPARSE_INTERVAL_DAYS = (200, 480)
#: Urine albumin/creatinine ratio (or microalbuminuria) in a given year for a diabetic: about a
#: third (ROSP / Entred 2019: 30–40 %). It comes with the yearly panel (``P_PANEL_RISK`` = 0.6 of
#: diabetics' years, fewer in a 365-day window), so 0.68 of panels carry it; ALBU
#: (microalbuminuria alone) for a quarter of them.
UACR_WITH_PANEL_SHARE = 0.68
UACR_ALBU_SHARE = 0.25
HBA1C_PATIENT_MEAN = (7.1, 0.8)
HBA1C_MMOL_SHARE = 0.25
#: Yearly "bilan" (lipids, creatinine/eGFR, glucose …): most patients with a cardiovascular risk
#: condition, fewer otherwise.
P_PANEL_RISK = 0.6
P_PANEL_OVER_50 = 0.25
P_PANEL_ADULT = 0.08
P_TSH_EXTRA = 0.12
P_HB_EXTRA = 0.3
P_CRP_EXTRA = 0.1
CRP_BELOW_DETECTION = 5.0
#: The first label of each exam is the usual one; the others share this probability.
OTHER_LABEL_SHARE = 0.35
RISK_CONDITIONS = ("hta", "dt2", "dyslipidaemia")


def _exams() -> dict[str, dict]:
    out = {}
    for r in read_csv("labs.csv"):
        labels = r["labels"].split("|")
        out[r["exam"]] = {
            "labels": [lbl.lstrip("~") for lbl in labels],
            "free_text": np.array([lbl.startswith("~") for lbl in labels]),
            "unit": r["unit"] or None,
            "raw_units": r["raw_units"].split("|") if r["raw_units"] else [None],
            "mean": float(r["mean"]), "sd": float(r["sd"]), "decimals": int(r["decimals"]),
            "min": float(r["min"]), "max": float(r["max"]),
        }
    return out


def _series(rng, patient, start, stop, interval):
    """Regular readings from ``start`` to ``stop`` per patient, every ``interval`` days (random)."""
    span = np.maximum(stop - start, 0)
    k = (span // interval[0] + 1).astype(np.int64)
    row = np.repeat(np.arange(len(patient)), k)
    steps = rng.integers(interval[0], interval[1] + 1, len(row))
    cum = np.cumsum(steps)
    before = np.repeat(cum[np.cumsum(k) - k] - steps[np.cumsum(k) - k], k)
    day = start[row] + cum - before
    keep = day < stop[row]
    return patient[row][keep], day[keep]


def build_labs(pat: Patients, py: PatientYears, rng: np.random.Generator) -> dict:
    ex = _exams()
    cidx = {c: i for i, c in enumerate(pat.conditions)}
    rows: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []

    # INR series on VKA.
    vka = np.flatnonzero(pat.vka)
    start = np.maximum(pat.onset[vka, cidx["af"]], pat.registered[vka])
    p_inr, d_inr = _series(rng, vka, start, pat.end[vka], INR_INTERVAL_DAYS)
    mu = rng.normal(*INR_PATIENT_MEAN, len(pat))[p_inr]
    sd = rng.uniform(*INR_PATIENT_SD, len(pat))[p_inr]
    v = mu + sd * rng.standard_normal(len(p_inr))
    v += (rng.random(len(v)) < INR_SPIKE_SHARE) * rng.uniform(2, 5, len(v))
    rows.append(("inr", p_inr, d_inr, v))

    # HbA1c for type 2 diabetes.
    dm = np.flatnonzero(pat.onset[:, cidx["dt2"]] < np.iinfo(np.int32).max)
    start = np.maximum(pat.onset[dm, cidx["dt2"]], pat.registered[dm])
    regular = rng.random(len(dm)) < HBA1C_REGULAR_SHARE
    p_reg, d_reg = _series(rng, dm[regular], start[regular], pat.end[dm[regular]],
                           HBA1C_INTERVAL_DAYS)
    p_sp, d_sp = _series(rng, dm[~regular], start[~regular], pat.end[dm[~regular]],
                         HBA1C_SPARSE_INTERVAL_DAYS)
    p_a1c, d_a1c = np.r_[p_reg, p_sp], np.r_[d_reg, d_sp]
    a1c = rng.normal(*HBA1C_PATIENT_MEAN, len(pat))[p_a1c] + rng.normal(0, 0.45, len(p_a1c))
    rows.append(("hba1c", p_a1c, d_a1c, a1c))

    mid = (py.start + py.stop) // 2
    # Yearly panels.
    risk = np.zeros(len(py.patient), bool)
    for c in RISK_CONDITIONS:
        risk |= pat.onset[py.patient, cidx[c]] <= mid
    p_panel = np.where(risk, P_PANEL_RISK, np.where(py.age >= 50, P_PANEL_OVER_50,
                                                    np.where(py.age >= 18, P_PANEL_ADULT, 0.0)))
    take = rng.random(len(p_panel)) < p_panel * (py.stop - py.start) / 365.25
    pp = py.patient[take]
    pd_ = py.start[take] + (rng.random(take.sum()) * (py.stop - py.start)[take]).astype(np.int64)
    page = py.age[take]
    m = len(pp)
    z = rng.normal(0, 1, (len(pat), 4))  # patient-level lipid / renal offsets
    tc = ex["chol_total"]["mean"] + ex["chol_total"]["sd"] * (
        0.8 * z[pp, 0] + 0.6 * rng.standard_normal(m))
    hdl = ex["hdl"]["mean"] + ex["hdl"]["sd"] * (0.8 * z[pp, 1] + 0.6 * rng.standard_normal(m)) \
        + 0.08 * (pat.sex[pp] == 0)
    tg = np.exp(np.log(ex["tg"]["mean"]) + 0.4 * (0.8 * z[pp, 2] + 0.6 * rng.standard_normal(m)))
    ldl = tc - hdl - tg / 5  # Friedewald, g/L
    scr = (70 + 15 * (pat.sex[pp] == 1) + 0.25 * np.clip(page - 40, 0, None)) * np.exp(
        0.15 * z[pp, 3] + 0.05 * rng.standard_normal(m))
    female = pat.sex[pp] == 0
    kappa = np.where(female, 0.7, 0.9)
    alpha = np.where(female, -0.329, -0.411)
    s = scr / 88.4 / kappa
    egfr = 141 * np.minimum(s, 1) ** alpha * np.maximum(s, 1) ** -1.209 * 0.993 ** page \
        * np.where(female, 1.018, 1.0)  # CKD-EPI 2009
    glu = ex["glucose"]["mean"] + ex["glucose"]["sd"] * rng.standard_normal(m) \
        + 0.35 * (pat.onset[pp, cidx["dt2"]] <= pd_)
    for exam, val in (("chol_total", tc), ("hdl", hdl), ("ldl", ldl), ("tg", tg),
                      ("creatinine", scr), ("egfr", egfr), ("glucose", glu)):
        rows.append((exam, pp, pd_, val))
    hypo = pat.onset[pp, cidx["hypothyroidism"]] <= pd_
    tsh_m = hypo | (rng.random(m) < P_TSH_EXTRA)
    tsh = np.exp(np.log(2.0) + np.where(hypo, 0.7, 0.45) * rng.standard_normal(m))
    # Urine albumin/creatinine ratio of diabetics, prescribed with the yearly panel (creatinine
    # and eGFR the same day: the two halves of the kidney screening).
    dm_panel = np.flatnonzero((pat.onset[pp, cidx["dt2"]] <= pd_)
                              & (rng.random(m) < UACR_WITH_PANEL_SHARE))
    # Ratio in mg/mmol, log-normal: most < 3 (normal), about 20 % above (KDIGO A2/A3).
    acr = np.exp(rng.normal(0.2, 1.1, len(dm_panel)))
    albu = rng.random(len(dm_panel)) < UACR_ALBU_SHARE
    rows.append(("rac", pp[dm_panel[~albu]], pd_[dm_panel[~albu]], acr[~albu]))
    rows.append(("albu", pp[dm_panel[albu]], pd_[dm_panel[albu]], acr[albu] * 8.0))
    rows.append(("tsh", pp[tsh_m], pd_[tsh_m], tsh[tsh_m]))
    hb_m = rng.random(m) < P_HB_EXTRA
    hb = ex["hb"]["mean"] - 1.2 * female + ex["hb"]["sd"] * rng.standard_normal(m)
    rows.append(("hb", pp[hb_m], pd_[hb_m], hb[hb_m]))
    crp_m = rng.random(m) < P_CRP_EXTRA
    crp = np.exp(rng.normal(1.2, 1.2, m))
    rows.append(("crp", pp[crp_m], pd_[crp_m], crp[crp_m]))

    # Assemble, with labels and units as the lab wrote them.
    out = {k: [] for k in ("patient", "date", "value", "unit", "raw_unit", "label", "free_label",
                           "canonical_label", "text_value", "exam")}
    for exam, p_, d_, v_ in rows:
        e = ex[exam]
        k = len(p_)
        v_ = np.clip(v_, e["min"], e["max"])
        n_lab = len(e["labels"])
        w = np.r_[1 - OTHER_LABEL_SHARE, np.full(n_lab - 1, OTHER_LABEL_SHARE / max(n_lab - 1, 1))]
        li = C.choice_index(rng, w, k)
        units = e["raw_units"]
        if exam == "hba1c":
            mmol = (rng.random(len(pat)) < HBA1C_MMOL_SHARE)[p_]
            ui = mmol.astype(np.int64)
            v_ = np.where(mmol, np.round(10.929 * (v_ - 2.15)), np.round(v_, 1))
        else:
            ui = (rng.random(k) < 0.15).astype(np.int64) if len(units) > 1 \
                else np.zeros(k, np.int64)
            if exam == "glucose":
                v_ = np.where(ui == 1, np.round(v_ * 5.55, 1), np.round(v_, 2))
            else:
                v_ = np.round(v_, e["decimals"])
        text = np.full(k, None, dtype=object)
        if exam == "crp":
            low = v_ < CRP_BELOW_DETECTION
            text[low] = "< 5"
            v_ = np.where(low, np.nan, v_)
        out["patient"].append(p_)
        out["date"].append(d_)
        out["value"].append(v_)
        uarr = np.array(units, dtype=object)[ui]
        out["unit"].append(uarr)
        out["raw_unit"].append(uarr)
        out["label"].append(np.array(e["labels"], dtype=object)[li])
        out["free_label"].append(e["free_text"][li])
        out["canonical_label"].append(np.full(k, e["labels"][0], dtype=object))
        out["text_value"].append(text)
        out["exam"].append(np.full(k, exam, dtype=object))
    res = {k: np.concatenate(v) for k, v in out.items()}
    order = np.lexsort((res["date"], res["patient"]))
    res = {k: v[order] for k, v in res.items()}
    res["label"] = pa.array(res["label"], pa.string())
    return res
