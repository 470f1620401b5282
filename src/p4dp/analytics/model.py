"""Indicator definitions: small immutable objects, in the spirit of ehrQL's query model.

An indicator says *what* is measured, never *how* an engine computes it:

* a **frame** — the events (or patients, or practitioners) it is computed on, built from the
  warehouse with Ibis and the portable helpers only;
* its **measures** — counts of rows or of distinct patients (optionally restricted to a boolean
  column of the frame: the numerator), statistics of a column, shares of two counts;
* its **stratifications** (`by`) — standard dimensions (age band, sex, region, practice,
  practitioner, week / month / year) or columns of the frame;
* optionally a **top N** ranking or a **line list** (one row per patient, for the patient's own GP
  only: disclosure control refuses it to anyone else).

The compiler (`p4dp.analytics.compile`) turns a definition plus a scope and filters into one Ibis
expression (one grouped query, whatever the number of periods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from p4dp.analytics.compile import Warehouse


class Dim(StrEnum):
    """Standard stratifications, derived by the compiler from the patient context and the date."""

    AGE_BAND = "age_band"
    SEX = "sex"
    REGION = "region"
    PRACTICE = "practice"
    PRACTITIONER = "practitioner"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


DIM_LABELS_FR: dict[str, str] = {
    Dim.AGE_BAND: "Tranche d'âge",
    Dim.SEX: "Sexe",
    Dim.REGION: "Région",
    Dim.PRACTICE: "Cabinet",
    Dim.PRACTITIONER: "Médecin",
    Dim.WEEK: "Semaine ISO",
    Dim.MONTH: "Mois",
    Dim.YEAR: "Année",
}

#: The seed's age bands for the Historique dashboard: 0–15, 16–60, 60 and over (DOMAIN.md §1).
SEED_AGE_BREAKS: tuple[int, ...] = (0, 16, 61)
SEED_AGE_LABELS: tuple[str, ...] = ("0-15", "16-60", "60 et plus")

Subject = Literal["patient", "practitioner"]


@dataclass(frozen=True)
class Frame:
    """The rows an indicator is computed on.

    `build(wh, period)` returns an Ibis table with at least `patient_id` (subject "patient") or
    `practitioner_id` (subject "practitioner"), and `date` when `dated` (the event date used by the
    date filter, the period stratifications and ages "at the event"). A column `practitioner_id`
    on a patient frame marks rows attributable to one practitioner: a GP's scope then keeps their
    own rows only. `period` is the requested date range, passed so that frames which pick one row
    per patient (the latest reading…) pick it *within* the range.

    A `gp_scoped` frame, which aggregates events per patient, is built as
    `build(wh, period, practitioner)`: under a GP's scope it receives the GP's pseudonym and
    aggregates that GP's own events only (None under any other scope), so that it stays one row
    per patient rather than one per patient and practitioner.
    """

    name: str
    description: str
    build: Callable[[Warehouse, Period], ir.Table]
    subject: Subject = "patient"
    dated: bool = True
    #: Computing the frame costs more than reading it back (a per-patient status over several
    #: tables): indicators of one request that share it get it computed once (`run_indicators`).
    materialize: bool = False
    #: The analytics mart holding this frame joined with the patient context
    #: (`p4dp.analytics.marts.frame_with_context`): for frames that do not depend on the period.
    mart: str | None = None
    #: `build` takes the practitioner of a GP's scope (see above).
    gp_scoped: bool = False

    def __post_init__(self) -> None:
        if self.subject not in ("patient", "practitioner"):
            raise ValueError(f"frame {self.name}: unknown subject {self.subject!r}")


MeasureAgg = Literal["count", "patients", "sum", "mean", "median", "min", "max", "share"]
#: Measures that count people or events: the cells disclosure control protects.
COUNT_AGGS = ("count", "patients")
STATISTIC_AGGS = ("sum", "mean", "median", "min", "max")


@dataclass(frozen=True)
class Measure:
    """One output column.

    * `count` — rows of the frame (where `where` is true, if given);
    * `patients` — distinct patients (or practitioners, for a practitioner frame);
    * `sum` / `mean` / `median` / `min` / `max` of `column` (median is the exact percentile);
    * `share` — 100 × `numerator` / `denominator`, two other *count* measures of the indicator,
      rounded to 0.1.
    """

    name: str
    label_fr: str
    agg: MeasureAgg
    column: str | None = None
    where: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    digits: int = 2

    def __post_init__(self) -> None:
        if self.agg in STATISTIC_AGGS and not self.column:
            raise ValueError(f"measure {self.name}: {self.agg} needs a column")
        if self.agg == "share" and not (self.numerator and self.denominator):
            raise ValueError(f"measure {self.name}: a share needs a numerator and a denominator")

    @property
    def kind(self) -> str:
        """How disclosure control treats the column: count, share or statistic."""
        if self.agg in COUNT_AGGS:
            return "count"
        return "share" if self.agg == "share" else "statistic"


@dataclass(frozen=True)
class Indicator:
    """An indicator definition. `rule` states the clinical or counting rule; `source` cites it."""

    name: str
    theme: str
    title_fr: str
    description: str
    rule: str
    source: str
    frame: Frame
    measures: tuple[Measure, ...] = ()
    by: tuple[str, ...] = ()
    #: A boolean column of the frame restricting the rows the indicator sees (e.g. overdue only).
    where: str | None = None
    #: Keep the `top` largest rows by `rank_by` (ties broken by the `by` values), with a rank.
    top: int | None = None
    rank_by: str | None = None
    #: Columns of a line list (one row per frame row); exclusive with measures.
    line_list: tuple[str, ...] = ()
    #: "filter": honour the requested scope; "base": always the whole base (the seed's
    #: "ensemble de la base" beside a GP's "personnel"); "practitioner": refuse any other scope.
    scope_policy: Literal["filter", "base", "practitioner"] = "filter"
    age_breaks: tuple[int, ...] = SEED_AGE_BREAKS
    age_labels: tuple[str, ...] | None = SEED_AGE_LABELS
    #: Display labels of `by` columns (e.g. CISP-2 code → "R74 - Infection aiguë …"), applied to
    #: the result, never inside the query.
    labels: tuple[tuple[str, Callable[[object], object]], ...] = ()
    column_labels_fr: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if bool(self.measures) == bool(self.line_list):
            raise ValueError(f"indicator {self.name}: give measures or a line list, not both")
        names = [m.name for m in self.measures]
        if len(set(names)) != len(names):
            raise ValueError(f"indicator {self.name}: duplicate measure names {names}")
        counts = {m.name for m in self.measures if m.kind == "count"}
        for m in self.measures:
            if m.agg == "share" and not {m.numerator, m.denominator} <= counts:
                raise ValueError(f"indicator {self.name}: share {m.name} must divide two count "
                                 "measures of the same indicator")
        if self.measures and not counts:
            # disclosure control judges every statistic by the size of its cell
            raise ValueError(f"indicator {self.name}: needs at least one count measure")
        if self.top is not None and (self.top < 1 or self.rank_by not in names):
            raise ValueError(f"indicator {self.name}: top needs a positive N and rank_by naming "
                             "a measure")
        if self.frame.subject == "practitioner" and (
            Dim.AGE_BAND in self.by or self.line_list
        ):
            raise ValueError(f"indicator {self.name}: practitioner frames have no patient age and "
                             "no line list")

    @property
    def is_line_list(self) -> bool:
        return bool(self.line_list)

    def label_of(self, column: str) -> str:
        custom = dict(self.column_labels_fr)
        if column in custom:
            return custom[column]
        for m in self.measures:
            if m.name == column:
                return m.label_fr
        return DIM_LABELS_FR.get(column, column)


ScopeKind = Literal["base", "practitioner", "practice", "region"]


@dataclass(frozen=True)
class Scope:
    """Whose data: one GP's patients (practitioner pseudonym), a practice, a region, or the base."""

    kind: ScopeKind = "base"
    value: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("base", "practitioner", "practice", "region"):
            raise ValueError(f"périmètre inconnu {self.kind!r} : base, practitioner, practice "
                             "ou region")
        if (self.kind == "base") != (self.value is None):
            raise ValueError(f"le périmètre {self.kind} "
                             + ("ne prend pas de valeur" if self.kind == "base"
                                else "demande une valeur (pseudonyme, cabinet ou région)"))

    def as_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value}


