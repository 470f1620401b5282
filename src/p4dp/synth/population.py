"""Practices, practitioners and patients of the synthetic network, with chronic conditions.

Everything is drawn column-wise with NumPy; strings are assembled as Arrow arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.synth import _columns as C
from p4dp.synth._data import pyramid, read_csv
from p4dp.synth.presets import Preset

# The seed's three EHR sources come first so that small networks look like the seed's screens.
SEED_SOURCE_IDS = ("arm", "med", "car")
PRACTICE_KINDS = ("cabinet", "msp", "centre_sante")
PRACTICE_KIND_WEIGHTS = (0.55, 0.35, 0.10)  # DREES 2022: MSPs host about a third of GPs in groups
#: Earliest EHR data in the network; the issue asks for consultations from 2000.
NETWORK_START = date(2000, 1, 1)
#: Share of practices whose EHR history starts in 2000; the others adopted it 2001–2012.
PRACTICES_FROM_2000_SHARE = 0.6
LAST_EHR_ADOPTION_YEAR = 2012

#: Share of GPs who supervise interns (maîtres de stage universitaires), and of semesters in which
#: a supervisor actually hosts one. Interns' semesters start in May and November (French 3rd cycle).
SUPERVISOR_SHARE = 0.4
INTERN_SEMESTER_FILL = 0.6
INTERNS_FROM_YEAR = 2008

#: Patients who died during the export period (so their record ends) and who moved away.
DECEASED_SHARE = 0.04
MOVED_AWAY_SHARE = 0.15
#: Patients already followed when the practice's EHR started (registered during its first months).
PRE_EXISTING_SHARE = 0.55
PRE_EXISTING_REGISTRATION_MEAN_DAYS = 240
#: Share of patients with a declared médecin traitant in the practice.
DECLARED_GP_SHARE = 0.9
#: Patients who objected to the use of their data (right to object, DOMAIN.md §4).
OPPOSITION_SHARE = 0.005
#: Contact details present in the EHR.
PHONE_SHARE = 0.92
MOBILE_SHARE = 0.8
EMAIL_SHARE_ADULTS = 0.55
BIRTH_NAME_SHARE_ADULT_WOMEN = 0.4
#: NIR birth place: in the département of residence, elsewhere in France, or abroad (code 99).
NIR_SAME_DEP_SHARE = 0.65
NIR_ABROAD_SHARE = 0.07
EMAIL_DOMAINS = ("gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr", "sfr.fr",
                 "wanadoo.fr", "yahoo.fr")


@dataclass
class Practices:
    source_id: list[str]
    practice_id: list[str]
    name: list[str]
    region_code: list[str]
    departement_code: list[str]
    city: list[str]
    postcode: list[str]
    phone_prefix: list[str]
    kind: list[str]
    vendor_format: list[str]
    export_start: np.ndarray  # days
    export_end: np.ndarray
    n_gps: np.ndarray
    n_patients: np.ndarray

    def __len__(self) -> int:
        return len(self.source_id)


@dataclass
class Practitioners:
    practice: np.ndarray          # index into Practices
    local_id: pa.Array
    sex: np.ndarray               # 0 = F, 1 = M
    birth_year: np.ndarray
    is_intern: np.ndarray
    supervisor: np.ndarray        # index of the supervising GP, -1 for GPs
    semester_start: np.ndarray    # interns: first day of their semester; GPs: -1
    codes_problems: np.ndarray    # probability that this practitioner codes a problem in ICPC-2
    last_name: pa.Array
    first_name: pa.Array
    rpps: pa.Array

    def __len__(self) -> int:
        return len(self.practice)


@dataclass
class Patients:
    practice: np.ndarray
    local_id: pa.Array
    gp: np.ndarray                # practitioner index, -1 when none declared
    sex: np.ndarray               # 0 = F, 1 = M
    birth: np.ndarray             # days
    death: np.ndarray             # days, -1 when alive
    registered: np.ndarray        # days
    end: np.ndarray               # last day the record is active (death, move, export end)
    opposition: np.ndarray
    last_name: pa.Array
    first_name: pa.Array
    birth_name: pa.Array
    nir: pa.Array
    address: pa.Array
    postcode: pa.Array
    city: pa.Array
    departement: pa.Array
    phone: pa.Array
    email: pa.Array
    relatives: pa.Array
    relative_first: pa.Array      # one relative's name (for free-text mentions), never null
    conditions: list[str]
    onset: np.ndarray             # (patients, conditions) onset day, INT_MAX when absent
    vka: np.ndarray               # anticoagulated with a vitamin K antagonist (INR follow-up)
    height_z: np.ndarray
    weight_z: np.ndarray
    child_excess_z: np.ndarray    # extra weight z of the heavier children, reached by 6 years
    adult_height: np.ndarray
    adult_bmi: np.ndarray

    def __len__(self) -> int:
        return len(self.practice)

    def take(self, idx: np.ndarray) -> "Patients":
        """The patients at positions ``idx``, as a Patients of their own."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "conditions":
                out[f.name] = v
            elif isinstance(v, pa.Array):
                out[f.name] = v.take(pa.array(idx))
            else:
                out[f.name] = v[idx]
        return Patients(**out)

    def slice(self, start: int, stop: int) -> "Patients":
        """Patients ``start:stop`` (one practice), as a Patients of their own."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v if f.name == "conditions" else v[start:stop]
        return Patients(**out)


NO_ONSET = np.iinfo(np.int32).max


def _source_ids(n: int, rng: np.random.Generator) -> list[str]:
    out = list(SEED_SOURCE_IDS[:n])
    consonants, vowels = "bcdfghjklmnprstvz", "aeiou"
    seen = set(out)
    while len(out) < n:
        c = (consonants[rng.integers(len(consonants))] + vowels[rng.integers(len(vowels))]
             + consonants[rng.integers(len(consonants))])
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out


def build_practices(preset: Preset, rng: np.random.Generator, today: date) -> Practices:
    n = preset.practices
    geo = read_csv("departements.csv")
    by_region: dict[str, list[dict[str, str]]] = {}
    for r in geo:
        by_region.setdefault(r["region_code"], []).append(r)
    unknown = [r for r in preset.regions if r not in by_region]
    if unknown:
        raise ValueError(f"preset {preset.name}: regions {unknown} missing from departements.csv")
    places = []
    for i in range(n):
        region = preset.regions[i % len(preset.regions)]
        options = by_region[region]
        places.append(options[int(rng.integers(len(options)))])
    # GPs: at least one per practice, the rest spread unevenly (group practices are larger).
    extra = rng.multinomial(preset.gps - n, rng.dirichlet(np.full(n, 2.0))) if preset.gps > n \
        else np.zeros(n, int)
    n_gps = 1 + extra
    share = n_gps * rng.uniform(0.8, 1.2, n)
    n_patients = np.floor(share / share.sum() * preset.patients).astype(np.int64)
    n_patients[: preset.patients - n_patients.sum()] += 1
    formats = [("csv-fr", "jsonl", "fhir")[k % 3] for k in rng.permutation(max(n, 3))[:n]]
    if n >= 3:
        formats[:3] = [("csv-fr", "jsonl", "fhir")[k] for k in rng.permutation(3)]
    from_2000 = rng.random(n) < PRACTICES_FROM_2000_SHARE
    from_2000[0] = True
    start = np.where(
        from_2000, C.day(NETWORK_START),
        rng.integers(C.day(date(2001, 1, 1)), C.day(date(LAST_EHR_ADOPTION_YEAR, 12, 31)), n),
    )
    kinds = [PRACTICE_KINDS[k] for k in C.choice_index(rng, np.array(PRACTICE_KIND_WEIGHTS), n)]
    kinds = [("msp" if g >= 4 and k == "cabinet" else k) for k, g in zip(kinds, n_gps)]
    label = {"cabinet": "Cabinet médical", "msp": "Maison de santé",
             "centre_sante": "Centre de santé"}
    return Practices(
        source_id=_source_ids(n, rng),
        practice_id=[f"P{i + 1:04d}" for i in range(n)],
        name=[f"{label[k]} de {p['city']}" for k, p in zip(kinds, places)],
        region_code=[p["region_code"] for p in places],
        departement_code=[p["departement_code"] for p in places],
        city=[p["city"] for p in places],
        postcode=[p["postcode"] for p in places],
        phone_prefix=[p["phone_prefix"] for p in places],
        kind=kinds,
        vendor_format=formats,
        export_start=start.astype(np.int64),
        export_end=np.full(n, C.day(today), dtype=np.int64),
        n_gps=n_gps,
        n_patients=n_patients,
    )


def _names(rng: np.random.Generator, sex: np.ndarray, birth_year: np.ndarray):
    first = read_csv("first_names_fr.csv")
    last = read_csv("last_names_fr.csv")
    era = np.where(birth_year < 1960, 0, np.where(birth_year < 1990, 1, 2))
    pools: dict[tuple[int, int], list[str]] = {}
    for r in first:
        key = (0 if r["sex"] == "F" else 1, {"old": 0, "mid": 1, "young": 2}[r["era"]])
        pools.setdefault(key, []).append(r["first_name"])
    flat: list[str] = []
    offset = np.zeros((2, 3), dtype=np.int64)
    count = np.zeros((2, 3), dtype=np.int64)
    for (s, e), names in sorted(pools.items()):
        offset[s, e], count[s, e] = len(flat), len(names)
        flat.extend(names)
    n = len(sex)
    idx = offset[sex, era] + (rng.random(n) * count[sex, era]).astype(np.int64)
    first_names = C.take(flat, idx)
    last_pool = [r["last_name"] for r in last]
    last_w = np.array([float(r["weight"]) for r in last])
    last_names = C.take(last_pool, C.choice_index(rng, last_w, n))
    return first_names, last_names, flat, offset, count, last_pool, last_w


def build_practitioners(practices: Practices, rng: np.random.Generator,
                        today: date) -> Practitioners:
    gp_practice = np.repeat(np.arange(len(practices)), practices.n_gps)
    n_gp = len(gp_practice)
    gp_sex = (rng.random(n_gp) < 0.5).astype(np.int64)
    gp_birth = rng.integers(1950, 1991, n_gp)
    # Interns: one per filled semester of each supervising GP.
    supervisor = np.flatnonzero(rng.random(n_gp) < SUPERVISOR_SHARE)
    if len(supervisor) == 0 and n_gp:
        supervisor = np.array([0])
    semesters = []
    y = INTERNS_FROM_YEAR
    while True:
        for m in (5, 11):
            d = date(y, m, 1)
            if d <= today:
                semesters.append(C.day(d))
        y += 1
        if date(y, 5, 1) > today:
            break
    sem = np.array(semesters, dtype=np.int64)
    pairs_sup = np.repeat(supervisor, len(sem))
    pairs_sem = np.tile(sem, len(supervisor))
    keep = rng.random(len(pairs_sup)) < INTERN_SEMESTER_FILL
    pairs_sup, pairs_sem = pairs_sup[keep], pairs_sem[keep]
    n_int = len(pairs_sup)
    int_birth = C.year_of(pairs_sem) - rng.integers(25, 31, n_int)
    int_sex = (rng.random(n_int) < 0.4).astype(np.int64)  # about 60 % of GP interns are women
    n = n_gp + n_int
    sex = np.concatenate([gp_sex, int_sex])
    birth_year = np.concatenate([gp_birth, int_birth])
    first, last, *_ = _names(rng, sex, birth_year)
    practice = np.concatenate([gp_practice, gp_practice[pairs_sup]])
    is_intern = np.concatenate([np.zeros(n_gp, bool), np.ones(n_int, bool)])
    # Local ids: GPs "MG<n>", interns "INT<n>", numbered within their practice.
    order_in_practice = np.zeros(n, dtype=np.int64)
    for kind in (False, True):
        sel = np.flatnonzero(is_intern == kind)
        p = practice[sel]
        o = np.argsort(p, kind="stable")
        ranks = np.empty(len(sel), dtype=np.int64)
        starts = np.searchsorted(p[o], p[o], side="left")
        ranks[o] = np.arange(len(sel)) - starts + 1
        order_in_practice[sel] = ranks
    local = C.where(is_intern, C.join("INT", pc.cast(pa.array(order_in_practice), pa.string())),
                    C.join("MG", pc.cast(pa.array(order_in_practice), pa.string())))
    # Some GPs code their problems in ICPC-2 themselves; interns code their logbook.
    coder = rng.random(n) < 0.3
    codes = np.where(is_intern, 0.5, np.where(coder, 0.7, 0.03))
    rpps = C.join("10", pc.utf8_lpad(C.fmt_number(rng.integers(0, 10**9, n), 0), width=9,
                                     padding="0"))
    supervisor = np.concatenate([np.full(n_gp, -1), pairs_sup])
    # Group rows by practice (GPs first) so each practice's export is a contiguous slice.
    order = np.lexsort((is_intern, practice))
    new_index = np.empty(n, dtype=np.int64)
    new_index[order] = np.arange(n)
    supervisor = np.where(supervisor >= 0, new_index[np.clip(supervisor, 0, None)], -1)[order]
    o = pa.array(order)
    return Practitioners(
        practice=practice[order], local_id=local.take(o), sex=sex[order],
        birth_year=birth_year[order], is_intern=is_intern[order], supervisor=supervisor,
        semester_start=np.concatenate([np.full(n_gp, -1), pairs_sem])[order],
        codes_problems=codes[order], last_name=last.take(o), first_name=first.take(o),
        rpps=rpps.take(o),
    )


def _nir(rng, sex, birth, dep_res: list[str]) -> pa.Array:
    """NIR: sex, yy, mm, département of birth, commune, order, then the key 97 − (n mod 97)."""
    n = len(sex)
    yy = C.year_of(birth) % 100
    mm = C.month_of(birth)
    deps = np.array(sorted({d for d in dep_res} | {"13", "75", "69", "59", "33", "2A"}))
    u = rng.random(n)
    dep = np.where(u < NIR_SAME_DEP_SHARE, np.asarray(dep_res, dtype=object),
                   deps[rng.integers(len(deps), size=n)].astype(object))
    abroad = u > 1 - NIR_ABROAD_SHARE
    dep = np.where(abroad, "99", dep)
    # Corsica: 2A/2B count as 19/18 in the key (INSEE rule).
    dep_num = _dep_num_fast(dep)
    commune = rng.integers(1, 990, n)
    order = rng.integers(1, 1000, n)
    sexd = np.where(sex == 1, 1, 2)
    num = (sexd * 10**12 + yy * 10**10 + mm * 10**8 + dep_num * 10**6 + commune * 10**3 + order)
    key = 97 - num % 97
    dep_s = pa.array(dep.astype(str))
    body = C.join(C.fmt_number(sexd, 0), pc.utf8_lpad(C.fmt_number(yy, 0), width=2, padding="0"),
                  pc.utf8_lpad(C.fmt_number(mm, 0), width=2, padding="0"), dep_s,
                  pc.utf8_lpad(C.fmt_number(commune, 0), width=3, padding="0"),
                  pc.utf8_lpad(C.fmt_number(order, 0), width=3, padding="0"),
                  pc.utf8_lpad(C.fmt_number(key, 0), width=2, padding="0"))
    return body


def _dep_num_fast(dep: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(dep.astype(str), return_inverse=True)
    vals = np.array([{"2A": 19, "2B": 18}.get(d) or int(d) for d in uniq], dtype=np.int64)
    return vals[inv]


def load_conditions() -> list[dict[str, str]]:
    return read_csv("conditions.csv")


AGE_BANDS_CONDITIONS = (0, 15, 45, 65, 75)  # columns p_0_14, p_15_44, p_45_64, p_65_74, p_75p
#: Asthma and obesity may start in childhood; the other chronic conditions from 18 years.
CHILD_ONSET_CONDITIONS = ("asthma", "obesity")
MAX_CONDITION_YEARS = 25
#: Anticoagulated AF patients on a vitamin K antagonist: all before direct oral anticoagulants
#: (DOAC, reimbursed in France for AF from 2013), about half of new starts afterwards (ANSM 2014).
DOAC_YEAR = 2013
VKA_SHARE_AFTER_DOAC = 0.5


def build_patients(practices: Practices, practitioners: Practitioners, rng: np.random.Generator,
                   today: date) -> Patients:
    t = C.day(today)
    n = int(practices.n_patients.sum())
    practice = np.repeat(np.arange(len(practices)), practices.n_patients)
    pyr = pyramid()
    probs = pyr.cell_probabilities()
    cell = C.choice_index(rng, probs.ravel(), n)
    band, sex = cell // 2, cell % 2
    age = pyr.age_min[band] + rng.random(n) * (pyr.age_max[band] + 1 - pyr.age_min[band])
    birth = np.round(t - age * 365.25).astype(np.int64)
    # Deceased patients: older, died during the export period.
    dead = rng.random(n) < DECEASED_SHARE
    start = practices.export_start[practice]
    death = np.full(n, -1, dtype=np.int64)
    nd = int(dead.sum())
    death_age = rng.uniform(60, 100, nd)
    death[dead] = np.round(start[dead] + rng.random(nd) * (t - start[dead])).astype(np.int64)
    birth[dead] = np.round(death[dead] - death_age * 365.25).astype(np.int64)
    # Registration: already followed at EHR start, newborns, or arrivals over the years.
    pre = rng.random(n) < PRE_EXISTING_SHARE
    arrival = np.where(
        pre, start + rng.exponential(PRE_EXISTING_REGISTRATION_MEAN_DAYS, n).astype(np.int64),
        start + (rng.random(n) * (t - start)).astype(np.int64),
    )
    newborn_reg = birth + rng.integers(7, 90, n)
    registered = np.where(birth > start, np.maximum(arrival, newborn_reg), arrival)
    registered = np.minimum(registered, t - 1)
    end = np.full(n, t, dtype=np.int64)
    end = np.where(dead, death, end)
    moved = rng.random(n) < MOVED_AWAY_SHARE
    end = np.where(moved, registered + ((end - registered) * rng.random(n)).astype(np.int64), end)
    registered = np.where(dead, np.minimum(registered, death - 1), registered)
    end = np.maximum(end, registered + 1)

    # Declared GP and ids.
    gps_of = [np.flatnonzero((practitioners.practice == p) & ~practitioners.is_intern)
              for p in range(len(practices))]
    gp_first = np.array([g[0] for g in gps_of])
    gp_count = np.array([len(g) for g in gps_of])
    gp = gp_first[practice] + (rng.random(n) * gp_count[practice]).astype(np.int64)
    gp = np.where(rng.random(n) < DECLARED_GP_SHARE, gp, -1)
    pstart = np.concatenate([[0], np.cumsum(practices.n_patients)[:-1]])
    local_num = np.arange(n) - pstart[practice] + 1
    local_id = C.fmt_number(local_num, 0)

    by = C.year_of(birth)
    first, last, fpool, foff, fcnt, lpool, lw = _names(rng, sex, by)
    adult_w = (sex == 0) & (t - birth > 25 * 365)
    has_bn = adult_w & (rng.random(n) < BIRTH_NAME_SHARE_ADULT_WOMEN)
    bn = C.take(lpool, C.choice_index(rng, lw, n))
    birth_name = C.where(has_bn, last, pa.nulls(n, pa.string()))
    last = C.where(has_bn, bn, last)  # usage name = spouse's name, birth name kept apart

    dep_list = [practices.departement_code[p] for p in range(len(practices))]
    dep_res = pa.array(dep_list).take(pa.array(practice))
    nir = _nir(rng, sex, birth, dep_res.to_numpy(zero_copy_only=False).tolist())

    streets = [r["street"] for r in read_csv("streets_fr.csv")]
    address = C.join(C.fmt_number(rng.integers(1, 120, n), 0), " ",
                     C.take(streets, rng.integers(len(streets), size=n)))
    postcode = pa.array(practices.postcode).take(pa.array(practice))
    city = pa.array(practices.city).take(pa.array(practice))

    digits = [pc.utf8_lpad(C.fmt_number(rng.integers(0, 100, n), 0), width=2, padding="0")
              for _ in range(4)]
    mobile = rng.random(n) < MOBILE_SHARE
    prefix = C.where(mobile, C.take(["06", "07"], rng.integers(2, size=n)),
                     pa.array(practices.phone_prefix).take(pa.array(practice)))
    spaced = rng.random(n) < 0.7
    phone = C.where(spaced, C.join(prefix, *digits, sep=" "), C.join(prefix, *digits, sep=""))
    phone = C.where(rng.random(n) < PHONE_SHARE, phone, pa.nulls(n, pa.string()))

    age_now = (t - birth) / 365.25
    has_mail = (age_now >= 18) & (age_now < 80) & (rng.random(n) < EMAIL_SHARE_ADULTS)
    user = pc.utf8_lower(C.strip_accents(C.join(first, ".", last)))
    user = pc.replace_substring_regex(user, pattern="[^a-z.]", replacement="")
    suffix = C.where(rng.random(n) < 0.4, C.fmt_number(rng.integers(1, 99, n), 0),
                     pa.array([""] * n))
    domain = C.take(list(EMAIL_DOMAINS), rng.integers(len(EMAIL_DOMAINS), size=n))
    email = C.join(user, suffix, "@", domain)
    email = C.where(has_mail, email, pa.nulls(n, pa.string()))

    # Relatives: spouse, a child, a parent (each present or not); used by the scrubber.
    rel_parts = []
    rel_any = None
    for k, p_present in enumerate((0.45, 0.35, 0.25)):
        rsex = (rng.random(n) < 0.5).astype(np.int64)
        ry = np.where(k == 1, by + 28, np.where(k == 2, by - 28, by))
        ry = np.clip(ry, 1920, 2024)
        era = np.where(ry < 1960, 0, np.where(ry < 1990, 1, 2))
        idx = foff[rsex, era] + (rng.random(n) * fcnt[rsex, era]).astype(np.int64)
        rlast = last if k < 2 else C.take(lpool, C.choice_index(rng, lw, n))
        name = C.join(C.take(fpool, idx), " ", rlast)
        present = rng.random(n) < p_present
        if k == 1:
            present &= age_now > 25
        rel_parts.append(C.where(present, name, pa.nulls(n, pa.string())))
        rel_any = name if rel_any is None else C.where(present, name, rel_any)
    relatives = pc.binary_join_element_wise(*rel_parts, ";", null_handling="replace",
                                            null_replacement="")
    relatives = pc.replace_substring_regex(relatives, pattern=";{2,}", replacement=";")
    relatives = pc.utf8_trim(relatives, characters=";")
    relatives = C.where(pc.equal(relatives, "").to_numpy(zero_copy_only=False),
                        pa.nulls(n, pa.string()), relatives)

    conditions, onset, vka = _conditions(rng, sex, birth, registered, end, t)

    # Growth: a child keeps roughly the same centile (tracking), with some drift (weight_z).
    height_z = rng.normal(0, 0.9, n)
    weight_z = 0.5 * height_z + rng.normal(CHILD_WEIGHT_Z_MEAN, 0.85, n)
    adult_height = np.where(sex == 1, 176.0, 163.0) + height_z * np.where(sex == 1, 7.0, 6.5)
    adult_bmi = np.exp(rng.normal(np.log(np.where(sex == 1, 25.5, 24.5)), 0.16, n))
    ob = conditions.index("obesity")
    is_obese = onset[:, ob] != NO_ONSET
    adult_bmi = np.where(is_obese, np.maximum(adult_bmi, 30.5 + rng.exponential(3.0, n)),
                         np.minimum(adult_bmi, 29.9))
    # Children: the symmetric centile alone gives too few heavy children. A heavier subgroup
    # (sedentary, familial obesity) brings IOTF-25 excess weight among 6–15 year-olds to about
    # 16 % with 3–4 % obesity (ESTEBAN 2015, Santé publique France 2017: 17 % / 3.9 %; DREES
    # enquêtes de santé scolaire 2017: 18 % / 4 %); weight z stays within about ±3.
    heavy = rng.random(n) < CHILD_HEAVY_SHARE
    child_excess_z = heavy * np.abs(rng.normal(*CHILD_HEAVY_EXTRA_Z, n))

    return Patients(
        practice=practice, local_id=local_id, gp=gp, sex=sex, birth=birth, death=death,
        registered=registered, end=end, opposition=rng.random(n) < OPPOSITION_SHARE,
        last_name=last, first_name=first, birth_name=birth_name, nir=nir, address=address,
        postcode=postcode, city=city, departement=dep_res, phone=phone, email=email,
        relatives=relatives, relative_first=rel_any, conditions=conditions, onset=onset, vka=vka,
        height_z=height_z, weight_z=weight_z, child_excess_z=child_excess_z,
        adult_height=adult_height, adult_bmi=adult_bmi,
    )


#: Mean weight z of the children outside the heavier subgroup (WHO median).
CHILD_WEIGHT_Z_MEAN = 0.0
#: Share of children in the heavier subgroup and the extra weight z they carry (mean, SD). The
#: excess builds up from 2 to 6 years (early adiposity rebound, Rolland-Cachera 1984): heavy
#: infants would give implausible weight-for-length readings that the quality step rightly
#: quarantines.
CHILD_HEAVY_SHARE = 0.085
CHILD_HEAVY_EXTRA_Z = (1.85, 0.4)


def _conditions(rng, sex, birth, registered, end, t):
    rows = load_conditions()
    n = len(sex)
    age_now = (np.minimum(end, t) - birth) / 365.25
    band = np.searchsorted(np.array(AGE_BANDS_CONDITIONS[1:]), age_now, side="right")
    names = [r["condition"] for r in rows]
    onset = np.full((n, len(rows)), NO_ONSET, dtype=np.int64)
    for j, r in enumerate(rows):
        p = np.array([float(r[c]) for c in ("p_0_14", "p_15_44", "p_45_64", "p_65_74", "p_75p")])
        rr = float(r["female_rr"])
        sex_factor = np.where(sex == 0, 2 * rr / (1 + rr), 2 / (1 + rr))
        has = rng.random(n) < p[band] * sex_factor
        min_age = 2.0 if r["condition"] in CHILD_ONSET_CONDITIONS else 18.0
        span = np.clip(np.minimum(age_now - min_age, MAX_CONDITION_YEARS), 0, None)
        years_since = rng.random(n) * span
        o = np.round(np.minimum(end, t) - years_since * 365.25).astype(np.int64)
        onset[has, j] = o[has]
    af = names.index("af")
    af_onset = onset[:, af]
    has_af = af_onset != NO_ONSET
    doac_era = C.year_of(np.where(has_af, af_onset, 0)) >= DOAC_YEAR
    vka = has_af & (~doac_era | (rng.random(n) < VKA_SHARE_AFTER_DOAC))
    return names, onset, vka
