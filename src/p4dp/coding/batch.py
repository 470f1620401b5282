"""Coding step of the central pipeline: fill the codes of one batch of central-layer tables.

* ``problem``: every reason / result / procedure field whose code did not come from the GP
  (origin other than ``source``) is coded; source codes are kept, confidence 1.0, never
  overwritten; a null text gives origin ``none`` and a null code.
* ``antecedent``: the same for ``text`` -> ``code`` (a family antecedent is coded as the ICPC-2
  risk factor, A21 / K22 / A23, never as the patient's own disease).
* ``vaccination``: ``product`` and ``valences`` from the raw label.
* ``prescription``: ``atc`` where null, from the drug label.
* ``lab_result``: ``exam_code`` and ``loinc`` from the raw label; ``value`` / ``unit`` converted
  to the exam's canonical unit (the unit as exported kept in ``raw_unit``), the conversion rule
  named in ``repair_rule``.

Returned tables have the exact central schema of ``p4dp.cdm`` (columns in order, central-only
columns added).
"""

from __future__ import annotations

import logging

import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import table as cdm_table
from p4dp.coding import icpc
from p4dp.coding.coder import NO_CODE, canonical_field, default_coder
from p4dp.terminology import drugs, labs, vaccines

log = logging.getLogger(__name__)

#: Confidence of a code entered by the GP (CDM: "1 for source codes").
SOURCE_CONFIDENCE = 1.0
SOURCE_EXPLANATION = "code saisi par le médecin (source)"
#: Problem fields, in the order their codes give context to the next ones.
PROBLEM_FIELDS = ("result", "reason", "procedure")


