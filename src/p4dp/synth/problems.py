"""Problems handled in each consultation: Motif / Résultat / Procédure, as text and ICPC-2 codes.

The result of a problem is either the follow-up of one of the patient's chronic conditions (or the
renewal of its treatment, A50) or an acute problem drawn from ``problem_mix.csv`` by age group and
month (respiratory infections peak in winter). ILI consultations get a single influenza-like
problem. The reason and the procedure are drawn from the codes that usually go with the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.synth import _columns as C
from p4dp.synth._data import read_csv
from p4dp.synth.encounters import Encounters
from p4dp.synth.population import Patients, Practitioners, load_conditions
from p4dp.synth.text import (
    FAMILY_CONTEXT,
    FAMILY_CONTEXT_SHARE,
    NEGATION_SHARE,
    NEGATIONS,
    UNCODABLE,
    UNCODABLE_SHARE,
    Pool,
)

#: Problems per consultation (1–3): French GPs handle about 1.5 problems per consultation on
#: average (ECOGEN study, Letrilliart et al. 2014: 2.2 results of consultation, of which a good
#: share administrative; the seed's logbook shows up to three).
PROBLEMS_PER_ENCOUNTER_P = (0.6, 0.28, 0.12)
#: Chance that a problem is the follow-up of a given active chronic condition (times the
#: condition's ``followup_weight``: hypertension and diabetes are seen at most visits).
CHRONIC_FOLLOWUP_PER_CONDITION = 0.47
#: ILI consultations: how the GP writes the result (influenza R80, or an ILI-like upper
#: respiratory infection R74, or just a cough R05) and the reasons typed.
ILI_RESULTS = ("R80", "R74", "R05")
ILI_RESULT_P = (0.75, 0.15, 0.10)
ILI_REASONS = ("A03", "R05", "R80", "A04")
#: Multi-problem entries: the first problem's result text also names the next one ("HTA + DT2");
#: its true code stays the first problem's (the one the entry is filed under).
MULTI_PROBLEM_SHARE = 0.03
#: Presence of the reason and procedure fields (the result is always filled).
REASON_PRESENT = 0.85
PROCEDURE_PRESENT = 0.55
#: Organised cancer screening and the diabetic eye exam, written as a problem's procedure
#: (ICPC-2 process codes): (name, codes, code weights, sex (0 = F, -1 = both), age range,
#: period in years, first year, share of regular participants, chance per period for regular /
#: other patients). Coverage targets as recorded in GP files (approximate national figures):
#: breast ≈ 45–50 % (Santé publique France, DO cancer du sein 2021–2022: 46–50 %; programme
#: generalised in 2004); colorectal ≈ 30–35 % (SpF 2020–2021: 34 %; programme 2009, FIT 2015);
#: cervical ≈ 55–60 % (SpF / INCa, couverture 2018–2020: 59 %; cytology every 3 years at
#: 25–29, HPV test every 5 years from 30); diabetic eye exam within 2 years ≈ 60 % (ROSP / CNAM
#: 2019). Regular participants keep their rhythm, the others rarely take part.
SCREENINGS = (
    ("breast", ("X41",), (1.0,), 0, (50, 75), 2.0, 2004, 0.64, 0.85, 0.06),
    ("colorectal", ("D36",), (1.0,), -1, (50, 75), 2.0, 2009, 0.40, 0.82, 0.04),
    ("cervix_cytology", ("X37",), (1.0,), 0, (25, 30), 3.0, 2000, 0.60, 0.88, 0.08),
    ("cervix_hpv", ("X37",), (1.0,), 0, (30, 66), 5.0, 2000, 0.60, 0.88, 0.08),
)
#: Diabetic eye exam (every 2 years, ROSP): complete exam F30, fundoscopy F31, retinography F41,
#: referral to an ophthalmologist F67; recorded at a diabetes follow-up.
EYE_EXAM = ("eye", ("F30", "F31", "F41", "F67"), (0.15, 0.35, 0.2, 0.3), -1, (0, 200), 2.0,
            2000, 0.80, 0.85, 0.1)
AGE_GROUPS = (15, 65)  # child < 15 ≤ adult < 65 ≤ elderly
FIELDS = ("reason", "result", "procedure")


@dataclass
class Problems:
    encounter: np.ndarray
    rank: np.ndarray
    result: np.ndarray         # code index into pool.codes
    chronic_condition: np.ndarray  # condition index, -1 for acute problems
    text: dict[str, pa.Array]      # field → typed text (null when the field is empty)
    truth: dict[str, pa.Array]     # field → true code (null when the field is empty)
    coded: dict[str, np.ndarray]   # field → the GP entered the code

    def __len__(self) -> int:
        return len(self.encounter)


def _codes_lists(pool: Pool, rows: list[dict[str, str]], key: str) -> dict[int, np.ndarray]:
    out = {}
    for r in rows:
        codes = [c for c in r[key].split() if c]
        missing = [c for c in codes if c not in pool.index]
        if missing:
            raise ValueError(f"{key} codes {missing} (for {r.get('code')}) have no phrases in "
                             "phrases_fr.txt")
        out[pool.index[r["code"]]] = np.array([pool.index[c] for c in codes])
    return out


def _schedule(spec: tuple, cand: np.ndarray, patient: np.ndarray, date: np.ndarray,
              age: np.ndarray, sex: np.ndarray, n_pat: int, procedure: np.ndarray, pool: Pool,
              rng: np.random.Generator) -> None:
    """Write a periodic procedure (screening test, eye exam) into ``procedure``, in place: each
    patient's time is cut into periods (random phase); in a period they take part with their
    own chance, at one of their eligible problems drawn at random."""
    _, codes, weights, want_sex, (lo, hi), years, first_year, regular, p_reg, p_other = spec
    period = years * 365.25
    regular_p = rng.random(n_pat) < regular
    phase = rng.random(n_pat) * period
    ok = cand & (age >= lo) & (age < hi) & (C.year_of(date) >= first_year)
    if want_sex >= 0:
        ok &= sex == want_sex
    idx = np.flatnonzero(ok)
    if not len(idx):
        return
    p = patient[idx]
    window = ((date[idx] - phase[p]) // period).astype(np.int64)
    key = p.astype(np.int64) * 100_000 + window
    # One random eligible problem per patient and period.
    order = np.lexsort((rng.random(len(idx)), key))
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    pick = idx[order][first]
    takes = rng.random(len(pick)) < np.where(regular_p[patient[pick]], p_reg, p_other)
    pick = pick[takes]
    code_idx = np.array([pool.index[c] for c in codes])
    procedure[pick] = code_idx[C.choice_index(rng, np.array(weights), len(pick))]


def build_problems(enc: Encounters, pat: Patients, prac: Practitioners, pool: Pool,
                   rng: np.random.Generator) -> Problems:
    n_enc = len(enc)
    n_per = np.where(enc.is_ili, 1,
                     1 + C.choice_index(rng, np.array(PROBLEMS_PER_ENCOUNTER_P), n_enc))
    e = np.repeat(np.arange(n_enc), n_per)
    rank = np.arange(len(e)) - np.repeat(np.cumsum(n_per) - n_per, n_per) + 1
    n = len(e)
    patient = enc.patient[e]
    date = enc.date[e]
    age = (date - pat.birth[patient]) / 365.25
    sex = pat.sex[patient]
    ili = enc.is_ili[e]

    cond_rows = load_conditions()
    cond_code = np.array([pool.index[r["code"]] for r in cond_rows])
    renewal_share = np.array([float(r["renewal_share"]) for r in cond_rows])
    followup_weight = np.array([float(r["followup_weight"]) for r in cond_rows])
    best_val = np.full(n, -1.0)
    best = np.full(n, -1, dtype=np.int64)
    n_active = np.zeros(n, dtype=np.float64)
    for j in range(len(cond_rows)):
        active = pat.onset[patient, j] <= date
        n_active += active * followup_weight[j]
        # Weighted choice among active conditions: largest u ** (1 / w) (Efraimidis–Spirakis).
        v = np.where(active, rng.random(n) ** (1.0 / followup_weight[j]), -1.0)
        upd = v > best_val
        best_val = np.where(upd, v, best_val)
        best = np.where(upd, j, best)
    p_chronic = 1 - (1 - CHRONIC_FOLLOWUP_PER_CONDITION) ** n_active
    chronic = (~ili) & (n_active > 0) & (rng.random(n) < p_chronic)
    # A condition is followed once per visit: a second draw of it becomes an acute problem.
    same_1 = np.r_[False, (e[1:] == e[:-1]) & (best[1:] == best[:-1]) & chronic[:-1]]
    same_2 = np.r_[False, False, (e[2:] == e[:-2]) & (best[2:] == best[:-2]) & chronic[:-2]]
    chronic &= ~(same_1 | same_2)
    condition = np.where(chronic, best, -1)

    # Acute problems by age group × calendar month.
    mix = read_csv("problem_mix.csv")
    mix_codes = np.array([pool.index[r["code"]] for r in mix])
    w_age = np.array([[float(r[k]) for r in mix] for k in ("w_child", "w_adult", "w_elderly")])
    season = np.array([float(r["season"]) for r in mix])
    female_only = np.array([r["sex"] == "F" for r in mix])
    month = C.month_of(date) - 1
    age_group = np.searchsorted(np.array(AGE_GROUPS), age, side="right")
    weights = np.zeros((3 * 12 * 2, len(mix)))
    for g in range(3):
        for m in range(12):
            w = w_age[g] * (1 + season * np.cos(2 * np.pi * m / 12))
            for s in range(2):
                weights[(g * 12 + m) * 2 + s] = np.where(female_only & (s == 1), 0.0,
                                                         np.clip(w, 0, None))
    group = (age_group * 12 + month) * 2 + sex
    acute_code = mix_codes[C.grouped_choice(rng, group, weights)]

    ili_code = np.array([pool.index[c] for c in ILI_RESULTS])[
        C.choice_index(rng, np.array(ILI_RESULT_P), n)]
    renew = chronic & (rng.random(n) < renewal_share[np.clip(condition, 0, None)])
    result = np.where(ili, ili_code, np.where(chronic, cond_code[np.clip(condition, 0, None)],
                                              acute_code))
    result = np.where(renew, pool.index["A50"], result)

    # Reasons and procedures that go with each result.
    reasons = _codes_lists(pool, mix, "reasons")
    procedures = _codes_lists(pool, mix, "procedures")
    chronic_reasons = _codes_lists(pool, cond_rows, "reasons")
    chronic_procs = _codes_lists(pool, cond_rows, "procedures")
    reason = np.full(n, -1, dtype=np.int64)
    procedure = np.full(n, -1, dtype=np.int64)
    u1, u2 = rng.random(n), rng.random(n)
    # Chronic follow-ups (renewals included) use the condition's lists, acute ones the mix's.
    cond_of = np.where(chronic, cond_code[np.clip(condition, 0, None)], -1)
    for code, lst in chronic_reasons.items():
        sel = cond_of == code
        reason[sel] = lst[(u1[sel] * len(lst)).astype(np.int64)]
        pl = chronic_procs[code]
        procedure[sel] = pl[(u2[sel] * len(pl)).astype(np.int64)]
    for code, lst in reasons.items():
        sel = (~chronic) & (~ili) & (result == code)
        reason[sel] = lst[(u1[sel] * len(lst)).astype(np.int64)]
        pl = procedures[code]
        procedure[sel] = pl[(u2[sel] * len(pl)).astype(np.int64)]
    ili_r = np.array([pool.index[c] for c in ILI_REASONS])
    reason[ili] = ili_r[(u1[ili] * len(ili_r)).astype(np.int64)]
    procedure[ili] = pool.index["A50"]
    reason = np.where(rng.random(n) < REASON_PRESENT, reason, -1)
    procedure = np.where(rng.random(n) < PROCEDURE_PRESENT, procedure, -1)
    dt2 = [r["condition"] for r in cond_rows].index("dt2")
    for spec in SCREENINGS + (EYE_EXAM,):
        cand = ~ili
        if spec is EYE_EXAM:
            cand &= condition == dt2
        _schedule(spec, cand, patient, date, age, sex, len(pat), procedure, pool, rng)

    # Texts, with uncodable entries, negations and family context.
    codes_arr = pa.array(pool.codes, pa.string())
    uncodable_idx = pool.index[UNCODABLE]
    texts, truths, coded = {}, {}, {}
    p_code = prac.codes_problems[enc.practitioner[e]]
    acute = ~chronic
    for field, code in (("reason", reason), ("result", result), ("procedure", procedure)):
        present = code >= 0
        unc = present & (rng.random(n) < UNCODABLE_SHARE)
        code = np.where(unc, uncodable_idx, code)
        txt = pool.sample(np.clip(code, 0, None), rng)
        if field != "procedure":
            neg = present & ~unc & acute & (rng.random(n) < NEGATION_SHARE)
            fam = present & ~unc & (rng.random(n) < FAMILY_CONTEXT_SHARE)
            seps = C.take([", ", " - ", " ; ", ". "], rng.integers(4, size=n))
            negation = C.take(list(NEGATIONS), rng.integers(len(NEGATIONS), size=n))
            family = C.take(list(FAMILY_CONTEXT), rng.integers(len(FAMILY_CONTEXT), size=n))
            txt = C.where(neg, C.join(txt, seps, negation), txt)
            txt = C.where(fam, C.join(txt, seps, family), txt)
        mask = ~present
        texts[field] = C.where(mask, pa.nulls(n, pa.string()), txt)
        true_code = codes_arr.take(pa.array(np.clip(code, 0, None)))
        truths[field] = C.where(mask, pa.nulls(n, pa.string()), true_code)
        coded[field] = present & ~unc & (rng.random(n) < p_code)
    # Multi-problem entries: problem k's result text also mentions problem k+1 of the visit.
    nxt = np.r_[e[1:] == e[:-1], False]
    multi = np.flatnonzero(nxt & (rng.random(n) < MULTI_PROBLEM_SHARE))
    res = texts["result"]
    is_unc = pc.equal(truths["result"], UNCODABLE).to_numpy(zero_copy_only=False)
    multi = multi[~is_unc[multi] & ~is_unc[multi + 1]]
    joined = C.join(res.take(pa.array(multi)), C.take([" + ", ", ", " et ", " / "],
                                                      rng.integers(4, size=len(multi))),
                    res.take(pa.array(multi + 1)))
    pos = np.full(n, -1, dtype=np.int64)
    pos[multi] = np.arange(len(multi))
    texts["result"] = pa.concat_arrays([res, joined]).take(
        pa.array(np.where(pos >= 0, n + pos, np.arange(n))))
    return Problems(e, rank, result, condition, texts, truths, coded)
