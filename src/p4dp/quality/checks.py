"""Checks that apply to every table: conformance to the model, completeness, dates, duplicates.

Each factory returns a `Check` whose `evaluate` is vectorised over the whole table.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import Table, Type, table as cdm_table
from p4dp.quality.constants import (
    MIN_BIRTH_YEAR,
    THRESHOLD_COMPLETENESS_RECOMMENDED,
    THRESHOLD_CONFORMANCE,
    THRESHOLD_DATES,
    THRESHOLD_DUPLICATES,
)
from p4dp.quality.frame import col, days, floats, mask
from p4dp.quality.model import Action, Category, Check, Context, Level

_CDM = "P4DP common data model (src/p4dp/cdm/tables.py)"

#: Tables where two rows with identical content (ids aside) are a duplicated export, not two real
#: events. Patients are excluded (twins share sex, birth month and practice), and so are
#: encounters: a patient may see the same GP twice in a day (morning visit, evening call), and
#: quarantining one would orphan its problems and prescriptions.
CONTENT_DUPLICATE_TABLES = ("problem", "biometric", "lab_result", "antecedent", "history",
                            "vaccination", "prescription")
#: Clinical event dates checked against the patient's birth and death.
EVENT_DATES = {
    "encounter": "date", "problem": "date", "biometric": "date", "lab_result": "date",
    "antecedent": "date", "history": "date", "vaccination": "date", "prescription": "date",
}
#: Events that cannot happen after death (antecedents and history may be recorded later).
AFTER_DEATH_TABLES = ("encounter", "problem", "biometric", "lab_result", "vaccination",
                      "prescription")


def key_of(spec: Table) -> str:
    return spec.primary_key[0]


def _columns(spec: Table):
    return [c for c in spec.central_columns() if c.name != "batch_id"]


# --- conformance --------------------------------------------------------------------------------

def columns_check(name: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table):
        conformed = ctx.conformed.get(name)
        extra = list(conformed.unexpected) if conformed else []
        # Table level: one "row" per input column; the rows of the table are not affected.
        return np.zeros(t.num_rows, dtype=bool), len(extra), len(extra) + t.num_columns

    return Check(
        f"conformance.columns.{name}", name, None, Category.CONFORMANCE, Level.TABLE,
        THRESHOLD_CONFORMANCE,
        "Colonnes hors du modèle commun (ignorées, jamais chargées)",
        "Columns outside the common data model (dropped, never loaded)",
        _CDM, evaluate, Action.REPORT,
    )


def _conformed_check(name: str, kind: str, attr: str, fr: str, en: str) -> Check:
    """A row fails when the table's conformance step marked any of its fields in `attr`
    (`bad_type` or `bad_date`)."""

    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        conformed = ctx.conformed.get(name)
        out = np.zeros(t.num_rows, dtype=bool)
        if conformed:
            for m in getattr(conformed, attr).values():
                out |= m
        return out

    return Check(
        f"conformance.{kind}.{name}", name, None, Category.CONFORMANCE, Level.FIELD,
        THRESHOLD_CONFORMANCE, fr, en, _CDM, evaluate,
    )


def type_check(name: str) -> Check:
    return _conformed_check(
        name, "type", "bad_type",
        "Valeur d'un type inattendu (nombre illisible, entier hors limites…)",
        "Value of the wrong type (unreadable number, integer out of range…)",
    )


def date_parse_check(name: str) -> Check:
    return _conformed_check(
        name, "date_format", "bad_date",
        "Date illisible (formats acceptés : AAAA-MM-JJ ou JJ/MM/AAAA)",
        "Unparseable date (accepted: YYYY-MM-DD or DD/MM/YYYY)",
    )


def allowed_check(name: str, column: str, allowed: tuple[str, ...]) -> Check:
    value_set = pa.array(list(allowed), pa.string())

    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        c = col(t, column)
        return mask(pc.and_(pc.is_valid(c), pc.invert(pc.is_in(c, value_set=value_set))))

    return Check(
        f"conformance.allowed.{name}.{column}", name, column, Category.CONFORMANCE, Level.VALUE,
        THRESHOLD_CONFORMANCE,
        f"Valeur non autorisée (attendu : {', '.join(allowed)})",
        f"Value not allowed (expected: {', '.join(allowed)})",
        _CDM, evaluate,
    )


def source_check(name: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        return mask(pc.not_equal(col(t, "source_id"), pa.scalar(ctx.source_id)))

    return Check(
        f"conformance.source.{name}", name, "source_id", Category.CONFORMANCE, Level.VALUE,
        THRESHOLD_CONFORMANCE,
        "Ligne d'une autre source que celle du lot",
        "Row from another source than the batch's",
        "DESIGN.md: one bundle = one EHR source", evaluate,
    )


def id_format_check(name: str) -> Check:
    spec = cdm_table(name)
    key = key_of(spec)

    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        c = col(t, key)
        bad = pc.or_(pc.equal(pc.binary_length(c), 0), pc.match_substring_regex(c, r"\s"))
        return mask(bad)

    return Check(
        f"conformance.id_format.{name}", name, key, Category.CONFORMANCE, Level.VALUE,
        THRESHOLD_CONFORMANCE,
        "Identifiant vide ou contenant des espaces",
        "Identifier empty or containing whitespace",
        _CDM, evaluate,
    )


def pseudonym_prefix_check(name: str, column: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        c = col(t, column)
        ok = pc.starts_with(c, ctx.source_id + "_")
        return mask(pc.and_(pc.is_valid(c), pc.invert(ok)))

    return Check(
        f"conformance.pseudonym_prefix.{name}.{column}", name, column, Category.CONFORMANCE,
        Level.VALUE, THRESHOLD_CONFORMANCE,
        "Pseudonyme sans le préfixe de sa source (« arm_… »)",
        "Pseudonym without its source prefix (`arm_…`)",
        "docs/dev/CONTRACTS.md (pseudonymised bundle)", evaluate, Action.REPORT,
    )


def duplicate_id_check(name: str) -> Check:
    spec = cdm_table(name)
    key = key_of(spec)

    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        enc = pc.dictionary_encode(col(t, key))
        if len(enc.dictionary) == t.num_rows - enc.null_count and enc.null_count <= 1:
            return np.zeros(t.num_rows, dtype=bool)
        return _later_occurrences(t, [key])

    return Check(
        f"conformance.duplicate_id.{name}", name, key, Category.CONFORMANCE, Level.VALUE,
        THRESHOLD_DUPLICATES,
        "Identifiant déjà vu dans le lot (la première ligne est gardée)",
        "Identifier seen earlier in the batch (the first row is kept)",
        _CDM + "; primary key", evaluate,
    )


def duplicate_row_check(name: str) -> Check:
    spec = cdm_table(name)
    key = key_of(spec)
    content = [c.name for c in _columns(spec)
               if c.name != key and c.name != "repair_rule" and c.type is not Type.STRING_LIST]

    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        if name == "biometric" and t.num_rows:
            # Exact comparison only among rows that share patient, day, kind and value: hashing
            # every column of every row is the costliest step of a large batch.
            from p4dp.quality.biometrics import Frame

            cand = _shared(Frame.of(ctx, t))
            out = np.zeros(t.num_rows, dtype=bool)
            rows = np.nonzero(cand)[0]
            if len(rows):
                out[rows] = _later_occurrences(t.take(pa.array(rows)), content)
            return out
        return _later_occurrences(t, content)

    return Check(
        f"plausibility.duplicate_row.{name}", name, None, Category.PLAUSIBILITY, Level.TABLE,
        THRESHOLD_DUPLICATES,
        "Ligne identique à une autre (export en double ; une seule est gardée)",
        "Row identical to another one (duplicated export; one is kept)",
        "DOMAIN.md §5 (duplicated exports)", evaluate, example_field=key,
    )


def _shared(f) -> np.ndarray:
    """Rows whose (patient, day, kind, value) also occurs on another row (a cheap superset of the
    exact duplicates: equal tuples give equal mixes)."""
    value = np.where(np.isnan(f.value), -1.0, f.value)
    with np.errstate(over="ignore"):
        h = f.key.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + f.kind_code.astype(np.uint64)
        h ^= h >> np.uint64(29)
        h = h * np.uint64(0xBF58476D1CE4E5B9) + value.view(np.uint64)
        h ^= h >> np.uint64(32)
    _, inverse, counts = np.unique(h, return_inverse=True, return_counts=True)
    return counts[inverse] > 1


def _later_occurrences(t: pa.Table, columns: list[str]) -> np.ndarray:
    """Rows whose values in `columns` already appeared on an earlier row (nulls compare equal)."""
    n = t.num_rows
    if n == 0:
        return np.zeros(0, dtype=bool)
    keyed = t.select(columns).append_column("_row", pa.array(np.arange(n, dtype=np.int64)))
    first = keyed.group_by(columns, use_threads=False).aggregate([("_row", "min")])
    keep = np.zeros(n, dtype=bool)
    keep[first.column("_row_min").to_numpy()] = True
    return ~keep


# --- completeness -------------------------------------------------------------------------------

def required_check(name: str, column: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        return mask(pc.is_null(col(t, column)))

    return Check(
        f"completeness.required.{name}.{column}", name, column, Category.COMPLETENESS, Level.FIELD,
        THRESHOLD_CONFORMANCE,
        "Champ obligatoire vide", "Required field is empty",
        _CDM + " (column declared NOT NULL)", evaluate,
    )


def recommended_check(name: str, column: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        return mask(pc.is_null(col(t, column)))

    return Check(
        f"completeness.recommended.{name}.{column}", name, column, Category.COMPLETENESS,
        Level.FIELD, THRESHOLD_COMPLETENESS_RECOMMENDED,
        "Champ utile aux indicateurs non renseigné (ligne chargée quand même)",
        "Field used by the indicators is empty (row loaded anyway)",
        "DOMAIN.md §3 (ages and sexes drive every indicator); P4DP threshold", evaluate,
        Action.REPORT,
    )


def patient_known_check(name: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        return ctx.patient_index(t) < 0

    return Check(
        f"completeness.patient_known.{name}", name, "patient_id", Category.COMPLETENESS,
        Level.VALUE, THRESHOLD_CONFORMANCE,
        "Patient absent de la table des patients du lot (âge et sexe inconnus)",
        "Patient missing from the batch's patient table (age and sex unknown)",
        _CDM + " (patient_id references patient)", evaluate, Action.REPORT,
    )


# --- dates --------------------------------------------------------------------------------------

def future_date_check(name: str, column: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        return days(col(t, column)) > ctx.as_of_days

    return Check(
        f"plausibility.future_date.{name}.{column}", name, column, Category.PLAUSIBILITY,
        Level.VALUE, THRESHOLD_DATES,
        "Date dans le futur (postérieure à la date de l'export)",
        "Date in the future (after the export date)",
        "DOMAIN.md §5 (future dates)", evaluate,
    )


def _patient_days(ctx: Context, t: pa.Table, attribute: str) -> np.ndarray:
    return ctx.patients.take(getattr(ctx.patients, attribute), ctx.patient_index(t))


def before_birth_check(name: str, column: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        d = days(col(t, column))
        bad = d < _patient_days(ctx, t, "birth_start")
        if name == "antecedent":
            # A family antecedent (a parent's disease) may predate the patient.
            bad &= ~mask(pc.equal(col(t, "kind"), "family"))
        return bad

    return Check(
        f"plausibility.before_birth.{name}.{column}", name, column, Category.PLAUSIBILITY,
        Level.VALUE, THRESHOLD_DATES,
        "Date antérieure à la naissance du patient (avant le 1er du mois de naissance)",
        "Date before the patient's birth (before the 1st of the birth month)",
        "DOMAIN.md §5 (readings before birth)", evaluate,
    )


def after_death_check(name: str, column: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        return days(col(t, column)) > _patient_days(ctx, t, "death")

    return Check(
        f"plausibility.after_death.{name}.{column}", name, column, Category.PLAUSIBILITY,
        Level.VALUE, THRESHOLD_DATES,
        "Date postérieure au décès du patient", "Date after the patient's death",
        "DOMAIN.md §5; CDM patient.death_date", evaluate,
    )


# --- patient and practitioner -------------------------------------------------------------------

def birth_year_check(name: str) -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        y = floats(col(t, "birth_year"))
        as_of_year = 1970 + ctx.as_of_days / 365.2425
        return (y < MIN_BIRTH_YEAR) | (y > as_of_year)

    return Check(
        f"plausibility.birth_year.{name}", name, "birth_year", Category.PLAUSIBILITY, Level.VALUE,
        THRESHOLD_DATES,
        f"Année de naissance impossible (avant {MIN_BIRTH_YEAR} ou dans le futur)",
        f"Impossible birth year (before {MIN_BIRTH_YEAR} or in the future)",
        "constants.MIN_BIRTH_YEAR", evaluate,
    )


def birth_month_check() -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        m = floats(col(t, "birth_month"))
        return (m < 1) | (m > 12)

    return Check(
        "conformance.birth_month.patient", "patient", "birth_month", Category.CONFORMANCE,
        Level.VALUE, THRESHOLD_CONFORMANCE,
        "Mois de naissance hors de 1–12", "Birth month outside 1–12", _CDM, evaluate,
    )


def death_before_birth_check() -> Check:
    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        from p4dp.quality.frame import month_start_days

        start = month_start_days(floats(col(t, "birth_year")), floats(col(t, "birth_month")), 1)
        return days(col(t, "death_date")) < start

    return Check(
        "plausibility.death_before_birth.patient", "patient", "death_date",
        Category.PLAUSIBILITY, Level.VALUE, THRESHOLD_DATES,
        "Décès avant la naissance", "Death before birth", "DOMAIN.md §5", evaluate,
    )
