"""`build_network`: the whole synthetic network as CDM staging tables plus its ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import table as cdm_table
from p4dp.cdm.tables import BIOMETRIC_KINDS, CLINICAL_TABLES
from p4dp.synth import _columns as C
from p4dp.synth import dirt
from p4dp.synth.biometrics import KIND, UNITS, build_biometrics
from p4dp.synth.encounters import KINDS as ENCOUNTER_KINDS
from p4dp.synth.encounters import build_encounters, rate_scale
from p4dp.synth.identity import IDENTITY_IN_ANTECEDENT_SHARE, IDENTITY_IN_PROBLEM_SHARE, inject
from p4dp.synth.labs import build_labs
from p4dp.synth.population import build_patients, build_practices, build_practitioners
from p4dp.synth.prescriptions import build_prescriptions
from p4dp.synth.presets import get_preset
from p4dp.synth.problems import FIELDS, build_problems
from p4dp.synth.records import build_antecedents, build_history
from p4dp.synth.text import build_pool
from p4dp.synth.vaccinations import build_vaccinations

GROUND_TRUTH_SCHEMAS = {
    "problem_codes": pa.schema([("source_id", pa.string()), ("problem_id", pa.string()),
                                ("field", pa.string()), ("text", pa.string()),
                                ("code", pa.string())]),
    "errors": pa.schema([("source_id", pa.string()), ("table", pa.string()),
                         ("row_key", pa.string()), ("column", pa.string()), ("kind", pa.string()),
                         ("raw_value", pa.string()), ("clean_value", pa.string())]),
    "identity_tokens": pa.schema([("source_id", pa.string()), ("patient_id", pa.string()),
                                  ("table", pa.string()), ("row_key", pa.string()),
                                  ("column", pa.string()), ("token", pa.string()),
                                  ("token_kind", pa.string())]),
}
PRACTICES_SCHEMA = pa.schema([
    ("source_id", pa.string()), ("practice_id", pa.string()), ("vendor_format", pa.string()),
    ("region_code", pa.string()), ("departement_code", pa.string()), ("export_start", pa.date32()),
    ("export_end", pa.date32()),
])


@dataclass
class Network:
    """The synthetic network: staging tables of all practices (``source_id`` on every row), the
    ground truth (problem_codes, errors, identity_tokens) and the practices' metadata."""

    preset: str
    seed: int
    today: date
    tables: dict[str, pa.Table]
    ground_truth: dict[str, pa.Table]
    practices: pa.Table


def _local_ids(practice: np.ndarray, prefix: str) -> pa.Array:
    """Ids numbered within each practice (rows are grouped by practice)."""
    first = np.searchsorted(practice, practice, side="left")
    return C.join(prefix, C.fmt_number(np.arange(len(practice)) - first + 1, 0))


def _make(name: str, cols: dict[str, object], n: int) -> pa.Table:
    schema = cdm_table(name).arrow_schema("staging")
    missing = [f.name for f in schema if f.name not in cols]
    extra = [c for c in cols if c not in schema.names]
    if missing or extra:
        raise ValueError(f"{name}: missing columns {missing}, unexpected {extra}")
    arrays = []
    for f in schema:
        v = cols[f.name]
        if v is None:
            v = pa.nulls(n, f.type)
        elif not isinstance(v, (pa.Array, pa.ChunkedArray)):
            arr = np.asarray(v)
            if arr.dtype.kind == "f":
                v = pa.array(arr, mask=np.isnan(arr)).cast(f.type)
            elif arr.dtype == object:
                v = pa.array(arr, type=f.type, from_pandas=True)
            else:
                v = pa.array(arr).cast(f.type)
        else:
            v = v.cast(f.type)
        arrays.append(v)
    return pa.Table.from_arrays(arrays, schema=schema)


def _opt(idx: np.ndarray, ids: pa.Array) -> pa.Array:
    """Ids of ``idx`` with nulls where ``idx`` is −1."""
    return ids.take(pa.array(np.where(idx >= 0, idx, 0), mask=idx < 0))


