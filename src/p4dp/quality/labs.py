"""Laboratory results: value parseability and plausible ranges per exam and unit."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.quality.constants import LAB_LABEL_PATTERNS, LAB_RANGES, THRESHOLD_PLAUSIBILITY
from p4dp.quality.frame import col, floats, mask
from p4dp.quality.model import Category, Check, Context, Level


def exam_of(t: pa.Table, exam: str) -> np.ndarray:
    """Rows of `exam`: by the coder's exam_code, or by the label when no code was given."""
    code = pc.utf8_lower(col(t, "exam_code"))
    by_code = mask(pc.equal(code, exam))
    by_label = mask(pc.and_(pc.is_null(code), pc.match_substring_regex(
        pc.utf8_lower(col(t, "raw_label")), LAB_LABEL_PATTERNS[exam])))
    return by_code | by_label


def range_check(exam: str) -> Check:
    ranges = {unit: r for (e, unit), r in LAB_RANGES.items() if e == exam}
    label = "; ".join(r.label() for r in ranges.values())

    def evaluate(ctx: Context, t: pa.Table) -> np.ndarray:
        rows = exam_of(t, exam)
        v = floats(col(t, "value"))
        unit = pc.utf8_lower(pc.coalesce(col(t, "unit"), col(t, "raw_unit")))
        unit_np = np.asarray(pc.fill_null(unit, "").to_numpy(zero_copy_only=False), dtype=object)
        ok_any = np.zeros(t.num_rows, dtype=bool)
        known = np.zeros(t.num_rows, dtype=bool)
        for u, r in ranges.items():
            inside = (v >= r.low) & (v <= r.high)
            if u:
                is_u = np.char.find(unit_np.astype(str), u.lower()) >= 0
                ok_any |= is_u & inside
                known |= is_u
            else:
                ok_any |= inside
        if len(ranges) > 1:
            # Unit missing or unknown: accept a value plausible in any of the exam's units.
            for r in ranges.values():
                ok_any |= ~known & (v >= r.low) & (v <= r.high)
        return rows & np.isfinite(v) & ~ok_any

    sources = "; ".join(sorted({r.source for r in ranges.values()}))
    return Check(
        f"plausibility.range.lab_result.{exam}", "lab_result", "value", Category.PLAUSIBILITY,
        Level.VALUE, THRESHOLD_PLAUSIBILITY,
        f"Résultat {exam.upper()} hors de l'intervalle plausible ({label})",
        f"{exam.upper()} result outside the plausible range ({label})", sources, evaluate,
    )


def _parseable(ctx: Context, t: pa.Table) -> np.ndarray:
    return mask(pc.and_(pc.and_(pc.is_null(col(t, "value")), pc.is_valid(col(t, "raw_value"))),
                        pc.is_null(col(t, "text_value"))))


VALUE_PARSEABLE = Check(
    "conformance.value.lab_result", "lab_result", "raw_value", Category.CONFORMANCE, Level.VALUE,
    THRESHOLD_PLAUSIBILITY,
    "Résultat illisible : ni nombre, ni texte, et aucune règle de réparation ne sait le lire",
    "Unreadable result: neither a number nor a text, and no repair rule can read it",
    "docs/dev/CONTRACTS.md (raw_value)", _parseable,
)
