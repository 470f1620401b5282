"""Biometric readings: named repair rules and age- and sex-aware plausibility.

Order matters and is fixed by `registry.steps_for("biometric")`: text repairs, then repairs that
need plausibility (swap, units), then the plausibility checks, then BMI recomputed from the
same-day weight and height that survived, then the BMI check.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.quality.constants import (
    ADULT_AGE_MONTHS,
    ADULT_RANGES,
    ANY_AGE_RANGES,
    BMI_AGREEMENT_TOLERANCE,
    CHILD_WEIGHT_AFTER_10Y,
    HEIGHT_IN_METRES,
    SWAP_TYPICAL_ADULT_HEIGHT,
    SWAP_TYPICAL_HEIGHT_Z,
    THRESHOLD_PLAUSIBILITY,
    VITAL_RANGES,
    WEIGHT_IN_GRAMS_MIN,
    WHO_BIV_Z,
    WHO_WEIGHT_FOR_AGE_MAX_MONTHS,
)
from p4dp.quality.frame import age_months, col, days, floats, mask, strings
from p4dp.quality.growth import zscore
from p4dp.quality.model import Category, Check, Context, Level, Repair

_WHO = ("WHO Child Growth Standards 2006 (0–5 y) and WHO Reference 2007 (5–19 y), LMS tables in "
        "p4dp/reference/who_growth_lms.csv; cleaning cut-offs of WHO Anthro/AnthroPlus "
        "(DOMAIN.md §5)")
DECIMAL_COMMA = r"^\s*[-+]?\d+,\d+\s*$"
METRES_TEXT = r"^\s*(?P<m>[12])\s*[mM]\s*(?P<cm>\d{2})\s*$"  # "1m48", "1 m 05"; "1m5" is ambiguous


# --- per-row facts --------------------------------------------------------------------------------

class Frame:
    """Numpy view of a biometric table with each row's age and sex.

    Built once per table state and cached on the context: the biometric steps share it, and a
    repair that only changes values derives the next frame instead of recomputing ages.
    """

    def __init__(self, ctx: Context, t: pa.Table):
        self.kind = strings(col(t, "kind"))
        self.value = floats(col(t, "value"))
        self.day = days(col(t, "date"))
        code, pidx = ctx.patient_codes(t)
        self.sex = ctx.patients.take(ctx.patients.sex, pidx, missing=None)
        self.age = age_months(self.day, ctx.patients.take(ctx.patients.birth_mid, pidx))
        kind_codes = pc.dictionary_encode(col(t, "kind")).indices
        self.kind_code = np.asarray(pc.fill_null(kind_codes, -1).to_numpy(zero_copy_only=False),
                                    dtype=np.int64)
        day = np.nan_to_num(self.day, nan=-(2 ** 19)).astype(np.int64)
        # One integer per (patient, day): same-day readings share it.
        self.key = (code << 21) | (day + 2 ** 20)

    @classmethod
    def of(cls, ctx: Context, t: pa.Table) -> "Frame":
        cache = ctx.cache.setdefault("biometric_frame", {})
        hit = cache.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        frame = cls(ctx, t)
        cache.clear()  # only the current state of the table is ever asked for again
        cache[id(t)] = (t, frame)
        return frame

    def derive(self, ctx: Context, t: pa.Table, value: np.ndarray) -> None:
        """Register the frame of `t`, a copy of this frame's table with new values."""
        frame = object.__new__(Frame)
        frame.__dict__.update(self.__dict__)
        frame.value = value
        cache = ctx.cache.setdefault("biometric_frame", {})
        cache.clear()
        cache[id(t)] = (t, frame)


