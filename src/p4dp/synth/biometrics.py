"""Biometric readings taken during consultations: growth of children, adults' weight and BP."""

from __future__ import annotations

import numpy as np

from p4dp.cdm.tables import BIOMETRIC_KINDS
from p4dp.synth._data import growth_reference
from p4dp.synth.encounters import Encounters
from p4dp.synth.population import NO_ONSET, Patients

UNITS = {"weight": "kg", "height": "cm", "bmi": "kg/m²", "systolic_bp": "mmHg",
         "diastolic_bp": "mmHg", "heart_rate": "/min", "temperature": "°C",
         "head_circumference": "cm", "waist_circumference": "cm"}
KIND = {k: i for i, k in enumerate(BIOMETRIC_KINDS)}
#: How often each reading is taken in a consultation. Infants are weighed at almost every visit
#: (carnet de santé), children often with their height, adults less; BP at most adult visits of
#: hypertensive patients. The seed counts 1.3 M biometrics for 3.4 M consultations.
P_WEIGHT = {"infant": 0.9, "child": 0.55, "adult": 0.22}
P_HEIGHT_WITH_WEIGHT = {"infant": 0.85, "child": 0.85, "adult": 0.06}
P_BMI_RECORDED = 0.3
P_HEAD_CIRCUMFERENCE_UNDER_2 = 0.6
P_BP_ADULT = 0.3
P_BP_HYPERTENSIVE = 0.75
P_HEART_RATE = 0.12
P_TEMPERATURE_ILI = 0.35
P_TEMPERATURE_OTHER = 0.03
P_WAIST = 0.02
ADULT_AGE = 18.0
#: Ages (years) between which a heavier child's excess weight builds up (``child_excess_z``).
EXCESS_FROM_AGE, EXCESS_FULL_AGE = 2.0, 6.0


def _interp(ref: dict[str, dict[str, np.ndarray]], sex: np.ndarray, age: np.ndarray, key: str):
    out = np.empty(len(age))
    for s, code in ((0, "F"), (1, "M")):
        m = sex == s
        out[m] = np.interp(age[m], ref[code]["age"], ref[code][key])
    return out


def build_biometrics(enc: Encounters, pat: Patients,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(enc)
    p = enc.patient
    age = (enc.date - pat.birth[p]) / 365.25
    sex = pat.sex[p]
    group = np.where(age < 2, "infant", np.where(age < ADULT_AGE, "child", "adult"))
    pw = np.select([group == "infant", group == "child"], [P_WEIGHT["infant"], P_WEIGHT["child"]],
                   P_WEIGHT["adult"])
    ph = np.select([group == "infant", group == "child"],
                   [P_HEIGHT_WITH_WEIGHT["infant"], P_HEIGHT_WITH_WEIGHT["child"]],
                   P_HEIGHT_WITH_WEIGHT["adult"])
    has_w = rng.random(n) < pw
    has_h = has_w & (rng.random(n) < ph)
    has_bmi = has_w & has_h & (rng.random(n) < P_BMI_RECORDED)
    hta = pat.onset[p, pat.conditions.index("hta")] <= enc.date
    adult = age >= ADULT_AGE
    has_bp = adult & (rng.random(n) < np.where(hta, P_BP_HYPERTENSIVE, P_BP_ADULT))
    has_hr = adult & (rng.random(n) < P_HEART_RATE)
    has_t = rng.random(n) < np.where(enc.is_ili, P_TEMPERATURE_ILI, P_TEMPERATURE_OTHER)
    has_hc = (age < 2) & (rng.random(n) < P_HEAD_CIRCUMFERENCE_UNDER_2)
    has_waist = adult & (rng.random(n) < P_WAIST)

    ref = growth_reference()
    a = np.clip(age, 0, 19)
    h_child = (_interp(ref, sex, a, "h") + pat.height_z[p] * _interp(ref, sex, a, "h_sd")
               + rng.normal(0, 0.4, n))
    wz = pat.weight_z[p] + pat.child_excess_z[p] * np.clip(
        (a - EXCESS_FROM_AGE) / (EXCESS_FULL_AGE - EXCESS_FROM_AGE), 0, 1)
    w_child = _interp(ref, sex, a, "w") * np.exp(wz * _interp(ref, sex, a, "w_lsd")
                                                 + rng.normal(0, 0.03, n))
    h_adult = pat.adult_height[p] + rng.normal(0, 0.5, n)
    drift = np.clip(0.004 * (age - 30), -0.05, 0.08) + rng.normal(0, 0.02, n)
    w_adult = pat.adult_bmi[p] * (h_adult / 100) ** 2 * (1 + drift)
    height = np.where(adult, np.round(h_adult, 1), np.round(h_child * 2) / 2)
    weight = np.where(age < 2, np.round(w_child, 2), np.round(np.where(adult, w_adult, w_child), 1))
    bmi = np.round(weight / (height / 100) ** 2, 2)
    patient_bp = rng.normal(0, 8, len(pat))[p]
    sys = np.clip(np.round(115 + 0.45 * np.clip(age - 20, 0, None) + 8 * hta + patient_bp
                           + rng.normal(0, 8, n)), 85, 220)
    dia = np.clip(np.round(0.55 * sys + 8 + rng.normal(0, 6, n)), 45, 130)
    af = pat.onset[p, pat.conditions.index("af")] <= enc.date
    hr = np.clip(np.round(rng.normal(74, 10, n) + 12 * af), 40, 160)
    temp = np.round(np.where(enc.is_ili, rng.normal(38.6, 0.6, n), rng.normal(37.0, 0.35, n)), 1)
    months = np.clip(age * 12, 0, None)
    hc = np.round(34.5 - 0.8 * (sex == 0) + 13.5 * (1 - np.exp(-months / 6.5))
                  + rng.normal(0, 1.2, n), 1)
    waist = np.round(2.5 * pat.adult_bmi[p] + 20 + rng.normal(0, 5, n))

    parts = []
    for kind, mask, value in (
        ("weight", has_w, weight), ("height", has_h, height), ("bmi", has_bmi, bmi),
        ("systolic_bp", has_bp, sys), ("diastolic_bp", has_bp, dia), ("heart_rate", has_hr, hr),
        ("temperature", has_t, temp), ("head_circumference", has_hc, hc),
        ("waist_circumference", has_waist, waist),
    ):
        idx = np.flatnonzero(mask)
        parts.append((idx, np.full(len(idx), KIND[kind]), value[idx]))
    enc_idx = np.concatenate([x[0] for x in parts])
    kind = np.concatenate([x[1] for x in parts])
    value = np.concatenate([x[2] for x in parts])
    order = np.lexsort((kind, enc_idx))
    enc_idx, kind, value = enc_idx[order], kind[order], value[order]
    return {"encounter": enc_idx, "patient": enc.patient[enc_idx], "date": enc.date[enc_idx],
            "kind": kind, "value": value.astype(np.float64)}


__all__ = ["NO_ONSET", "UNITS", "build_biometrics"]