@dataclass(frozen=True)
class Period:
    """A closed date range; either end may be open."""

    start: dt.date | None = None
    end: dt.date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"période : le début {self.start} est après la fin {self.end} "
                             "(--from doit précéder --to)")


@dataclass(frozen=True)
class Filters:
    """The seed's slicers: sex, age range (at the event or today), date range, patient."""

    sex: Literal["F", "M"] | None = None
    age_min: int | None = None
    age_max: int | None = None
    age_at: Literal["event", "today"] = "event"
    period: Period = field(default_factory=Period)
    patient_id: str | None = None
    #: "Today" for ages at today (fixed in tests and reproducible reports).
    as_of: dt.date = field(default_factory=dt.date.today)

    def __post_init__(self) -> None:
        if self.sex not in (None, "F", "M"):
            raise ValueError(f"--sex doit valoir F ou M (reçu {self.sex!r})")
        if self.age_at not in ("event", "today"):
            raise ValueError(f"âge à l'événement ('event') ou aujourd'hui ('today'), reçu "
                             f"{self.age_at!r}")
        for v in (self.age_min, self.age_max):
            if v is not None and v < 0:
                raise ValueError(f"les bornes d'âge doivent être ≥ 0 (reçu {v})")
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError(f"tranche d'âge : --age-min {self.age_min} est supérieur à "
                             f"--age-max {self.age_max}")

    def as_dict(self) -> dict:
        return {
            "sex": self.sex,
            "age_min": self.age_min,
            "age_max": self.age_max,
            "age_at": self.age_at,
            "date_from": self.period.start.isoformat() if self.period.start else None,
            "date_to": self.period.end.isoformat() if self.period.end else None,
            "patient_id": self.patient_id,
            "as_of": self.as_of.isoformat(),
        }