def _with_duplicates(t: pa.Table, rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    dup = dirt.duplicate_rows(t.num_rows, rng)
    order = np.sort(np.concatenate([np.arange(t.num_rows), dup]), kind="stable")
    return t.take(pa.array(order)), dup


@dataclass
class _Context:
    """Network-wide objects shared by every practice's build."""

    preset: str
    seed: int
    today: date
    practices: object
    prac: object
    pat: object
    scale: float
    pool: object
    patient_start: np.ndarray


def _rng(seed: int, stream: int, practice: int = -1) -> np.random.Generator:
    return np.random.default_rng([seed, stream] if practice < 0 else [seed, stream, practice])


def network_context(preset: str, seed: int, today: date | None = None) -> _Context:
    """Practices, practitioners and patients of the whole network, and the rate scale."""
    p = get_preset(preset)
    today = today or date.today()
    practices = build_practices(p, _rng(seed, 1), today)
    prac = build_practitioners(practices, _rng(seed, 2), today)
    pat = build_patients(practices, prac, _rng(seed, 3), today)
    scale = rate_scale(pat, p.encounters, C.day(today))
    starts = np.r_[0, np.cumsum(practices.n_patients)]
    return _Context(preset, seed, today, practices, prac, pat, scale, build_pool(seed), starts)


def iter_practices(ctx: _Context):
    """Yield ``(source_id, tables, ground_truth)`` practice by practice: memory stays bounded
    by the largest practice, whatever the network's size."""
    for i in range(len(ctx.practices)):
        yield (ctx.practices.source_id[i],) + build_practice(ctx, i)


def build_network(preset: str, seed: int, *, today: date | None = None) -> Network:
    """Build the synthetic network of ``preset`` (tiny, demo, primege, national), deterministic
    for ``seed`` and ``today`` (default: the current date)."""
    ctx = network_context(preset, seed, today)
    tables: dict[str, list[pa.Table]] = {}
    truth: dict[str, list[pa.Table]] = {}
    for _, t, g in iter_practices(ctx):
        for k, v in t.items():
            tables.setdefault(k, []).append(v)
        for k, v in g.items():
            truth.setdefault(k, []).append(v)
    return Network(ctx.preset, seed, ctx.today,
                   {k: pa.concat_tables(v) for k, v in tables.items()},
                   {k: pa.concat_tables(v) for k, v in truth.items()},
                   practices_table(ctx))


def practices_table(ctx: _Context) -> pa.Table:
    practices = ctx.practices
    return pa.table({
        "source_id": pa.array(practices.source_id, pa.string()),
        "practice_id": pa.array(practices.practice_id, pa.string()),
        "vendor_format": pa.array(practices.vendor_format),
        "region_code": pa.array(practices.region_code),
        "departement_code": pa.array(practices.departement_code),
        "export_start": C.to_date32(practices.export_start),
        "export_end": C.to_date32(practices.export_end),
    }, schema=PRACTICES_SCHEMA)


def build_practice(ctx: _Context, i: int) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """Staging tables and ground truth of practice ``i``."""
    seed, today = ctx.seed, ctx.today
    t = C.day(today)
    practices = ctx.practices
    prac = prac_all = ctx.prac
    pat = ctx.pat.slice(int(ctx.patient_start[i]), int(ctx.patient_start[i + 1]))
    pool = ctx.pool
    enc, py = build_encounters(pat, prac_all, ctx.scale, _rng(seed, 4, i), t)
    prob = build_problems(enc, pat, prac_all, pool, _rng(seed, 5, i))
    prac_sel = np.flatnonzero(prac_all.practice == i)

    src = pa.array(practices.source_id, pa.string())
    fmt_ok = np.array([f != "csv-fr" for f in practices.vendor_format])
    log = dirt.ErrorLog()

    # Identifiers written into free text (result field of problems, antecedent texts).
    prob_patient = enc.patient[prob.encounter]
    prob.text["result"], prob_tokens = inject(prob.text["result"], prob_patient, pat,
                                              IDENTITY_IN_PROBLEM_SHARE, _rng(seed, 6, i))

    # Biometrics, with the seed's four bad child readings and injected errors.
    bio = build_biometrics(enc, pat, _rng(seed, 7, i))
    seed_rows: list = []
    if i == 0:  # once per network, so that injected error rates stay as documented
        bio, seed_rows = _add_seed_readings(bio, enc, pat, _rng(seed, 8, i))
    bio["raw_value"] = np.full(len(bio["value"]), None, dtype=object)
    touched = np.zeros(len(bio["value"]), bool)
    bio_rows_seed = np.array([r for r, _, _ in seed_rows], dtype=np.int64)
    if len(seed_rows):
        touched[bio_rows_seed] = True
        touched[np.isin(bio["encounter"], bio["encounter"][bio_rows_seed])] = True
        for row, kind, clean in seed_rows:
            log.add("biometric", np.array([row]), "value", kind, np.array([bio["value"][row]]),
                    None if clean is None else np.array([clean]))
    bio_age = (bio["date"] - pat.birth[bio["patient"]]) / 365.25
    dirt.dirty_biometrics(bio, bio_age, pat.birth[bio["patient"]],
                          fmt_ok[pat.practice[bio["patient"]]], t, _rng(seed, 9, i), log, touched)

    lab = build_labs(pat, py, _rng(seed, 10, i))
    lab["raw_value"] = np.full(len(lab["date"]), None, dtype=object)
    dirt.dirty_labs(lab, pat.birth[lab["patient"]], fmt_ok[pat.practice[lab["patient"]]], t,
                    _rng(seed, 11, i), log)
    vac = build_vaccinations(pat, _rng(seed, 12, i), today)
    dirt.dirty_vaccinations(vac, pat.birth[vac["patient"]], t, _rng(seed, 13, i), log)
    rx = build_prescriptions(enc, pat, prob, pool, _rng(seed, 14, i))
    ant = build_antecedents(pat, pool, _rng(seed, 15, i), today)
    ant["text"], ant_tokens = inject(ant["text"], ant["patient"], pat,
                                     IDENTITY_IN_ANTECEDENT_SHARE, _rng(seed, 16, i))
    hist = build_history(pat, _rng(seed, 17, i), today)

    # ---- staging tables
    pat_ids = pat.local_id
    prac_ids = prac.local_id
    practice_ids = pa.array(practices.practice_id, pa.string())
    tables: dict[str, pa.Table] = {}
    tables["practice"] = _make("practice", {
        "source_id": src[i:i + 1], "practice_id": practice_ids[i:i + 1],
        "name": pa.array(practices.name[i:i + 1]),
        "region_code": pa.array(practices.region_code[i:i + 1]),
        "departement_code": pa.array(practices.departement_code[i:i + 1]),
        "kind": pa.array(practices.kind[i:i + 1]),
        "vendor_format": pa.array(practices.vendor_format[i:i + 1]),
    }, 1)
    ps = pa.array(prac_sel)
    tables["practitioner"] = _make("practitioner", {
        "source_id": src.take(pa.array(prac.practice[prac_sel])),
        "practitioner_id": prac_ids.take(ps),
        "practice_id": practice_ids.take(pa.array(prac.practice[prac_sel])),
        "sex": C.take(["F", "M"], prac.sex[prac_sel]), "birth_year": prac.birth_year[prac_sel],
        "role": C.take(["gp", "intern"], prac.is_intern[prac_sel].astype(np.int64)),
        "supervisor_id": _opt(prac.supervisor[prac_sel], prac_ids),
        "participation": pa.array(["active"] * len(prac_sel)),
        "last_name": prac.last_name.take(ps), "first_name": prac.first_name.take(ps),
        "rpps": prac.rpps.take(ps),
    }, len(prac_sel))
    ppat = pa.array(pat.practice)
    dead = pat.death >= 0
    tables["patient"] = _make("patient", {
        "source_id": src.take(ppat), "patient_id": pat_ids, "practice_id": practice_ids.take(ppat),
        "gp_id": _opt(pat.gp, prac_ids), "sex": C.take(["F", "M"], pat.sex),
        "birth_year": C.year_of(pat.birth), "birth_month": C.month_of(pat.birth),
        "death_date": C.to_date32(np.where(dead, pat.death, 0), mask=~dead),
        "departement_code": pat.departement, "registered_on": C.to_date32(pat.registered),
        "opposition": pat.opposition, "last_name": pat.last_name, "first_name": pat.first_name,
        "birth_name": pat.birth_name, "birth_date": C.to_date32(pat.birth), "nir": pat.nir,
        "address": pat.address, "postcode": pat.postcode, "city": pat.city, "phone": pat.phone,
        "email": pat.email, "relatives": pat.relatives,
    }, len(pat))

    enc_ids = _local_ids(enc.practice, "C")
    tables["encounter"] = _make("encounter", {
        "source_id": src.take(pa.array(enc.practice)), "encounter_id": enc_ids,
        "patient_id": pat_ids.take(pa.array(enc.patient)),
        "practitioner_id": prac_ids.take(pa.array(enc.practitioner)),
        "supervisor_id": _opt(enc.supervisor, prac_ids), "date": C.to_date32(enc.date),
        "kind": C.take(list(ENCOUNTER_KINDS), enc.kind),
    }, len(enc))

    pe = pa.array(prob.encounter)
    prob_practice = enc.practice[prob.encounter]
    prob_ids = _local_ids(prob_practice, "PB")
    pcols = {
        "source_id": src.take(pa.array(prob_practice)), "problem_id": prob_ids,
        "encounter_id": enc_ids.take(pe), "patient_id": pat_ids.take(pa.array(prob_patient)),
        "practitioner_id": prac_ids.take(pa.array(enc.practitioner[prob.encounter])),
        "date": C.to_date32(enc.date[prob.encounter]), "rank": prob.rank,
    }
    n_prob = len(prob)
    for f in FIELDS:
        coded = prob.coded[f]
        pcols[f"{f}_text"] = prob.text[f]
        pcols[f"{f}_code"] = C.where(coded, prob.truth[f], pa.nulls(n_prob, pa.string()))
        pcols[f"{f}_code_origin"] = C.where(coded, pa.array(["source"] * n_prob),
                                            pa.array(["none"] * n_prob))
    tables["problem"] = _make("problem", pcols, n_prob)

    bp = pa.array(bio["patient"])
    bio_practice = pat.practice[bio["patient"]]
    bio_ids = _local_ids(bio_practice, "BM")
    kind_names = pa.array(list(BIOMETRIC_KINDS))
    tables["biometric"] = _make("biometric", {
        "source_id": src.take(pa.array(bio_practice)), "biometric_id": bio_ids,
        "patient_id": pat_ids.take(bp), "encounter_id": enc_ids.take(pa.array(bio["encounter"])),
        "date": C.to_date32(bio["date"]), "kind": kind_names.take(pa.array(bio["kind"])),
        "value": bio["value"],
        "unit": pa.array([UNITS[k] for k in BIOMETRIC_KINDS]).take(pa.array(bio["kind"])),
        "raw_value": bio["raw_value"],
    }, len(bio["value"]))

    lab_practice = pat.practice[lab["patient"]]
    lab_ids = _local_ids(lab_practice, "LB")
    tables["lab_result"] = _make("lab_result", {
        "source_id": src.take(pa.array(lab_practice)), "lab_result_id": lab_ids,
        "patient_id": pat_ids.take(pa.array(lab["patient"])), "date": C.to_date32(lab["date"]),
        "raw_label": lab["label"], "value": lab["value"], "unit": lab["unit"],
        "raw_value": lab["raw_value"], "raw_unit": lab["raw_unit"], "text_value": lab["text_value"],
    }, len(lab["date"]))

    ant_practice = pat.practice[ant["patient"]]
    ant_ids = _local_ids(ant_practice, "AT")
    has_code = np.array([c is not None for c in ant["code"]], dtype=bool)
    tables["antecedent"] = _make("antecedent", {
        "source_id": src.take(pa.array(ant_practice)), "antecedent_id": ant_ids,
        "patient_id": pat_ids.take(pa.array(ant["patient"])), "kind": ant["kind"],
        "date": C.to_date32(ant["date"]), "text": ant["text"], "code": ant["code"],
        "code_origin": np.where(has_code, "source", "none").astype(object),
    }, len(ant["date"]))

    hist_practice = pat.practice[hist["patient"]]
    tables["history"] = _make("history", {
        "source_id": src.take(pa.array(hist_practice)),
        "history_id": _local_ids(hist_practice, "HS"),
        "patient_id": pat_ids.take(pa.array(hist["patient"])), "date": C.to_date32(hist["date"]),
        "kind": hist["kind"], "label": hist["label"], "status": hist["status"],
    }, len(hist["date"]))

    vac_practice = pat.practice[vac["patient"]]
    vac_ids = _local_ids(vac_practice, "VC")
    tables["vaccination"] = _make("vaccination", {
        "source_id": src.take(pa.array(vac_practice)), "vaccination_id": vac_ids,
        "patient_id": pat_ids.take(pa.array(vac["patient"])), "date": C.to_date32(vac["date"]),
        "raw_label": vac["label"],
    }, len(vac["date"]))

    rx_practice = pat.practice[rx["patient"]]
    rx_ids = _local_ids(rx_practice, "RX")
    tables["prescription"] = _make("prescription", {
        "source_id": src.take(pa.array(rx_practice)), "prescription_id": rx_ids,
        "patient_id": pat_ids.take(pa.array(rx["patient"])),
        "encounter_id": enc_ids.take(pa.array(rx["encounter"])),
        "practitioner_id": prac_ids.take(pa.array(rx["practitioner"])),
        "date": C.to_date32(rx["date"]), "drug_label": rx["label"], "atc": rx["atc"],
        "cis_code": None, "dose": rx["dose"], "duration_days": rx["duration"],
        "chronic": rx["chronic"],
    }, len(rx["date"]))

    # ---- ground truth
    row_keys = {"biometric": (bio_ids, bio_practice), "lab_result": (lab_ids, lab_practice),
                "vaccination": (vac_ids, vac_practice)}
    err_parts = []
    for table_name, rows, column, kind, raw, clean in zip(log.table, log.row, log.column, log.kind,
                                                           log.raw, log.clean):
        if not len(rows):
            continue
        ids_, practice_of = row_keys[table_name]
        r = pa.array(rows)
        err_parts.append(pa.table({
            "source_id": src.take(pa.array(practice_of[rows])),
            "table": pa.array([table_name] * len(rows)),
            "row_key": ids_.take(r), "column": pa.array([column] * len(rows), pa.string()),
            "kind": pa.array([kind] * len(rows)), "raw_value": raw, "clean_value": clean,
        }, schema=GROUND_TRUTH_SCHEMAS["errors"]))
    dup_rng = _rng(seed, 18, i)
    key_col = {t_.name: t_.primary_key[0] for t_ in CLINICAL_TABLES}
    for name in dirt.DUPLICATE_TABLES:
        tables[name], dup = _with_duplicates(tables[name], dup_rng)
        if len(dup):
            orig = tables[name]
            # Row positions shift by the duplicates inserted before them; look ids up pre-shift.
            ids_col = orig.column(key_col[name]).combine_chunks()
            src_col = orig.column("source_id").combine_chunks()
            pos = dup + np.arange(len(dup))  # each earlier duplicate shifts the row by one
            err_parts.append(pa.table({
                "source_id": src_col.take(pa.array(pos)), "table": pa.array([name] * len(dup)),
                "row_key": ids_col.take(pa.array(pos)), "column": pa.nulls(len(dup), pa.string()),
                "kind": pa.array(["duplicate_row"] * len(dup)),
                "raw_value": pa.nulls(len(dup), pa.string()),
                "clean_value": pa.nulls(len(dup), pa.string()),
            }, schema=GROUND_TRUTH_SCHEMAS["errors"]))
    errors = (pa.concat_tables(err_parts) if err_parts
              else GROUND_TRUTH_SCHEMAS["errors"].empty_table())

    pc_parts = []
    for f in FIELDS:
        valid = pc.is_valid(prob.text[f])
        pc_parts.append(pa.table({
            "source_id": pcols["source_id"].filter(valid), "problem_id": prob_ids.filter(valid),
            "field": pa.array([f] * int(pc.sum(valid).as_py() or 0), pa.string()),
            "text": prob.text[f].filter(valid), "code": prob.truth[f].filter(valid),
        }, schema=GROUND_TRUTH_SCHEMAS["problem_codes"]))
    problem_codes = pa.concat_tables(pc_parts)

    tok_parts = []
    for table_name, tok, ids_, practice_of, patient_of, column in (
        ("problem", prob_tokens, prob_ids, prob_practice, prob_patient, "result_text"),
        ("antecedent", ant_tokens, ant_ids, ant_practice, ant["patient"], "text"),
    ):
        r = pa.array(tok["row"])
        k = len(tok["row"])
        tok_parts.append(pa.table({
            "source_id": src.take(pa.array(practice_of[tok["row"]])),
            "patient_id": pat_ids.take(pa.array(patient_of[tok["row"]])),
            "table": pa.array([table_name] * k, pa.string()), "row_key": ids_.take(r),
            "column": pa.array([column] * k, pa.string()), "token": tok["token"],
            "token_kind": pa.array(tok["kind"], pa.string()),
        }, schema=GROUND_TRUTH_SCHEMAS["identity_tokens"]))
    tokens = pa.concat_tables(tok_parts)

    return _drop_clean_after_death(
        tables, {"problem_codes": problem_codes, "errors": errors, "identity_tokens": tokens})


def _drop_clean_after_death(
    tables: dict[str, pa.Table], truth: dict[str, pa.Table]
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """Remove rows dated after their patient's death unless they are injected errors.

    Some generators (lab series, vaccination schedules, events near a death date) can date a row
    after the death; a real record has none, and the quality step rightly quarantines them, which
    would count as false alarms on clean rows. Ground-truth rows of removed rows go too.
    """
    pat = tables["patient"]
    dead = pat.filter(pc.is_valid(pat["death_date"]))
    if dead.num_rows == 0:
        return tables, truth
    errors = truth["errors"]
    errors = errors.filter(pc.invert(pc.is_in(
        errors["kind"], value_set=pa.array(dirt.NON_ERROR_KINDS, pa.string()))))
    for name, t in tables.items():
        if name == "patient" or "date" not in t.column_names or "patient_id" not in t.column_names:
            continue
        id_col = cdm_table(name).primary_key[0]
        death = pc.take(dead["death_date"],
                        pc.index_in(t["patient_id"], value_set=dead["patient_id"]))
        after = pc.fill_null(pc.greater(t["date"], death), False)
        injected = pc.is_in(t[id_col], value_set=errors.filter(
            pc.equal(errors["table"], name))["row_key"].combine_chunks())
        drop = pc.and_(after, pc.invert(injected))
        gone = t.filter(drop)[id_col].combine_chunks()
        if len(gone) == 0:
            continue
        tables[name] = t.filter(pc.invert(drop))
        for key, gt in truth.items():
            key_col = "problem_id" if key == "problem_codes" else "row_key"
            hit = pc.is_in(gt[key_col], value_set=gone)
            if key != "problem_codes":
                hit = pc.and_(hit, pc.equal(gt["table"], name))
            elif name != "problem":
                continue
            truth[key] = gt.filter(pc.invert(hit))
    return tables, truth


def _add_seed_readings(bio: dict, enc, pat,
                       rng) -> tuple[dict, list[tuple[int, str, float | None]]]:
    """Append the seed's four bad child readings at consultations of children of those ages that
    have no other reading, so the quality step meets them verbatim."""
    age = C.age_years(pat.birth[enc.patient], enc.date)
    free = np.ones(len(enc), bool)
    free[bio["encounter"]] = False
    add_enc, add_kind, add_val, tags = [], [], [], []
    for k, (a, w, h, bmi, bad, kind, clean) in enumerate(dirt.SEED_CHILD_READINGS):
        cand = np.flatnonzero(free & (age == a))
        if not len(cand):
            continue
        e = int(cand[rng.integers(len(cand))])
        free[e] = False
        for kname, v in (("weight", w), ("height", h), ("bmi", bmi)):
            add_enc.append(e)
            add_kind.append(KIND[kname])
            add_val.append(v)
            tags.append((k, kname == bad, kind, clean))
    if not add_enc:
        return bio, []
    e = np.array(add_enc)
    n0 = len(bio["value"])
    merged = {
        "encounter": np.concatenate([bio["encounter"], e]),
        "patient": np.concatenate([bio["patient"], enc.patient[e]]),
        "date": np.concatenate([bio["date"], enc.date[e]]),
        "kind": np.concatenate([bio["kind"], np.array(add_kind)]),
        "value": np.concatenate([bio["value"], np.array(add_val, dtype=np.float64)]),
    }
    order = np.lexsort((merged["kind"], merged["encounter"]))
    merged = {k: v[order] for k, v in merged.items()}
    new_pos = np.empty(len(order), dtype=np.int64)
    new_pos[order] = np.arange(len(order))
    seed_rows = [(int(new_pos[n0 + i]), kind, clean)
                 for i, (_, is_bad, kind, clean) in enumerate(tags) if is_bad]
    return merged, seed_rows
