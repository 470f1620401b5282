"""The vocabulary of the quality step: checks, repairs and the batch context they run in."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

import numpy as np
import pyarrow as pa

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

    def patient_index(self, t: pa.Table) -> np.ndarray:
        """Row → index in `patients` (−1 unknown), memoised for the table's current state."""
        hit = self.cache.get("patient_index")
        if hit is not None and hit[0] is t:
            return hit[1]
        c = t.column("patient_id")
        idx = self.patients.lookup(c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c)
        self.cache["patient_index"] = (t, idx)
        return idx


#: A check's implementation: rows of `table` (its current state) that violate it. When it returns
#: a pair, the second item is the number of rows it looked at (table-level checks count columns).
Evaluate = Callable[[Context, pa.Table], "np.ndarray | tuple[np.ndarray, int]"]
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