def plausible(kind: str, value: np.ndarray, age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """True where `value` is a plausible `kind` (weight, height or bmi) for the age and sex.

    NaN values count as plausible: they are the parseability check's business.
    """
    value = np.asarray(value, dtype=np.float64)
    ok = np.ones(len(value), dtype=bool)
    finite = np.isfinite(value)
    known_sex = (sex == "M") | (sex == "F")
    child = np.isfinite(age) & (age >= 0) & (age < ADULT_AGE_MONTHS) & known_sex
    adult = np.isfinite(age) & (age >= ADULT_AGE_MONTHS)
    unknown = ~child & ~adult

    def within(r, sel):
        return ~sel | ((value >= r.low) & (value <= r.high))

    ok &= within(ADULT_RANGES[kind], adult & finite)
    ok &= within(ANY_AGE_RANGES[kind], unknown & finite)
    if kind == "weight":
        young = child & (age <= WHO_WEIGHT_FOR_AGE_MAX_MONTHS)
        ok &= within(CHILD_WEIGHT_AFTER_10Y, child & ~young & finite)
        indicator, sel = "weight_for_age", young & finite
    else:
        indicator = "height_for_age" if kind == "height" else "bmi_for_age"
        sel = child & finite
    if sel.any():
        lo, hi = WHO_BIV_Z[indicator]
        z = zscore(indicator, value[sel], sex[sel], age[sel])
        # NaN (no reference for that age) stays plausible; non-positive values give −inf.
        ok[np.nonzero(sel)[0]] &= ~((z < lo) | (z > hi))
    return ok


def implausible_rows(kind: str, f: Frame, value: np.ndarray | None = None,
                     rows: np.ndarray | None = None) -> np.ndarray:
    """Rows of `kind` (within `rows`) whose value (or `value`) is not plausible."""
    v = f.value if value is None else value
    sel = f.kind == kind
    if rows is not None:
        sel &= rows
    out = np.zeros(len(v), dtype=bool)
    i = np.nonzero(sel)[0]
    if len(i):
        out[i] = ~plausible(kind, v[i], f.age[i], f.sex[i])
    return out


def _unique_rows(key: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys that occur exactly once among the selected rows, sorted, with their row index."""
    rows = np.nonzero(sel)[0]
    if len(rows) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    k = key[rows]
    order = np.argsort(k, kind="stable")
    uniq, first, counts = np.unique(k[order], return_index=True, return_counts=True)
    single = counts == 1
    return uniq[single], rows[order][first[single]]


def _match(query: np.ndarray, uniq: np.ndarray, rows: np.ndarray) -> np.ndarray:
    if len(uniq) == 0:
        return np.full(len(query), -1, dtype=np.int64)
    pos = np.clip(np.searchsorted(uniq, query), 0, len(uniq) - 1)
    return np.where(uniq[pos] == query, rows[pos], -1)


def same_day(f: Frame, of_kind: str, partner: str) -> np.ndarray:
    """For every row: index of the single same-day `partner` reading of the patient when the row is
    of kind `of_kind` (−1 otherwise, or when there are several partners that day)."""
    uniq, rows = _unique_rows(f.key, (f.kind == partner) & np.isfinite(f.value))
    out = np.full(len(f.key), -1, dtype=np.int64)
    mine = np.nonzero(f.kind == of_kind)[0]
    out[mine] = _match(f.key[mine], uniq, rows)
    return out


def bmi(weight: np.ndarray, height_cm: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return weight / (height_cm / 100.0) ** 2


# --- writing repairs ------------------------------------------------------------------------------

def set_values(t: pa.Table, rows: np.ndarray, new_values: np.ndarray, rule: str) -> pa.Table:
    """Set `value` on `rows`, keep the original in `raw_value` (unless the export's text is already
    there) and append `rule` to `repair_rule`. Only the changed rows are converted."""
    if not rows.any():
        return t
    idx = np.nonzero(rows)[0]
    sel = pa.array(rows)
    value = col(t, "value")
    new = pc.replace_with_mask(value, sel, pa.array(new_values[idx], pa.float64()))
    raw = col(t, "raw_value")
    keep_raw = np.asarray(pc.is_null(raw).to_numpy(zero_copy_only=False), dtype=bool) & rows
    raw_new = raw
    if keep_raw.any():
        original = pc.cast(value.take(pa.array(np.nonzero(keep_raw)[0])), pa.string())
        raw_new = pc.replace_with_mask(raw, pa.array(keep_raw), original)
    rule_col = col(t, "repair_rule")
    old_rules = rule_col.take(pa.array(idx))
    appended = pc.if_else(pc.is_null(old_rules), pa.scalar(rule),
                          pc.binary_join_element_wise(old_rules, pa.scalar(rule), ";"))
    rule_new = pc.replace_with_mask(rule_col, sel, appended)
    for name, arr in (("value", new), ("raw_value", raw_new), ("repair_rule", rule_new)):
        t = t.set_column(t.schema.get_field_index(name), t.schema.field(name), arr)
    return t


def _repaired(ctx: Context, f: Frame | None, t: pa.Table, rows: np.ndarray, new: np.ndarray,
              rule: str) -> tuple[pa.Table, np.ndarray]:
    out = set_values(t, rows, new, rule)
    if f is not None and out is not t:
        f.derive(ctx, out, np.where(rows, new, f.value))
    return out, rows


def decimal_comma(table_name: str) -> Repair:
    def apply(ctx: Context, t: pa.Table):
        raw = col(t, "raw_value")
        rows = mask(pc.and_(pc.is_null(col(t, "value")),
                            pc.match_substring_regex(raw, DECIMAL_COMMA)))
        parsed = pc.cast(pc.if_else(pa.array(rows), pc.replace_substring(
            pc.utf8_trim_whitespace(raw), ",", "."), pa.scalar(None, pa.string())), pa.float64())
        return set_values(t, rows, floats(parsed), "decimal_comma"), rows

    return Repair(
        "decimal_comma", table_name,
        "Virgule décimale française lue comme séparateur (« 45,30 » → 45,3)",
        "French decimal comma read as decimal separator (\"45,30\" → 45.3)",
        "DOMAIN.md §5 (decimal commas); docs/dev/CONTRACTS.md (raw_value)", apply,
    )


def typical_height(value: np.ndarray, age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Stricter than `plausible`: heights a swap may produce (see SWAP_TYPICAL_*)."""
    known_sex = (sex == "M") | (sex == "F")
    child = np.isfinite(age) & (age >= 0) & (age < ADULT_AGE_MONTHS) & known_sex
    lo, hi = SWAP_TYPICAL_ADULT_HEIGHT
    ok = ~child & (value >= lo) & (value <= hi)
    if child.any():
        z = zscore("height_for_age", value[child], sex[child], age[child])
        ok[child] = np.abs(z) <= SWAP_TYPICAL_HEIGHT_Z
    return ok


def _swap_apply(ctx: Context, t: pa.Table):
    f = Frame.of(ctx, t)
    h = same_day(f, "weight", "height")
    w_rows = np.nonzero(h >= 0)[0]
    h_rows = h[w_rows]
    w, hv = f.value[w_rows], f.value[h_rows]
    age, sex = f.age[w_rows], f.sex[w_rows]
    as_is = (plausible("weight", w, age, sex) & plausible("height", hv, age, sex)
             & plausible("bmi", bmi(w, hv), age, sex))
    cand = np.nonzero(~as_is & np.isfinite(w) & np.isfinite(hv))[0]
    w, hv, age, sex = w[cand], hv[cand], age[cand], sex[cand]
    do = (plausible("weight", hv, age, sex) & plausible("height", w, age, sex)
          & plausible("bmi", bmi(hv, w), age, sex) & typical_height(w, age, sex))
    wr, hr = w_rows[cand[do]], h_rows[cand[do]]
    rows = np.zeros(t.num_rows, dtype=bool)
    new = f.value.copy()
    new[wr], new[hr] = f.value[hr], f.value[wr]
    rows[wr] = rows[hr] = True
    return _repaired(ctx, f, t, rows, new, "swapped_weight_height")


SWAPPED_WEIGHT_HEIGHT = Repair(
    "swapped_weight_height", "biometric",
    "Poids et taille du même jour inversés (l'échange rend plausibles les deux valeurs et l'IMC)",
    "Same-day weight and height swapped (swapping makes both values and the BMI plausible)",
    "DOMAIN.md §5 (swapped fields); " + _WHO, _swap_apply,
)


def _metres_apply(ctx: Context, t: pa.Table):
    f = Frame.of(ctx, t)
    lo, hi = HEIGHT_IN_METRES
    scaled = f.value * 100.0
    cand = (f.kind == "height") & (f.value >= lo) & (f.value <= hi)
    rows = implausible_rows("height", f, rows=cand) & ~implausible_rows("height", f, scaled, cand)
    # "1m48" left unparsed by the reader.
    raw = col(t, "raw_value")
    text = mask(pc.and_(pc.is_null(col(t, "value")), pc.match_substring_regex(raw, METRES_TEXT)))
    text &= f.kind == "height"
    if text.any():
        parts = pc.extract_regex(raw, METRES_TEXT)
        metres = floats(pc.cast(pc.struct_field(parts, "m"), pa.float64()))
        cm = floats(pc.cast(pc.struct_field(parts, "cm"), pa.float64()))
        from_text = metres * 100.0 + cm
        text &= ~implausible_rows("height", f, from_text, text)
        scaled = np.where(text, from_text, scaled)
        rows |= text
    return _repaired(ctx, f, t, rows, scaled, "height_in_metres")


HEIGHT_IN_METRES_RULE = Repair(
    "height_in_metres", "biometric",
    "Taille saisie en mètres (1,48 → 148 cm) quand seule la conversion la rend plausible",
    "Height entered in metres (1.48 → 148 cm) when only the conversion makes it plausible",
    "DOMAIN.md §5 (heights in metres); " + _WHO, _metres_apply,
)


def _grams_apply(ctx: Context, t: pa.Table):
    f = Frame.of(ctx, t)
    scaled = f.value / 1000.0
    cand = (f.kind == "weight") & (f.value >= WEIGHT_IN_GRAMS_MIN)
    rows = implausible_rows("weight", f, rows=cand) & ~implausible_rows("weight", f, scaled, cand)
    return _repaired(ctx, f, t, rows, scaled, "weight_in_grams")


WEIGHT_IN_GRAMS_RULE = Repair(
    "weight_in_grams", "biometric",
    "Poids saisi en grammes (35800 → 35,8 kg) quand seule la conversion le rend plausible",
    "Weight entered in grams (35800 → 35.8 kg) when only the conversion makes it plausible",
    "DOMAIN.md §5 (weights in grams); " + _WHO, _grams_apply,
)


def _bmi_apply(ctx: Context, t: pa.Table):
    f = Frame.of(ctx, t)
    w = same_day(f, "bmi", "weight")
    h = same_day(f, "bmi", "height")
    pair = (w >= 0) & (h >= 0)
    computed = np.full(t.num_rows, np.nan)
    computed[pair] = bmi(f.value[w[pair]], f.value[h[pair]])
    disagree = pair & (np.isnan(f.value) | (np.abs(f.value - computed) > BMI_AGREEMENT_TOLERANCE))
    new = np.where(disagree, np.round(computed, 2), f.value)
    return _repaired(ctx, f, t, disagree, new, "bmi_recomputed")


BMI_RECOMPUTED = Repair(
    "bmi_recomputed", "biometric",
    "IMC recalculé (poids / taille²) à partir du poids et de la taille du même jour",
    "BMI recomputed (weight / height²) from the same-day weight and height",
    "DOMAIN.md §3 (never trust a recorded BMI)", _bmi_apply,
)


# --- checks ---------------------------------------------------------------------------------------

def _body_check(kind: str, fr: str, en: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        return implausible_rows(kind, Frame.of(ctx, t))

    return Check(
        f"plausibility.{kind}.biometric", "biometric", "value", Category.PLAUSIBILITY,
        Level.VALUE, THRESHOLD_PLAUSIBILITY, fr, en,
        _WHO + f"; adults: {ADULT_RANGES[kind].label()} ({ADULT_RANGES[kind].source})", evaluate,
    )


HEIGHT_CHECK = _body_check(
    "height", "Taille impossible pour l'âge et le sexe (enfant : z taille/âge OMS < −6 ou > +6)",
    "Height impossible for age and sex (child: WHO height-for-age z < −6 or > +6)")
WEIGHT_CHECK = _body_check(
    "weight", "Poids impossible pour l'âge et le sexe (enfant ≤ 10 ans : z poids/âge OMS < −6 ou "
    "> +5)", "Weight impossible for age and sex (child ≤ 10 y: WHO weight-for-age z < −6 or > +5)")
BMI_CHECK = _body_check(
    "bmi", "IMC impossible pour l'âge et le sexe (enfant : z IMC/âge OMS < −5 ou > +5), sans "
    "poids et taille du même jour pour le recalculer",
    "BMI impossible for age and sex (child: WHO BMI-for-age z < −5 or > +5), with no same-day "
    "weight and height to recompute it")


def _pair_evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
    f = Frame.of(ctx, t)
    h = same_day(f, "weight", "height")
    rows = np.nonzero(h >= 0)[0]
    out = np.zeros(t.num_rows, dtype=bool)
    b = bmi(f.value[rows], f.value[h[rows]])
    out[rows] = np.isfinite(b) & ~plausible("bmi", b, f.age[rows], f.sex[rows])
    return out


WEIGHT_PAIR_CHECK = Check(
    "plausibility.weight_bmi_pair.biometric", "biometric", "value", Category.PLAUSIBILITY,
    Level.VALUE, THRESHOLD_PLAUSIBILITY,
    "Poids qui, avec la taille plausible du même jour, donne un IMC impossible",
    "Weight that, with the plausible same-day height, gives an impossible BMI",
    _WHO + "; BMI-for-age replaces weight-for-age after 10 y (WHO 2007); adults: "
    + ADULT_RANGES["bmi"].source, _pair_evaluate,
)


def vital_check(kind: str) -> Check:
    r = VITAL_RANGES[kind]

    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        f = Frame.of(ctx, t)
        v = f.value
        return (f.kind == kind) & np.isfinite(v) & ((v < r.low) | (v > r.high))

    return Check(
        f"plausibility.range.biometric.{kind}", "biometric", "value", Category.PLAUSIBILITY,
        Level.VALUE, THRESHOLD_PLAUSIBILITY,
        f"Valeur hors de l'intervalle plausible {r.label()} ({kind})",
        f"Value outside the plausible range {r.label()} ({kind})", r.source, evaluate,
    )


def _parseable_evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
    return mask(pc.is_null(col(t, "value")))


VALUE_PARSEABLE = Check(
    "conformance.value.biometric", "biometric", "raw_value", Category.CONFORMANCE, Level.VALUE,
    THRESHOLD_PLAUSIBILITY,
    "Valeur absente ou illisible, qu'aucune règle de réparation ne sait lire",
    "Value missing or unreadable, and no repair rule can read it",
    "docs/dev/CONTRACTS.md (raw_value)", _parseable_evaluate,
)
