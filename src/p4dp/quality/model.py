"""The vocabulary of the quality step: checks, repairs and the batch context they run in."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.quality.frame import Patients


class Category(str, Enum):
    """Kahn's harmonised data-quality framework, as used by OHDSI's Data Quality Dashboard."""

    CONFORMANCE = "conformance"
    COMPLETENESS = "completeness"
    PLAUSIBILITY = "plausibility"


class Level(str, Enum):
    TABLE = "table"
    FIELD = "field"
    VALUE = "value"


class Action(str, Enum):
    #: Violating rows leave the batch and go to quarantine with the check's id.
    QUARANTINE = "quarantine"
    #: Violations are counted in the report only (the rows are loaded).
    REPORT = "report"


@dataclass
class Context:
    """What every check of a batch may look at besides its own table."""

    batch_id: str
    source_id: str
    as_of_days: int
    patients: Patients
    #: Results of the type conversion, per table (see `conform.Conformed`).
    conformed: dict = field(default_factory=dict)
    #: Per-step memo (e.g. the biometric frame of the table's current state).
    cache: dict = field(default_factory=dict)

    def patient_codes(self, t: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        """Per row: a code of its patient id within `t` (−1 when null) and the index of the
        patient in `patients` (−1 unknown). One hash of the column, memoised for the table's
        current state: the biometric steps need both."""
        hit = self.cache.get("patient_codes")
        if hit is not None and hit[0] is t:
            return hit[1], hit[2]
        c = t.column("patient_id")
        enc = pc.dictionary_encode(c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c)
        codes = np.asarray(pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False),
                           dtype=np.int64)
        per_code = self.patients.lookup(enc.dictionary)
        idx = np.full(len(codes), -1, dtype=np.int64)
        known = codes >= 0
        if len(per_code):
            idx[known] = per_code[codes[known]]
        self.cache["patient_codes"] = (t, codes, idx)
        return codes, idx

    def patient_index(self, t: pa.Table) -> np.ndarray:
        """Row → index in `patients` (−1 unknown)."""
        return self.patient_codes(t)[1]


#: A check's implementation: rows of `table` (its current state) that violate it, as a bool mask.
#: A table-level check may return `(mask, violations, checked)` instead, counting e.g. columns.
Evaluate = Callable[[Context, pa.Table], "np.ndarray | tuple[np.ndarray, int, int]"]
#: A repair's implementation: the repaired table and the rows it changed.
Apply = Callable[[Context, pa.Table], tuple[pa.Table, np.ndarray]]


@dataclass(frozen=True)
class Check:
    id: str
    table: str
    field: str | None
    category: Category
    level: Level
    threshold: float  # % of checked rows allowed to violate it for the check to pass
    description_fr: str
    description_en: str
    source: str
    evaluate: Evaluate = field(compare=False, repr=False)
    action: Action = Action.QUARANTINE
    #: Column shown in the report's examples (defaults to `field`).
    example_field: str | None = None


@dataclass(frozen=True)
class Repair:
    rule: str
    table: str
    description_fr: str
    description_en: str
    source: str
    apply: Apply = field(compare=False, repr=False)


Step = Check | Repair
