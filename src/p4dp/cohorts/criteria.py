"""Cohort criteria: small immutable objects with a JSON form and a JSON Schema.

A cohort definition is an ordered list of rules combined by AND, judged at one index date; the
attrition table counts the patients left after each rule (OHDSI ATLAS's "inclusion rules"). A rule
is a leaf (demographics, ICPC-2 condition, lab value, drug, biometric, child weight status,
vaccination, history mention) or a group (`all`, `any`, `not`) of rules.

The JSON form is the stored form: `schema` names the format version (`p4dp.cohort/1`), `version`
the definition's own revision, so that the operational store can keep it as-is and a later format
can still read it. Every value that refers to a terminology (ICPC-2 codes, exam codes and units,
ATC prefixes, vaccine valences) is checked against `p4dp.terminology` when the definition is
built, so that a typo is an error naming its field (a JSON pointer), never an empty cohort.

Windows are relative to the index date and end on it (`{"days": 365}`, `{"months": 6}`), or
absolute (`{"from": "2025-09-01", "to": "2026-02-28"}`), or the current influenza season
(`{"season": "grippe"}`). Occurrences are counted on distinct days.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
from functools import lru_cache
from typing import Annotated, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from p4dp.cdm.tables import BIOMETRIC_KINDS, HISTORY_KINDS, HISTORY_STATUSES

#: Name and version of the JSON format (stored with every definition).
SCHEMA_ID = "p4dp.cohort/1"
#: No window may reach further back than this: the oldest EHR data P4DP loads (PRIMEGE, 2000s)
#: are well within a century, and a longer window is a typo (days typed for months …).
MAX_WINDOW_DAYS = 36_525
MAX_AGE = 130
#: The influenza vaccine of a season is delivered from September; the French campaign runs from
#: mid-October to the end of January or February (Assurance Maladie, campagne de vaccination
#: antigrippale; calendrier des vaccinations). A dose from 1 September on counts for the season.
FLU_SEASON_START_MONTH = 9
#: Where a diagnosis is usually looked for: a problem's result or an antecedent (as the Diabète
#: indicators do); a reason for encounter is a symptom or a request, not a diagnosis.
DEFAULT_ORIGINS = ("result", "antecedent")
_ATC_PREFIX = re.compile(r"^[A-Z](?:[0-9]{2}(?:[A-Z](?:[A-Z](?:[0-9]{2})?)?)?)?$")
_ICPC = re.compile(r"^[A-Z][0-9]{2}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- windows and comparisons -------------------------------------------------------------------


class Window(_Frozen):
    """Exactly one of: `days` / `months` before the index date, `from`/`to` dates, `season`."""

    days: int | None = Field(None, ge=1, le=MAX_WINDOW_DAYS, description="The N days up to the "
                             "index date (the index date included, the day N days before not).")
    months: int | None = Field(None, ge=1, le=MAX_WINDOW_DAYS // 30, description="The N calendar "
                               "months up to the index date.")
    from_: dt.date | None = Field(None, alias="from", description="First day (absolute).")
    to: dt.date | None = Field(None, description="Last day (absolute; default the index date).")
    season: Literal["grippe"] | None = Field(None, description="The current influenza season: "
                                             "from 1 September to the index date.")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _one_form(self) -> Window:
        forms = [self.days is not None, self.months is not None,
                 self.from_ is not None or self.to is not None, self.season is not None]
        if sum(forms) != 1:
            raise ValueError("une fenêtre a exactement une forme : days, months, from/to ou "
                             "season")
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError(f"fenêtre impossible : from {self.from_} est après to {self.to}")
        return self

    def bounds(self, index: dt.date) -> tuple[dt.date | None, dt.date]:
        """(start exclusive or None, end inclusive) at the index date."""
        if self.days is not None:
            return index - dt.timedelta(days=self.days), index
        if self.months is not None:
            return add_months(index, -self.months), index
        if self.season is not None:
            year = index.year if index.month >= FLU_SEASON_START_MONTH else index.year - 1
            return dt.date(year, FLU_SEASON_START_MONTH, 1) - dt.timedelta(days=1), index
        end = min(self.to, index) if self.to else index
        start = self.from_ - dt.timedelta(days=1) if self.from_ else None
        return start, end

    def describe_fr(self) -> str:
        if self.days is not None:
            return f"dans les {self.days} jours"
        if self.months is not None:
            return f"dans les {self.months} mois"
        if self.season is not None:
            return "depuis le début de la saison grippale"
        parts = []
        if self.from_:
            parts.append(f"du {self.from_:%d/%m/%Y}")
        if self.to:
            parts.append(f"au {self.to:%d/%m/%Y}")
        return " ".join(parts)


def add_months(d: dt.date, months: int) -> dt.date:
    """Calendar months, the day clipped to the month's end (31 March − 1 month = 28/29 Feb)."""
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


