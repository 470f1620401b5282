"""Consultations 2000 → today: rate by age, sex and chronic conditions, plus ILI epidemics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from p4dp.synth import _columns as C
from p4dp.synth import ili
from p4dp.synth.population import Patients, Practitioners, load_conditions

#: Yearly GP consultations per person by age band (lower bounds in years). Shape after DREES,
#: "Les consultations et visites des médecins généralistes" (Études et Résultats 2019) and the
#: IRDES ESPS survey: high in infancy, lowest in school age, rising steadily after 45. The level is
#: rescaled to each preset's encounter target, only the shape matters.
RATE_AGE_BANDS = np.array([0, 1, 5, 15, 25, 45, 65, 75, 85])
RATE_BY_AGE = np.array([7.0, 4.5, 2.3, 2.4, 2.8, 3.6, 5.2, 7.0, 8.5])
#: Women consult more than men between 15 and 64 (contraception, pregnancy follow-up).
FEMALE_RATE_FACTOR_15_64 = 1.3
FEMALE_RATE_FACTOR_OTHER = 1.05
#: Sentinelles ILI incidence is already "GP consultations for ILI per 100,000 inhabitants"; the
#: network's patients consult at that rate, children more, the elderly less (Sentinelles reports).
ILI_AGE_BANDS = np.array([0, 5, 15, 65])
ILI_AGE_FACTOR = np.array([2.0, 1.6, 0.9, 0.5])
#: Interns see this share of their supervisor's consultations during their semester.
INTERN_CONSULTATION_SHARE = 0.3
SEMESTER_DAYS = 182
#: Consultations with the declared GP; the rest go to a colleague of the practice.
OWN_GP_SHARE = 0.8
#: Kinds of contact (ENCOUNTER_KINDS): home visits mostly for the very old; teleconsultation
#: from the 2020 lockdown (Assurance maladie: about 5 % of GP acts in 2020, less afterwards).
VISIT_SHARE_85PLUS = 0.25
VISIT_SHARE_OTHER = 0.03
TELECONSULTATION_FROM = C.day(__import__("datetime").date(2020, 3, 16))
TELECONSULTATION_SHARE = 0.05
TELEPHONE_SHARE = 0.015
OTHER_KIND_SHARE = 0.005
#: Patients used to estimate the rate scale of very large networks (exact below this size).
RATE_SCALE_SAMPLE = 200_000
KINDS = ("cabinet", "visite", "teleconsultation", "telephone", "autre")


@dataclass
class PatientYears:
    patient: np.ndarray
    year: np.ndarray
    start: np.ndarray   # first active day in the year
    stop: np.ndarray    # first day after the active part
    age: np.ndarray     # age in years at mid-period


@dataclass
class Encounters:
    patient: np.ndarray
    practice: np.ndarray
    practitioner: np.ndarray
    supervisor: np.ndarray      # -1 when no intern involved
    date: np.ndarray
    kind: np.ndarray            # index into KINDS
    is_ili: np.ndarray
    local_num: np.ndarray       # number within the practice (sorted by patient, date)

    def __len__(self) -> int:
        return len(self.patient)


def patient_years(pat: Patients) -> PatientYears:
    y0 = C.year_of(pat.registered)
    y1 = C.year_of(pat.end - 1)
    counts = np.maximum(y1 - y0 + 1, 0)
    patient = np.repeat(np.arange(len(pat)), counts)
    offs = np.arange(len(patient)) - np.repeat(np.cumsum(counts) - counts, counts)
    year = y0[patient] + offs
    start = np.maximum(pat.registered[patient], C.year_start(year))
    stop = np.minimum(pat.end[patient], C.year_start(year + 1))
    mid = (start + stop) // 2
    age = (mid - pat.birth[patient]) / 365.25
    return PatientYears(patient, year, start, stop, age)


def condition_multiplier(pat: Patients, patient: np.ndarray, at: np.ndarray) -> np.ndarray:
    mult = np.ones(len(patient))
    for j, r in enumerate(load_conditions()):
        active = pat.onset[patient, j] <= at
        mult *= np.where(active, float(r["rate_multiplier"]), 1.0)
    return mult


def _base_rate(age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    band = np.searchsorted(RATE_AGE_BANDS, age, side="right") - 1
    rate = RATE_BY_AGE[np.clip(band, 0, len(RATE_BY_AGE) - 1)]
    female = np.where((age >= 15) & (age < 65), FEMALE_RATE_FACTOR_15_64, FEMALE_RATE_FACTOR_OTHER)
    return rate * np.where(sex == 0, female, 1.0)


def ili_expected(py: PatientYears, pat: Patients, today_day: int) -> tuple[np.ndarray, dict]:
    """Expected ILI consultations per patient-year, and per-year weekly weights for dating them."""
    first_monday = C.day(__import__("datetime").date.fromisocalendar(2000, 1, 1))
    mondays, inc = ili.weekly_incidence(first_monday, today_day)
    wyear = C.year_of(mondays + 3)  # ISO weeks belong to the year of their Thursday
    weekly = {}
    yearly = np.zeros(int(wyear.max()) + 2)
    for y in np.unique(wyear):
        sel = wyear == y
        weekly[int(y)] = (mondays[sel], inc[sel])
        yearly[y] = inc[sel].sum()
    frac = (py.stop - py.start) / 365.25
    band = np.searchsorted(ILI_AGE_BANDS, py.age, side="right") - 1
    lam = yearly[py.year] / 1e5 * frac * ILI_AGE_FACTOR[np.clip(band, 0, len(ILI_AGE_FACTOR) - 1)]
    return lam, weekly


def _regular_rate(py: PatientYears, pat: Patients) -> np.ndarray:
    mid = (py.start + py.stop) // 2
    frac = (py.stop - py.start) / 365.25
    mult = condition_multiplier(pat, py.patient, mid)
    return _base_rate(py.age, pat.sex[py.patient]) * mult * frac


def rate_scale(pat: Patients, target: int, today_day: int) -> float:
    """Factor that brings the expected number of encounters of the whole network to ``target``
    (ILI consultations included): the rates above fix the shape, the preset the level."""
    n = len(pat)
    if n > RATE_SCALE_SAMPLE:
        # A national network has millions of patients: estimate both sums on an evenly spaced
        # subsample (relative error well under 1 %) instead of expanding every patient-year.
        keep = np.linspace(0, n - 1, RATE_SCALE_SAMPLE).astype(np.int64)
        pat = pat.take(keep)
    py = patient_years(pat)
    ili_lam, _ = ili_expected(py, pat, today_day)
    regular = _regular_rate(py, pat).sum()
    factor = n / len(pat)
    return max(target - factor * ili_lam.sum(), 0.0) / max(factor * regular, 1e-9)


def build_encounters(pat: Patients, prac: Practitioners, scale: float, rng: np.random.Generator,
                     today_day: int) -> tuple[Encounters, PatientYears]:
    """Encounters of ``pat`` (a whole network or one practice's patients, indices local to it)."""
    py = patient_years(pat)
    lam = _regular_rate(py, pat) * scale
    ili_lam, weekly = ili_expected(py, pat, today_day)
    n_reg = rng.poisson(lam)
    row = np.repeat(np.arange(len(lam)), n_reg)
    span = py.stop[row] - py.start[row]
    day = py.start[row] + (rng.random(len(row)) * span).astype(np.int64)

    # ILI consultations: dated by the real weekly incidence of their year.
    n_ili = rng.poisson(ili_lam)
    irow = np.repeat(np.arange(len(ili_lam)), n_ili)
    iday = np.zeros(len(irow), dtype=np.int64)
    iyear = py.year[irow]
    for y in np.unique(iyear):
        sel = np.flatnonzero(iyear == y)
        m, w = weekly[int(y)]
        if w.sum() <= 0:
            iday[sel] = -1
            continue
        k = np.searchsorted(np.cumsum(w) / w.sum(), rng.random(len(sel)), side="right")
        iday[sel] = m[np.clip(k, 0, len(m) - 1)] + rng.integers(0, 7, len(sel))
    ok = (iday >= py.start[irow]) & (iday < py.stop[irow])
    irow, iday = irow[ok], iday[ok]

    patient = np.concatenate([py.patient[row], py.patient[irow]])
    date = np.concatenate([day, iday])
    is_ili = np.concatenate([np.zeros(len(row), bool), np.ones(len(irow), bool)])
    practice = pat.practice[patient]
    order = np.lexsort((date, patient, practice))
    patient, date, is_ili, practice = patient[order], date[order], is_ili[order], practice[order]
    n = len(patient)

    # Practitioner: the declared GP most of the time, else any GP of the practice.
    gp_ids = np.flatnonzero(~prac.is_intern)
    gp_practice = prac.practice[gp_ids]
    first_gp = np.searchsorted(gp_practice, np.arange(prac.practice.max() + 1))
    n_gp = np.bincount(gp_practice, minlength=prac.practice.max() + 1)
    any_gp = gp_ids[first_gp[practice] + (rng.random(n) * n_gp[practice]).astype(np.int64)]
    own = pat.gp[patient]
    practitioner = np.where((own >= 0) & (rng.random(n) < OWN_GP_SHARE), own, any_gp)

    # Interns take a share of their supervisor's consultations during their semester.
    supervisor = np.full(n, -1, dtype=np.int64)
    interns = np.flatnonzero(prac.is_intern)
    if len(interns):
        sems = np.unique(prac.semester_start[interns])
        lookup = np.full((len(prac), len(sems)), -1, dtype=np.int64)
        sem_of = np.searchsorted(sems, prac.semester_start[interns])
        lookup[prac.supervisor[interns], sem_of] = interns
        si = np.searchsorted(sems, date, side="right") - 1
        in_sem = (si >= 0) & (date < sems[np.clip(si, 0, None)] + SEMESTER_DAYS)
        cand = np.where(in_sem, lookup[practitioner, np.clip(si, 0, None)], -1)
        take = (cand >= 0) & (rng.random(n) < INTERN_CONSULTATION_SHARE)
        supervisor = np.where(take, practitioner, -1)
        practitioner = np.where(take, cand, practitioner)

    age = (date - pat.birth[patient]) / 365.25
    u = rng.random(n)
    visit = np.where(age >= 85, VISIT_SHARE_85PLUS, VISIT_SHARE_OTHER)
    tele = np.where(date >= TELECONSULTATION_FROM, TELECONSULTATION_SHARE, 0.0)
    kind = np.zeros(n, dtype=np.int64)
    edges = np.cumsum(np.stack([visit, tele, np.full(n, TELEPHONE_SHARE),
                                np.full(n, OTHER_KIND_SHARE)]), axis=0)
    for k in range(4):
        lo = edges[k - 1] if k else 0.0
        kind = np.where((u >= lo) & (u < edges[k]), k + 1, kind)

    first_in_practice = np.searchsorted(practice, practice, side="left")
    local_num = np.arange(n) - first_in_practice + 1
    return Encounters(patient, practice, practitioner, supervisor, date, kind, is_ili,
                      local_num), py
