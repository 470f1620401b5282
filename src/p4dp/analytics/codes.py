"""Codes the indicator rules compare against, taken from (and checked against) the terminology
package, so that a rule can never look for a code the coder does not write.

The coder writes `lab_result.exam_code` as the terminology's exam codes (`labs_fr.csv`: upper case
such as ``INR``, ``HBA1C``), vaccination valences as `p4dp.terminology.vaccines.VALENCES` (``d``
and ``D``, ``ca`` and ``Ca`` are different doses: adult and child strength) and problem codes as
canonical ICPC-2 codes. Each accessor fails at import time, naming the code and the file to look
in, when the terminology no longer has it.
"""

from __future__ import annotations

from functools import lru_cache

from p4dp.terminology import icpc2, labs, vaccines


@lru_cache(maxsize=1)
def _exam_codes() -> frozenset[str]:
    return frozenset(labs.exams().column("exam_code").to_pylist())


def exam_codes(*codes: str) -> tuple[str, ...]:
    """The terminology's lab exam codes, exactly as `lab_result.exam_code` holds them."""
    known = _exam_codes()
    missing = [c for c in codes if c not in known]
    if missing:
        raise ValueError(f"codes d'examen {missing} absents de p4dp/terminology/data/labs_fr.csv "
                         "(colonne exam_code) : corrigez la règle de l'indicateur ou la "
                         "terminologie")
    return tuple(codes)


def valences(*names: str) -> tuple[str, ...]:
    """Vaccine valences, exactly as `vaccination.valences` holds them."""
    missing = [v for v in names if v not in vaccines.VALENCES]
    if missing:
        raise ValueError(f"valences {missing} absentes de p4dp.terminology.vaccines.VALENCES : "
                         "corrigez la règle de l'indicateur")
    return tuple(names)


def icpc2_codes(*codes: str) -> tuple[str, ...]:
    """Canonical ICPC-2 codes (result, reason or procedure), as the coder writes them."""
    bad = [c for c in codes if not icpc2.is_valid(c) or icpc2.canonical(c) != c]
    if bad:
        raise ValueError(f"codes CISP-2 {bad} inconnus de p4dp/terminology/data/cisp2_fr.csv : "
                         "corrigez la règle de l'indicateur")
    return tuple(codes)