Op = Literal[">", ">=", "<", "<=", "between", "outside"]


class Comparison(_Frozen):
    """`value op threshold` in `unit`; `between` / `outside` use `low` and `high` (inclusive
    between; outside = strictly below low or above high)."""

    op: Op
    value: float | None = None
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _operands(self) -> Comparison:
        ranged = self.op in ("between", "outside")
        if ranged and (self.low is None or self.high is None or self.value is not None):
            raise ValueError(f"« {self.op} » demande low et high (pas value)")
        if not ranged and (self.value is None or self.low is not None or self.high is not None):
            raise ValueError(f"« {self.op} » demande value (pas low ni high)")
        if ranged and self.low > self.high:
            raise ValueError(f"intervalle impossible : low {self.low} > high {self.high}")
        return self

    def describe_fr(self, unit: str = "") -> str:
        u = f" {unit}" if unit and unit != "1" else ""
        if self.op == "between":
            return f"entre {number_fr(self.low)} et {number_fr(self.high)}{u}"
        if self.op == "outside":
            return f"hors {number_fr(self.low)}-{number_fr(self.high)}{u}"
        sym = {">=": "≥", "<=": "≤"}.get(self.op, self.op)
        return f"{sym} {number_fr(self.value)}{u}"


def number_fr(x: float) -> str:
    """12.5 → "12,5"; 30.0 → "30"."""
    return (f"{x:g}").replace(".", ",")


class Occurrences(_Frozen):
    """At least `min` and at most `max` occurrences (distinct days) in the window. `max: 0` is
    "none in the window"."""

    min: int = Field(1, ge=0)
    max: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _order(self) -> Occurrences:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"nombre d'occurrences impossible : min {self.min} > max {self.max}")
        if self.min == 0 and self.max is None:
            raise ValueError("min 0 sans max ne sélectionne rien de particulier : donnez max "
                             "(max 0 = aucune occurrence)")
        return self


# --- leaves ------------------------------------------------------------------------------------


class _Rule(_Frozen):
    label: str | None = Field(None, description="French label of the rule in the attrition "
                              "table (default: generated from the rule).")


class Demographics(_Rule):
    type: Literal["demographics"]
    age_min: int | None = Field(None, ge=0, le=MAX_AGE, description="Age in completed years at "
                                "the index date, at least.")
    age_max: int | None = Field(None, ge=0, le=MAX_AGE, description="At most.")
    sex: Literal["F", "M"] | None = None
    regions: tuple[str, ...] = Field((), description="INSEE region codes of the practice.")

    @model_validator(mode="after")
    def _check(self) -> Demographics:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError(f"tranche d'âge impossible : age_min {self.age_min} > age_max "
                             f"{self.age_max}")
        if (self.age_min is None and self.age_max is None and self.sex is None
                and not self.regions):
            raise ValueError("règle démographique vide : donnez un âge, un sexe ou une région")
        return self

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for r in v:
            if not re.fullmatch(r"[0-9]{2}", r):
                raise ValueError(f"code région INSEE invalide « {r} » (2 chiffres, ex. 93)")
        return v


class CodeRange(_Frozen):
    """ICPC-2 codes of one chapter from `from` to `to` by number (`T89`–`T90`)."""

    from_: str = Field(alias="from")
    to: str

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _check(self) -> CodeRange:
        for c in (self.from_, self.to):
            if not _ICPC.match(c):
                raise ValueError(f"« {c} » n'est pas un code CISP-2 (lettre + 2 chiffres)")
        if self.from_[0] != self.to[0] or self.from_ > self.to:
            raise ValueError(f"plage impossible {self.from_}–{self.to} : même chapitre, début ≤ "
                             "fin")
        return self


