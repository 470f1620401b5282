"""Antecedents (medical, surgical, family, allergy) and history items (the seed's Historique)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from p4dp.synth import _columns as C
from p4dp.synth.population import NO_ONSET, Patients, load_conditions
from p4dp.synth.text import Pool

#: The GP entered the ICPC-2 code of a medical antecedent this often (origin 'source').
ANTECEDENT_CODED_SHARE = 0.35
SURGICAL = (("appendicectomie", None), ("cholécystectomie", None), ("PTH droite", None),
            ("amygdalectomie dans l'enfance", None), ("cure de hernie inguinale", None),
            ("arthroscopie genou", None), ("canal carpien opéré", None), ("césarienne", "F"),
            ("hystérectomie", "F"), ("prothèse totale de genou", None), ("chir cataracte", None))
FAMILY = ("père : IDM à 55 ans", "mère : cancer du sein", "ATCD familial de diabète",
          "frère : asthme", "père HTA", "mère : AVC", "ATCD familiaux de cancer colique",
          "grand-père : Alzheimer", "mère diabétique")
ALLERGY = ("allergie pénicilline", "allergie à l'aspirine", "allergie AINS", "allergie aux pollens",
           "allergie iode", "intolérance au lactose", "allergie aux acariens", "allergie codéine")
P_SURGICAL_ADULT = 0.3
P_FAMILY = 0.25
P_ALLERGY = 0.12

#: History items (Historique): shares of adults with a mention, and status mix. Tobacco: about a
#: quarter of French adults smoke daily (Baromètre santé 2021); the seed shows yes/no mentions.
HISTORY_ADULT_AGE = 15
HISTORY = {
    "tobacco": (0.6, {"yes": (0.3, ("tabac", "tabagisme actif", "fumeur 10 cig/j", "tabac 20 PA",
                                    "fume")),
                      "former": (0.2, ("ex-fumeur", "tabac sevré", "ancien fumeur 15 PA")),
                      "no": (0.5, ("non fumeur", "pas de tabac", "tabac : non"))}),
    "alcohol": (0.35, {"yes": (0.22, ("alcool occasionnel", "OH 2 verres/j", "alcoolisme chronique",
                                      "consommation d'alcool")),
                       "former": (0.05, ("ex-OH sevré", "alcool sevré")),
                       "no": (0.73, ("pas d'alcool", "alcool : non", "abstinent"))}),
    "drugs": (0.15, {"yes": (0.2, ("cannabis", "cannabis occasionnel", "toxicomanie", "joints")),
                     "former": (0.1, ("ancien toxicomane", "ex-cannabis")),
                     "no": (0.7, ("pas de toxique", "toxiques : non"))}),
    "occupation": (0.5, {"yes": (1.0, ("infirmière", "enseignant", "retraité", "maçon",
                                       "agent administratif", "chauffeur routier", "étudiant",
                                       "commerçant", "agriculteur", "sans emploi", "cadre",
                                       "aide-soignante", "ouvrier BTP"))}),
    "family_situation": (0.3, {"yes": (1.0, ("marié, 2 enfants", "célibataire", "veuve",
                                             "divorcé", "vit seul", "en couple",
                                             "pacsée, 1 enfant"))}),
    "physical_activity": (0.15, {"yes": (0.6, ("marche 3x/sem", "sport régulier", "vélo")),
                                 "no": (0.4, ("sédentaire", "pas de sport"))}),
}


def build_antecedents(pat: Patients, pool: Pool, rng: np.random.Generator, today: date) -> dict:
    t = C.day(today)
    n = len(pat)
    parts = []  # (patient, kind, date, text, code or None)
    for j, name in enumerate(pat.conditions):
        sel = np.flatnonzero(pat.onset[:, j] != NO_ONSET)
        code = load_conditions()[j]["code"]
        txt = pool.sample(np.full(len(sel), pool.index[code]), rng)
        d = np.maximum(pat.onset[sel, j], pat.registered[sel])
        coded = rng.random(len(sel)) < ANTECEDENT_CODED_SHARE
        parts.append((sel, "medical", d, txt, np.where(coded, code, None)))
    adult = (t - pat.birth) / 365.25 >= 18
    female = pat.sex == 0
    for kind, items, p, eligible in (
        ("surgical", SURGICAL, P_SURGICAL_ADULT, adult),
        ("family", tuple((x, None) for x in FAMILY), P_FAMILY, np.ones(n, bool)),
        ("allergy", tuple((x, None) for x in ALLERGY), P_ALLERGY, np.ones(n, bool)),
    ):
        sel = np.flatnonzero(eligible & (rng.random(n) < p))
        k = rng.integers(len(items), size=len(sel))
        sex_ok = np.array([s is None for _, s in items])[k] | female[sel]
        sel, k = sel[sex_ok], k[sex_ok]
        span = pat.end[sel] - pat.registered[sel]
        d = pat.registered[sel] + (rng.random(len(sel)) * span).astype(np.int64)
        parts.append((sel, kind, d, C.take([x for x, _ in items], k), np.full(len(sel), None)))
    patient = np.concatenate([x[0] for x in parts])
    kind = np.concatenate([np.full(len(x[0]), x[1], dtype=object) for x in parts])
    d = np.concatenate([x[2] for x in parts])
    text = pa.concat_arrays([x[3] for x in parts])
    code = np.concatenate([x[4] for x in parts])
    order = np.lexsort((d, patient))
    return {"patient": patient[order], "kind": kind[order], "date": d[order],
            "text": text.take(pa.array(order)), "code": code[order]}


def build_history(pat: Patients, rng: np.random.Generator, today: date) -> dict:
    t = C.day(today)
    n = len(pat)
    age_end = (np.minimum(pat.end, t) - pat.birth) / 365.25
    eligible = age_end >= HISTORY_ADULT_AGE
    parts = []
    for kind, (p, statuses) in HISTORY.items():
        sel = np.flatnonzero(eligible & (rng.random(n) < p))
        names = list(statuses)
        probs = np.array([statuses[s][0] for s in names])
        si = C.choice_index(rng, probs, len(sel))
        flat: list[str] = []
        off = []
        for s in names:
            off.append(len(flat))
            flat.extend(statuses[s][1])
        off = np.array(off)
        cnt = np.array([len(statuses[s][1]) for s in names])
        li = off[si] + (rng.random(len(sel)) * cnt[si]).astype(np.int64)
        span = pat.end[sel] - pat.registered[sel]
        d = pat.registered[sel] + (rng.random(len(sel)) * span).astype(np.int64)
        d = np.maximum(d, pat.birth[sel] + int(HISTORY_ADULT_AGE * 365.25))
        d = np.minimum(d, t)
        parts.append((sel, np.full(len(sel), kind, dtype=object), d, C.take(flat, li),
                      np.array(names, dtype=object)[si]))
    patient = np.concatenate([x[0] for x in parts])
    order = np.lexsort((np.concatenate([x[2] for x in parts]), patient))
    return {"patient": patient[order],
            "kind": np.concatenate([x[1] for x in parts])[order],
            "date": np.concatenate([x[2] for x in parts])[order],
            "label": pa.concat_arrays([x[3] for x in parts]).take(pa.array(order)),
            "status": np.concatenate([x[4] for x in parts])[order]}
