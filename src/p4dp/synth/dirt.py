"""Errors injected at controlled rates, with the seed's error kinds (DOMAIN.md §5).

Each injected error is recorded (table, row, column, kind, raw value, clean value) so that the
quality step can be measured against it. Rates are per *eligible* row (stated for each kind) and
documented in docs/synth.md. A row receives at most one error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from p4dp.synth.biometrics import KIND

#: Child (2–17 years) weights typed one decimal place off: 35.8 → 3.58 (the seed's 6-year-old).
IMPLAUSIBLE_WEIGHT_RATE = 0.003
#: Child (2–7 years) heights replaced by an adult's (the seed's 6-year-old of 165.5 cm), at least
#: IMPLAUSIBLE_HEIGHT_MIN_GAIN_CM above the true height. Below 8 years this puts the reading beyond
#: WHO's +6 SD height-for-age cleaning limit (8-year-old boys: median 127.3 cm, SD ≈ 5.7 cm), i.e.
#: impossible, not merely tall; at 11 years an adult's height is only ≈ +4 SD and stays plausible.
IMPLAUSIBLE_HEIGHT_FOR_AGE_RATE = 0.002
IMPLAUSIBLE_HEIGHT_AGES = (2, 8)
IMPLAUSIBLE_HEIGHT_MIN_GAIN_CM = 50
#: Recorded BMI rows that disagree with the same-day weight/height: decimal shift (0.32 for 31.5)
#: or garbage (212 278,88), as in the seed.
WRONG_RECORDED_BMI_RATE = 0.04
WRONG_BMI_GARBAGE_SHARE = 0.3
#: Adult heights typed in metres (1.72 in a cm field).
HEIGHT_IN_METRES_RATE = 0.01
#: Weights typed in grams (35800 in a kg field), any age.
WEIGHT_IN_GRAMS_RATE = 0.002
#: Numbers exported with a decimal comma ("45,30") where the format expects a point (jsonl and
#: fhir practices only; csv-fr uses decimal commas by convention). Eligible: weight, height,
#: temperature, waist readings and numeric lab values.
DECIMAL_COMMA_RATE = 0.01
DECIMAL_COMMA_BIOMETRIC_KINDS = ("weight", "height", "temperature", "waist_circumference")
#: Same-day adult weight and height rows with their values swapped.
SWAPPED_WEIGHT_HEIGHT_RATE = 0.005
#: Dates in the future (typing slips: 2032 for 2023) and before the patient's birth, for
#: biometric, lab and vaccination rows.
FUTURE_DATE_RATE = 0.0005
BEFORE_BIRTH_RATE = 0.0005
#: The same row exported twice with the same id (encounter, problem, biometric, lab, vaccination,
#: prescription rows).
DUPLICATE_ROW_RATE = 0.002
DUPLICATE_TABLES = ("encounter", "problem", "biometric", "lab_result", "vaccination",
                    "prescription")
#: Kinds that are not errors to reject but variants to normalise; quality recall is not measured
#: on them.
NON_ERROR_KINDS = ("label_variant",)
ERROR_KINDS = ("implausible_weight", "implausible_height_for_age", "wrong_recorded_bmi",
               "height_in_metres", "weight_in_grams", "decimal_comma", "swapped_weight_height",
               "future_date", "before_birth", "duplicate_row", "label_variant")

#: The seed's four bad child readings (DOMAIN.md §5), injected verbatim: age, weight, height,
#: recorded BMI, and which value is wrong with its clean value (None when unknown).
SEED_CHILD_READINGS = (
    (6, 3.58, 114.0, 2.75, "weight", "implausible_weight", 35.8),
    (12, 64.9, 143.5, 0.32, "bmi", "wrong_recorded_bmi", 31.52),
    (14, 51.0, 155.0, 212278.88, "bmi", "wrong_recorded_bmi", 21.23),
    (6, 46.9, 165.5, 17.12, "height", "implausible_height_for_age", None),
)


@dataclass
class ErrorLog:
    """Errors recorded by row index; turned into ground-truth rows once ids are known."""

    table: list[str] = field(default_factory=list)
    row: list[np.ndarray] = field(default_factory=list)
    column: list[str | None] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    raw: list[pa.Array] = field(default_factory=list)
    clean: list[pa.Array] = field(default_factory=list)

    def add(self, table: str, row: np.ndarray, column: str | None, kind: str, raw, clean) -> None:
        self.table.append(table)
        self.row.append(np.asarray(row, dtype=np.int64))
        self.column.append(column)
        self.kind.append(kind)
        self.raw.append(_text(raw, len(row)))
        self.clean.append(_text(clean, len(row)))


def _text(values, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, pa.string())
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return pa.array(arr).cast(pa.string())
    if arr.dtype.kind in "iu":
        return pa.array(arr).cast(pa.string())
    return pa.array(arr.astype(object), pa.string())


def _pick(rng, eligible: np.ndarray, rate: float, touched: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(eligible & ~touched & (rng.random(len(eligible)) < rate))
    touched[idx] = True
    return idx


def iso(days: np.ndarray) -> pa.Array:
    days32 = pa.array(np.asarray(days, dtype=np.int32), pa.int32())
    return days32.cast(pa.date32()).cast(pa.string())


def dirty_biometrics(bio: dict, age: np.ndarray, birth: np.ndarray, decimal_comma_ok: np.ndarray,
                     today_day: int, rng: np.random.Generator, log: ErrorLog,
                     touched: np.ndarray) -> None:
    """Mutates ``bio`` (value, date, raw_value) in place and logs each injected error."""
    v, kind, d = bio["value"], bio["kind"], bio["date"]
    n = len(v)
    raw = bio["raw_value"]
    w, h, b = kind == KIND["weight"], kind == KIND["height"], kind == KIND["bmi"]

    # Swapped weight/height: adjacent weight (kind 0) then height (kind 1) rows of one encounter.
    pair = np.flatnonzero(w[:-1] & h[1:] & (bio["encounter"][:-1] == bio["encounter"][1:])
                          & (age[:-1] >= 18))
    pair = pair[~touched[pair] & ~touched[pair + 1]]
    sw = pair[rng.random(len(pair)) < SWAPPED_WEIGHT_HEIGHT_RATE]
    touched[sw] = touched[sw + 1] = True
    old_w, old_h = v[sw].copy(), v[sw + 1].copy()
    v[sw], v[sw + 1] = old_h, old_w
    log.add("biometric", sw, "value", "swapped_weight_height", v[sw], old_w)
    log.add("biometric", sw + 1, "value", "swapped_weight_height", v[sw + 1], old_h)

    i = _pick(rng, w & (age >= 2) & (age < 18), IMPLAUSIBLE_WEIGHT_RATE, touched)
    old = v[i].copy()
    v[i] = np.round(old / 10, 2)
    log.add("biometric", i, "value", "implausible_weight", v[i], old)

    lo, hi = IMPLAUSIBLE_HEIGHT_AGES
    i = _pick(rng, h & (age >= lo) & (age < hi), IMPLAUSIBLE_HEIGHT_FOR_AGE_RATE, touched)
    old = v[i].copy()
    v[i] = np.maximum(np.round(rng.normal(168, 8, len(i)) * 2) / 2,
                      old + IMPLAUSIBLE_HEIGHT_MIN_GAIN_CM)
    log.add("biometric", i, "value", "implausible_height_for_age", v[i], old)

    i = _pick(rng, b, WRONG_RECORDED_BMI_RATE, touched)
    old = v[i].copy()
    garbage = rng.random(len(i)) < WRONG_BMI_GARBAGE_SHARE
    v[i] = np.round(np.where(garbage, old * rng.uniform(5000, 15000, len(i)), old / 100), 2)
    log.add("biometric", i, "value", "wrong_recorded_bmi", v[i], old)

    i = _pick(rng, h & (age >= 18), HEIGHT_IN_METRES_RATE, touched)
    old = v[i].copy()
    v[i] = np.round(old / 100, 2)
    log.add("biometric", i, "value", "height_in_metres", v[i], old)

    i = _pick(rng, w, WEIGHT_IN_GRAMS_RATE, touched)
    old = v[i].copy()
    v[i] = np.round(old * 1000)
    log.add("biometric", i, "value", "weight_in_grams", v[i], old)

    comma_kinds = np.isin(kind, [KIND[k] for k in DECIMAL_COMMA_BIOMETRIC_KINDS])
    i = _pick(rng, comma_kinds & decimal_comma_ok, DECIMAL_COMMA_RATE, touched)
    old = v[i].copy()
    txt = comma_text(old)
    raw[i] = np.asarray(txt.to_pylist(), dtype=object)
    v[i] = np.nan
    log.add("biometric", i, "value", "decimal_comma", txt, old)

    _dates(bio, "biometric", birth, today_day, rng, log, touched)


def comma_text(values: np.ndarray) -> pa.Array:
    """``45.3`` → ``"45,30"``: two decimals, decimal comma, as French software prints them."""
    from p4dp.synth._columns import fmt_number
    import pyarrow.compute as pc
    return pc.replace_substring(fmt_number(values, 2), ".", ",")


def _dates(rows: dict, table: str, birth: np.ndarray, today_day: int, rng, log: ErrorLog,
           touched: np.ndarray) -> None:
    d = rows["date"]
    n = len(d)
    i = _pick(rng, np.ones(n, bool), FUTURE_DATE_RATE, touched)
    old = d[i].copy()
    d[i] = today_day + rng.integers(30, 3650, len(i))
    log.add(table, i, "date", "future_date", iso(d[i]), iso(old))
    i = _pick(rng, np.ones(n, bool), BEFORE_BIRTH_RATE, touched)
    old = d[i].copy()
    d[i] = birth[i] - rng.integers(30, 3000, len(i))
    log.add(table, i, "date", "before_birth", iso(d[i]), iso(old))


def dirty_labs(lab: dict, birth: np.ndarray, decimal_comma_ok: np.ndarray, today_day: int,
               rng: np.random.Generator, log: ErrorLog) -> None:
    n = len(lab["date"])
    touched = np.zeros(n, bool)
    v = lab["value"]
    i = _pick(rng, decimal_comma_ok & ~np.isnan(v), DECIMAL_COMMA_RATE, touched)
    old = v[i].copy()
    txt = comma_text(old)
    lab["raw_value"][i] = np.asarray(txt.to_pylist(), dtype=object)
    v[i] = np.nan
    log.add("lab_result", i, "value", "decimal_comma", txt, old)
    _dates(lab, "lab_result", birth, today_day, rng, log, touched)
    free = np.flatnonzero(lab["free_label"])
    log.add("lab_result", free, "raw_label", "label_variant", lab["label"].take(pa.array(free)),
            lab["canonical_label"][free])


def dirty_vaccinations(vac: dict, birth: np.ndarray, today_day: int, rng: np.random.Generator,
                       log: ErrorLog) -> None:
    touched = np.zeros(len(vac["date"]), bool)
    _dates(vac, "vaccination", birth, today_day, rng, log, touched)
    free = np.flatnonzero(vac["free_label"])
    log.add("vaccination", free, "raw_label", "label_variant", vac["label"][free],
            vac["canonical_label"][free])


def duplicate_rows(n: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices to export twice."""
    return np.flatnonzero(rng.random(n) < DUPLICATE_ROW_RATE)


#: Documented rate of each error kind, per eligible row (see the constants above; docs/synth.md).
ERROR_RATES = {
    "implausible_weight": IMPLAUSIBLE_WEIGHT_RATE,
    "implausible_height_for_age": IMPLAUSIBLE_HEIGHT_FOR_AGE_RATE,
    "wrong_recorded_bmi": WRONG_RECORDED_BMI_RATE,
    "height_in_metres": HEIGHT_IN_METRES_RATE,
    "weight_in_grams": WEIGHT_IN_GRAMS_RATE,
    "decimal_comma": DECIMAL_COMMA_RATE,
    "swapped_weight_height": SWAPPED_WEIGHT_HEIGHT_RATE,
    "future_date": FUTURE_DATE_RATE,
    "before_birth": BEFORE_BIRTH_RATE,
    "duplicate_row": DUPLICATE_ROW_RATE,
}