class Condition(_Rule):
    """ICPC-2 codes recorded as a problem's reason, result or procedure, or as an antecedent."""

    type: Literal["condition"]
    codes: tuple[str, ...] = ()
    chapters: tuple[str, ...] = ()
    ranges: tuple[CodeRange, ...] = ()
    origins: tuple[Literal["reason", "result", "procedure", "antecedent"], ...] = DEFAULT_ORIGINS
    window: Window | None = None
    occurrences: Occurrences = Occurrences()

    @field_validator("codes")
    @classmethod
    def _codes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from p4dp.terminology import icpc2

        for c in v:
            if not icpc2.is_valid(c) or c == icpc2.NO_CODE:
                hint = icpc2.canonical(c)
                tip = f" (vouliez-vous {hint} ?)" if hint and hint != c else ""
                raise ValueError(f"code CISP-2 inconnu « {c} »{tip}")
        return v

    @field_validator("chapters")
    @classmethod
    def _chapters(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from p4dp.terminology.icpc2 import CHAPTERS

        for c in v:
            if len(c) != 1 or c not in CHAPTERS:
                raise ValueError(f"chapitre CISP-2 inconnu « {c} » (une lettre parmi {CHAPTERS})")
        return v

    @model_validator(mode="after")
    def _some(self) -> Condition:
        if not (self.codes or self.chapters or self.ranges):
            raise ValueError("donnez au moins un code, un chapitre ou une plage CISP-2")
        if not self.origins:
            raise ValueError("origins vide : reason, result, procedure ou antecedent")
        return self

    def code_set(self) -> tuple[str, ...]:
        """Every concrete code the rule names, sorted."""
        return expand_codes(self.codes, self.chapters,
                            tuple((r.from_, r.to) for r in self.ranges))


@lru_cache(maxsize=256)
def expand_codes(codes: tuple[str, ...], chapters: tuple[str, ...],
                 ranges: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    from p4dp.terminology import icpc2

    known = icpc2.load().column("code").to_pylist()
    out = set(codes)
    out |= {c for c in known if c[0] in chapters}
    for lo, hi in ranges:
        out |= {c for c in known if lo <= c <= hi}
    return tuple(sorted(out))


class Lab(_Rule):
    """Lab results of one exam (terminology exam code). With a comparison, `which` says how the
    results of the window are judged: `any` (occurrences of a result meeting it), `latest` (the
    latest result meets it) or `share` (at least `min_share_percent` of them meet it)."""

    type: Literal["lab"]
    exam: str = Field(description="Exam code of p4dp/terminology/data/labs_fr.csv (HBA1C, INR …).")
    compare: Comparison | None = None
    unit: str | None = Field(None, description="Unit of the thresholds (default: the exam's "
                             "canonical unit); converted to the canonical unit.")
    which: Literal["any", "latest", "share"] = "any"
    min_share_percent: float | None = Field(None, gt=0, le=100)
    window: Window | None = None
    occurrences: Occurrences = Occurrences()

    @field_validator("exam")
    @classmethod
    def _exam(cls, v: str) -> str:
        if v not in exam_units():
            raise ValueError(f"code d'examen inconnu « {v} » (colonne exam_code de "
                             "p4dp/terminology/data/labs_fr.csv, ex. HBA1C, INR)")
        return v

    @model_validator(mode="after")
    def _check(self) -> Lab:
        if (self.which == "share") != (self.min_share_percent is not None):
            raise ValueError("which « share » va avec min_share_percent, et seulement lui")
        if self.which != "any" and self.compare is None:
            raise ValueError(f"which « {self.which} » demande une comparaison (compare)")
        if self.unit is not None and self.compare is None:
            raise ValueError("unit sans comparaison : retirez unit ou ajoutez compare")
        return self

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str | None, info: ValidationInfo) -> str | None:
        exam = info.data.get("exam")
        if v is None or exam is None:
            return v
        from p4dp.terminology import labs

        try:
            labs.convert(exam, [0.0], v, exam_units()[exam])
        except ValueError:
            raise ValueError(f"unité « {v} » inconnue pour l'examen {exam} (unité de "
                             f"référence : {exam_units()[exam]})") from None
        return v

    def canonical_compare(self) -> Comparison | None:
        """The comparison in the exam's canonical unit (stored values are in it)."""
        if self.compare is None or self.unit is None:
            return self.compare
        from p4dp.terminology import labs

        c = self.compare
        vals = [v for v in (c.value, c.low, c.high) if v is not None]
        conv = labs.convert(self.exam, vals, self.unit, exam_units()[self.exam]).to_pylist()
        conv = [round(v, 6) for v in conv]
        if c.op in ("between", "outside"):
            return Comparison(op=c.op, low=conv[0], high=conv[1])
        return Comparison(op=c.op, value=conv[0])


@lru_cache(maxsize=1)
def exam_units() -> dict[str, str]:
    from p4dp.terminology import labs

    t = labs.exams()
    return dict(zip(t["exam_code"].to_pylist(), t["canonical_unit"].to_pylist()))


class Drug(_Rule):
    """Prescriptions whose ATC code starts with one of `atc` (any level: `A10BA`, `B01AA`),
    optionally with at least `min_days` of treatment prescribed in the window (sum of
    `duration_days`; a line without a duration counts for none)."""

    type: Literal["drug"]
    atc: tuple[str, ...] = Field(min_length=1)
    window: Window | None = None
    min_days: int | None = Field(None, ge=1, le=MAX_WINDOW_DAYS)
    occurrences: Occurrences = Occurrences()

    @field_validator("atc")
    @classmethod
    def _atc(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for a in v:
            if not _ATC_PREFIX.match(a):
                raise ValueError(f"préfixe ATC invalide « {a} » (ex. A10BA, B01AA, C10)")
        return v


class Biometric(_Rule):
    """Biometric readings of one kind; `bmi` is recomputed from same-day weight and height."""

    type: Literal["biometric"]
    #: "bmi" is recomputed from same-day weight and height, never the recorded BMI (DOMAIN.md §3)
    kind: Literal[BIOMETRIC_KINDS]  # type: ignore[valid-type]
    compare: Comparison
    which: Literal["any", "latest"] = "latest"
    window: Window | None = None
    occurrences: Occurrences = Occurrences()


class ChildWeight(_Rule):
    """Children 6–15 whose BMI (same-day weight and height) reaches the IOTF-25 curve
    (`overweight`, obesity included) or IOTF-30 (`obese`) at their exact age (Cole et al., BMJ
    2000; DOMAIN.md §3)."""

    type: Literal["child_weight"]
    status: Literal["overweight", "obese"]
    which: Literal["any", "latest"] = "latest"
    window: Window | None = None


class Vaccination(_Rule):
    """Doses covering every valence in `valences` (p4dp.terminology.vaccines notation)."""

    type: Literal["vaccination"]
    valences: tuple[str, ...] = Field(min_length=1)
    window: Window | None = None
    occurrences: Occurrences = Occurrences()

    @field_validator("valences")
    @classmethod
    def _valences(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from p4dp.terminology.vaccines import VALENCES

        for x in v:
            if x not in VALENCES:
                raise ValueError(f"valence inconnue « {x} » (notation de "
                                 "p4dp.terminology.vaccines : grippe, d, T, P, ROR …)")
        return v


class History(_Rule):
    """History mentions (the seed's Historique): kind, status, optionally a word in the label."""

    type: Literal["history"]
    kind: Literal[HISTORY_KINDS]  # type: ignore[valid-type]
    statuses: tuple[Literal[HISTORY_STATUSES], ...] = ("yes",)  # type: ignore[valid-type]
    label_contains: str | None = Field(None, min_length=2)
    window: Window | None = None


# --- groups ------------------------------------------------------------------------------------


class AllOf(_Rule):
    type: Literal["all"]
    rules: tuple[Rule, ...] = Field(min_length=1)


class AnyOf(_Rule):
    type: Literal["any"]
    rules: tuple[Rule, ...] = Field(min_length=1)


class Not(_Rule):
    type: Literal["not"]
    rule: Rule


Rule = Annotated[Union[Demographics, Condition, Lab, Drug, Biometric, ChildWeight, Vaccination,
                       History, AllOf, AnyOf, Not], Field(discriminator="type")]

for _m in (AllOf, AnyOf, Not):
    _m.model_rebuild()


class Cohort(_Frozen):
    """A cohort definition: rules combined by AND, in the order of the attrition table."""

    schema_: Literal["p4dp.cohort/1"] = Field(SCHEMA_ID, alias="schema")
    name: str = Field(min_length=1, max_length=120, pattern=r"^[a-z0-9][a-z0-9_\-]*$",
                      description="Identifier (lower case, digits, - and _).")
    title_fr: str = Field(min_length=1)
    description: str | None = None
    version: int = Field(1, ge=1, description="Revision of this definition.")
    index_date: dt.date | None = Field(None, description="Date the rules are judged at "
                                       "(default: the day of the query).")
    rules: tuple[Rule, ...] = Field(min_length=1)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2) + "\n"

    def as_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True,
                               exclude_defaults=False)

    def semantic_hash(self) -> str:
        """Hash of what the definition selects (its rules and index date), not of its name,
        title or revision: two definitions with the same hash count the same patients."""
        body = {"index_date": self.as_dict().get("index_date"),
                "rules": self.as_dict()["rules"]}
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class CriteriaError(ValueError):
    """A criteria file that does not match the schema or names an unknown code; the message
    names each faulty field by its JSON pointer."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source} : définition de cohorte invalide"]
        lines += [f"  {ptr or '/'} : {msg}" for ptr, msg in problems]
        lines.append("Corrigez ces champs (schéma : p4dp cohort schema, ou "
                     "docs/cohorts.md).")
        super().__init__("\n".join(lines))


def _pointer(loc: tuple) -> str:
    # pydantic inserts the discriminator value ("lab") and model names in locations of unions;
    # a JSON pointer names only keys and indexes of the document
    parts = []
    for p in loc:
        if isinstance(p, str) and (p in _UNION_TAGS or p.startswith("function-")):
            continue
        parts.append(str(p).replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts) if parts else ""


_UNION_TAGS = frozenset({"demographics", "condition", "lab", "drug", "biometric", "child_weight",
                         "vaccination", "history", "all", "any", "not"})


def _message(err: dict) -> str:
    msg = err["msg"]
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    kind = err["type"]
    if kind == "missing":
        return "champ obligatoire manquant"
    if kind == "extra_forbidden":
        return "champ inconnu (voir le schéma)"
    if kind == "union_tag_invalid":
        return (f"type de règle inconnu {err.get('input', {}).get('type')!r} : demographics, "
                "condition, lab, drug, biometric, child_weight, vaccination, history, all, any, "
                "not")
    if kind == "union_tag_not_found":
        return "chaque règle a un champ « type »"
    if kind == "literal_error":
        return f"valeur {err.get('input')!r} non admise ({msg})"
    return f"{msg} (reçu {err.get('input')!r})" if "input" in err else msg


def parse(data: dict | str | bytes, source: str = "<définition>") -> Cohort:
    """A Cohort from its JSON form (dict or text); CriteriaError names every faulty field."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as e:
            raise CriteriaError(source, [("", f"JSON illisible ligne {e.lineno} colonne "
                                              f"{e.colno} : {e.msg}")]) from None
    if not isinstance(data, dict):
        raise CriteriaError(source, [("", "un objet JSON est attendu")])
    try:
        return Cohort.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        # a list whose items failed is also reported "too short": keep the items' own errors
        errors = [err for err in errors if not (err["type"] == "too_short" and any(
            o is not err and o["loc"][:len(err["loc"])] == err["loc"] for o in errors))]
        problems = [(_pointer(err["loc"]), _message(err)) for err in errors]
        raise CriteriaError(source, problems) from None


def load(path) -> Cohort:
    """Read a criteria file."""
    from pathlib import Path

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CriteriaError(str(path), [("", f"fichier illisible : {e.strerror}")]) from None
    return parse(text, str(path))


def json_schema() -> dict:
    """The JSON Schema of the definition format (committed as cohort.schema.json)."""
    schema = TypeAdapter(Cohort).json_schema(by_alias=True)
    schema["$id"] = "https://p4dp.fr/schemas/p4dp.cohort-1.schema.json"
    schema["title"] = "Définition de cohorte P4DP (p4dp.cohort/1)"
    return schema


#: The committed JSON Schema (a test checks that it equals `json_schema()`).
SCHEMA_FILE = "cohort.schema.json"


def schema_path():
    from pathlib import Path

    return Path(__file__).with_name(SCHEMA_FILE)
