"""The check registry: every check and repair, in the order they run, per table.

Checks run in sequence on each table: a row quarantined by one check is not seen by the next, so
a rejected row is quarantined once, with the first check that rejected it. Tables run in the CDM's
load order (patients before their readings, whose ages need them).
"""

from __future__ import annotations

from functools import lru_cache

from p4dp.cdm import CLINICAL_TABLES, table as cdm_table
from p4dp.quality import biometrics, checks, labs
from p4dp.quality.constants import LAB_RANGES
from p4dp.quality.model import Check, Repair, Step

#: Columns whose emptiness weakens the indicators (ages, sexes) without making the row unusable.
RECOMMENDED = {"patient": ("sex", "birth_year", "birth_month")}
#: Dates that must not lie in the future, per table (beyond the clinical event dates).
OTHER_DATES = {"patient": ("death_date", "registered_on")}


@lru_cache(maxsize=None)
def steps_for(name: str) -> tuple[Step, ...]:
    spec = cdm_table(name)
    out: list[Step] = [checks.columns_check(name), checks.type_check(name),
                       checks.date_parse_check(name)]
    for c in spec.central_columns():
        if not c.nullable and c.name != "batch_id":
            out.append(checks.required_check(name, c.name))
    out += [checks.id_format_check(name), checks.source_check(name)]
    for c in spec.central_columns():
        if c.allowed:
            out.append(checks.allowed_check(name, c.name, c.allowed))
    pseudonyms = ((spec.patient_column,) if spec.patient_column else ()) + spec.practitioner_columns
    for column in pseudonyms:
        out.append(checks.pseudonym_prefix_check(name, column))
    out.append(checks.duplicate_id_check(name))
    if name in checks.CONTENT_DUPLICATE_TABLES:
        out.append(checks.duplicate_row_check(name))
    for column in RECOMMENDED.get(name, ()):
        out.append(checks.recommended_check(name, column))
    if name == "patient":
        out += [checks.birth_month_check(), checks.birth_year_check("patient"),
                checks.death_before_birth_check()]
    if name == "practitioner":
        out.append(checks.birth_year_check("practitioner"))
    if spec.patient_column and name != "patient":
        out.append(checks.patient_known_check(name))
    for column in (*OTHER_DATES.get(name, ()),
                   *((checks.EVENT_DATES[name],) if name in checks.EVENT_DATES else ())):
        out.append(checks.future_date_check(name, column))
    if name in checks.EVENT_DATES:
        out.append(checks.before_birth_check(name, checks.EVENT_DATES[name]))
    if name in checks.AFTER_DEATH_TABLES:
        out.append(checks.after_death_check(name, checks.EVENT_DATES[name]))
    if name == "biometric":
        out += [
            biometrics.decimal_comma("biometric"),
            biometrics.SWAPPED_WEIGHT_HEIGHT,
            biometrics.HEIGHT_IN_METRES_RULE,
            biometrics.WEIGHT_IN_GRAMS_RULE,
            biometrics.HEIGHT_CHECK,
            biometrics.WEIGHT_CHECK,
            biometrics.WEIGHT_PAIR_CHECK,
            biometrics.BMI_RECOMPUTED,
            biometrics.BMI_CHECK,
            *(biometrics.vital_check(k) for k in biometrics.VITAL_RANGES),
            biometrics.VALUE_PARSEABLE,
        ]
    if name == "lab_result":
        out += [biometrics.decimal_comma("lab_result"), labs.VALUE_PARSEABLE,
                *(labs.range_check(e) for e in sorted({e for e, _ in LAB_RANGES}))]
    return tuple(out)


def all_checks() -> tuple[Check, ...]:
    return tuple(s for t in CLINICAL_TABLES for s in steps_for(t.name) if isinstance(s, Check))


def all_repairs() -> tuple[Repair, ...]:
    seen: dict[str, Repair] = {}
    for t in CLINICAL_TABLES:
        for s in steps_for(t.name):
            if isinstance(s, Repair):
                seen.setdefault(s.rule, s)
    return tuple(seen.values())


def check(check_id: str) -> Check:
    for c in all_checks():
        if c.id == check_id:
            return c
    raise KeyError(f"unknown check {check_id!r}; see `p4dp.quality.registry.all_checks()`")