def conform(name: str, t: pa.Table) -> pa.Table:
    """Columns of the central schema of ``name``, in order; missing ones null; types cast."""
    schema = cdm_table(name).arrow_schema("central")
    cols = []
    for f in schema:
        if f.name in t.column_names:
            col = t.column(f.name)
            if col.type != f.type:
                col = col.cast(f.type)
            cols.append(col)
        else:
            cols.append(pa.nulls(t.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def _code_column(texts: pa.ChunkedArray | pa.Array, field_name: str,
                 min_confidence: float | None) -> pa.Table:
    """code, confidence, explanation, default_chapter per row (nulls for null texts); distinct
    texts are coded once and spread back with ``take``."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    coder = default_coder(min_confidence)
    encoded = pc.dictionary_encode(texts)
    uniques = [coder.code(t, field_name) for t in encoded.dictionary.to_pylist()]
    idx = encoded.indices
    return pa.table({
        "code": pc.take(pa.array([c.code for c in uniques], pa.string()), idx),
        "confidence": pc.take(pa.array([c.confidence for c in uniques], pa.float64()), idx),
        "explanation": pc.take(pa.array([c.explanation for c in uniques], pa.string()), idx),
        "default_chapter": pc.take(pa.array([c.default_chapter for c in uniques], pa.bool_()), idx),
    })


def _apply_context(codes: pa.Array, default_chapter: pa.Array, context: pa.Array | None) -> pa.Array:
    """A process code whose chapter was a default ``A`` takes the chapter of the row's other
    code ("renouvellement ordonnance" for a hypertension result is K50, not A50)."""
    if context is None:
        return codes
    shaped = pc.fill_null(pc.match_substring_regex(context, r"^[A-Z][0-9]{2}$"), False)
    number = pc.cast(pc.if_else(shaped, pc.utf8_slice_codeunits(context, 1, 3), pa.scalar("00")), pa.int32())
    usable = shaped
    usable = pc.and_(usable, pc.invert(pc.and_(pc.greater_equal(number, icpc.PROCESS_MIN),
                                               pc.less_equal(number, icpc.PROCESS_MAX))))
    swap = pc.fill_null(pc.and_(default_chapter, usable), False)
    moved = pc.binary_join_element_wise(pc.utf8_slice_codeunits(context, 0, 1),
                                        pc.utf8_slice_codeunits(codes, 1, 3), "")
    return pc.if_else(swap, moved, codes)


def _is_number_code(codes: pa.Array) -> pa.Array:
    """True where a code is a plain ICPC-2 code (not null, not ``_``)."""
    return pc.fill_null(pc.and_(pc.is_valid(codes), pc.not_equal(codes, NO_CODE)), False)


def _code_field(t: pa.Table, prefix: str, context: pa.Array | None,
                min_confidence: float | None) -> tuple[pa.Table, pa.Array]:
    origin = t.column(f"{prefix}_code_origin").combine_chunks()
    code = t.column(f"{prefix}_code").combine_chunks()
    expl = t.column(f"{prefix}_code_explanation").combine_chunks()
    coded = _code_column(t.column(f"{prefix}_text"), canonical_field(prefix), min_confidence)
    auto_code = _apply_context(coded.column("code").combine_chunks(),
                               coded.column("default_chapter").combine_chunks(), context)
    source = pc.fill_null(pc.and_(pc.equal(origin, "source"), pc.is_valid(code)), False)
    has_text = pc.is_valid(coded.column("code").combine_chunks())
    null = pa.scalar(None, pa.string())
    new_code = pc.if_else(source, code, auto_code)
    new_origin = pc.if_else(source, pa.scalar("source"), pc.if_else(has_text, pa.scalar("auto"), pa.scalar("none")))
    new_conf = pc.if_else(source, pa.scalar(SOURCE_CONFIDENCE), coded.column("confidence").combine_chunks())
    new_expl = pc.if_else(source, pc.coalesce(expl, pa.scalar(SOURCE_EXPLANATION)),
                          pc.if_else(has_text, coded.column("explanation").combine_chunks(), null))
    t = _set(t, f"{prefix}_code", new_code)
    t = _set(t, f"{prefix}_code_origin", new_origin)
    t = _set(t, f"{prefix}_code_confidence", pc.cast(new_conf, pa.float64()))
    t = _set(t, f"{prefix}_code_explanation", new_expl)
    return t, new_code


def _set(t: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in t.column_names:
        return t.set_column(t.column_names.index(name), name, values)
    return t.append_column(name, values)


def code_problems(t: pa.Table, min_confidence: float | None = None) -> pa.Table:
    t = conform("problem", t)
    if t.num_rows == 0:
        return t
    t, result_codes = _code_field(t, "result", None, min_confidence)
    t, reason_codes = _code_field(t, "reason", result_codes, min_confidence)
    context = pc.if_else(_is_number_code(result_codes), result_codes, reason_codes)
    t, _ = _code_field(t, "procedure", context, min_confidence)
    return conform("problem", t)


def code_antecedents(t: pa.Table, min_confidence: float | None = None) -> pa.Table:
    from p4dp.coding.coder import family_code

    t = conform("antecedent", t)
    if t.num_rows == 0:
        return t
    origin = t.column("code_origin").combine_chunks()
    code = t.column("code").combine_chunks()
    coded = _code_column(t.column("text"), "result", min_confidence)
    auto = coded.column("code").combine_chunks()
    # Family antecedents: the ICPC-2 risk factor of the disease, computed on distinct codes.
    family = pc.fill_null(pc.equal(t.column("kind").combine_chunks(), "family"), False)
    enc = pc.dictionary_encode(auto)
    risk = pa.array([family_code(c) if c not in (None, NO_CODE) else c
                     for c in enc.dictionary.to_pylist()], pa.string())
    auto = pc.if_else(family, pc.take(risk, enc.indices), auto)
    source = pc.fill_null(pc.and_(pc.equal(origin, "source"), pc.is_valid(code)), False)
    has_text = pc.is_valid(coded.column("code").combine_chunks())
    t = _set(t, "code", pc.if_else(source, code, auto))
    t = _set(t, "code_origin", pc.if_else(source, pa.scalar("source"),
                                          pc.if_else(has_text, pa.scalar("auto"), pa.scalar("none"))))
    t = _set(t, "code_confidence", pc.cast(pc.if_else(source, pa.scalar(SOURCE_CONFIDENCE),
                                                      coded.column("confidence").combine_chunks()), pa.float64()))
    return conform("antecedent", t)


def code_vaccinations(t: pa.Table) -> pa.Table:
    t = conform("vaccination", t)
    if t.num_rows == 0:
        return t
    norm = vaccines.normalise_labels(t.column("raw_label"))
    t = _set(t, "product", pc.coalesce(t.column("product").combine_chunks(), norm.column("product").combine_chunks()))
    valences = norm.column("valences").combine_chunks()
    matched = norm.column("matched").combine_chunks()
    old = t.column("valences").combine_chunks()
    new = pc.if_else(pc.and_(pc.is_null(old), matched), valences, old).cast(pa.list_(pa.string()))
    t = _set(t, "valences", new)
    return conform("vaccination", t)


def code_prescriptions(t: pa.Table) -> pa.Table:
    t = conform("prescription", t)
    if t.num_rows == 0:
        return t
    norm = drugs.normalise_labels(t.column("drug_label"))
    t = _set(t, "atc", pc.coalesce(t.column("atc").combine_chunks(), norm.column("atc").combine_chunks()))
    return conform("prescription", t)


def code_lab_results(t: pa.Table) -> pa.Table:
    t = conform("lab_result", t)
    if t.num_rows == 0:
        return t
    norm = labs.normalise_labels(t.column("raw_label"))
    exam = pc.coalesce(t.column("exam_code").combine_chunks(), norm.column("exam_code").combine_chunks())
    loinc = pc.coalesce(t.column("loinc").combine_chunks(), norm.column("loinc").combine_chunks())
    unit = t.column("unit").combine_chunks()
    value = t.column("value").combine_chunks()
    raw_unit = pc.coalesce(t.column("raw_unit").combine_chunks(), unit)
    new_value, new_unit, rule = labs.to_canonical(exam, value, unit)
    # "identite": the unit was already canonical (only its spelling normalised) - not a repair.
    changed = pc.and_(pc.is_valid(rule), pc.not_equal(rule, "identite"))
    changed = pc.fill_null(changed, False)
    repair = pc.coalesce(t.column("repair_rule").combine_chunks(),
                         pc.if_else(changed, rule, pa.scalar(None, pa.string())))
    t = _set(t, "exam_code", exam)
    t = _set(t, "loinc", loinc)
    t = _set(t, "value", new_value)
    t = _set(t, "unit", new_unit)
    t = _set(t, "raw_unit", raw_unit)
    t = _set(t, "repair_rule", repair)
    return conform("lab_result", t)


def code_batch(tables: dict[str, pa.Table], min_confidence: float | None = None) -> dict[str, pa.Table]:
    """Fill every code of a batch of central-layer tables; other tables pass through unchanged."""
    out = dict(tables)
    steps = {
        "problem": lambda x: code_problems(x, min_confidence),
        "antecedent": lambda x: code_antecedents(x, min_confidence),
        "vaccination": code_vaccinations,
        "prescription": code_prescriptions,
        "lab_result": code_lab_results,
    }
    for name, step in steps.items():
        if name in tables and tables[name] is not None:
            try:
                out[name] = step(tables[name])
            except (ValueError, TypeError, KeyError, pa.ArrowException) as e:
                if name in ("problem", "antecedent"):
                    raise  # the ICPC-2 coder never fails on text: an error here is a bug
                # A terminology lookup that fails must not stop the load: the table keeps its
                # uncoded columns (conformed) and the reason is logged for the data steward.
                log.warning("coding of table %s skipped: %s: %s", name, type(e).__name__, e)
                out[name] = conform(name, tables[name])
    return out


__all__ = ["code_batch", "conform", "code_problems", "code_antecedents", "code_vaccinations",
           "code_prescriptions", "code_lab_results"]
