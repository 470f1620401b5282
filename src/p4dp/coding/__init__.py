"""Free text -> codes: ICPC-2 for problems and antecedents, vaccine valences, ATC, lab exams.

Public API::

    code_text(text, field="reason") -> Coding        # one text, with its explanation
    code_texts(texts, field) -> pa.Table             # code, confidence, explanation per row
    code_batch(tables) -> dict[str, pa.Table]        # central-layer tables, codes filled
    evaluate_csv(path) -> dict                       # figures of `p4dp coding evaluate`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

    from p4dp.coding.coder import Coding

__all__ = ["code_batch", "code_text", "code_texts", "evaluate_csv"]


def code_text(text: object, field: str = "reason", min_confidence: float | None = None) -> Coding:
    """Code one text of a problem field (motif / resultat / procedure)."""
    from p4dp.coding.coder import default_coder

    return default_coder(min_confidence).code(text, field)


def code_texts(texts: Any, field: str, min_confidence: float | None = None) -> pa.Table:
    from p4dp.coding.coder import code_texts as _code_texts

    return _code_texts(texts, field, min_confidence)


def code_batch(tables: dict[str, pa.Table], min_confidence: float | None = None) -> dict[str, pa.Table]:
    from p4dp.coding.batch import code_batch as _code_batch

    return _code_batch(tables, min_confidence)


def evaluate_csv(path: Any, min_confidence: float | None = None) -> dict:
    from p4dp.coding.evaluate import evaluate_csv as _evaluate_csv

    return _evaluate_csv(path, min_confidence)
