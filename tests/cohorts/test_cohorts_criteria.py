"""The criteria model: JSON form, committed JSON Schema, errors naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from p4dp.cohorts.criteria import (
    Cohort,
    CriteriaError,
    Window,
    add_months,
    json_schema,
    load,
    parse,
    schema_path,
)

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples" / "cohorts"


def minimal(*rules: dict, **extra) -> dict:
    return {"name": "essai", "title_fr": "Essai", "rules": list(rules), **extra}


def problems(data) -> list[tuple[str, str]]:
    with pytest.raises(CriteriaError) as e:
        parse(data, "criteres.json")
    assert "criteres.json" in str(e.value)
    return e.value.problems


def test_committed_schema_is_the_models_schema():
    committed = json.loads(schema_path().read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(json_schema(), ensure_ascii=False)), (
        "regenerate src/p4dp/cohorts/cohort.schema.json from criteria.json_schema()")
    kinds = {v["properties"]["type"]["const"] for k, v in committed["$defs"].items()
             if "type" in v.get("properties", {})}
    assert kinds == {"demographics", "condition", "lab", "drug", "biometric", "child_weight",
                     "vaccination", "history", "all", "any", "not"}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_parses_and_round_trips(path):
    cohort = load(path)
    again = parse(cohort.to_json())
    assert again == cohort
    assert again.semantic_hash() == cohort.semantic_hash()


def test_the_stored_form_carries_format_and_revision():
    c = parse(minimal({"type": "demographics", "age_min": 18}))
    stored = json.loads(c.to_json())
    assert stored["schema"] == "p4dp.cohort/1" and stored["version"] == 1


def test_name_title_and_revision_do_not_change_the_semantic_hash():
    rule = {"type": "condition", "codes": ["T90"]}
    a = parse(minimal(rule))
    b = parse({**minimal(rule), "name": "autre", "title_fr": "Autre", "version": 7})
    c = parse(minimal({**rule, "codes": ["T89"]}))
    assert a.semantic_hash() == b.semantic_hash() != c.semantic_hash()


def test_definitions_are_immutable():
    c = parse(minimal({"type": "demographics", "age_min": 18}))
    with pytest.raises(Exception):
        c.rules[0].age_min = 3  # type: ignore[misc]
    assert isinstance(c, Cohort)


def test_an_unknown_icpc2_code_names_its_json_pointer():
    p = problems(minimal({"type": "demographics", "age_min": 18},
                         {"type": "condition", "codes": ["T90", "T1O"]}))
    assert len(p) == 1 and p[0][0] == "/rules/1/codes"
    assert "code CISP-2 inconnu « T1O »" in p[0][1]


def test_an_impossible_window_names_the_window():
    p = problems(minimal({"type": "drug", "atc": ["A10BA"],
                          "window": {"from": "2026-01-01", "to": "2025-01-01"}}))
    assert p[0][0] == "/rules/0/window" and "impossible" in p[0][1]
    p = problems(minimal({"type": "drug", "atc": ["A10BA"], "window": {"days": 0}}))
    assert p[0][0] == "/rules/0/window/days"
    p = problems(minimal({"type": "drug", "atc": ["A10BA"], "window": {"days": 3, "months": 2}}))
    assert p[0][0] == "/rules/0/window" and "exactement une forme" in p[0][1]


def test_schema_violations_name_each_field():
    p = dict(problems({"name": "Pas Valide", "rules": [
        {"type": "lab", "exam": "HBA1X", "compare": {"op": ">", "value": 8}},
        {"type": "lab", "exam": "HBA1C", "compare": {"op": ">", "value": 64},
         "unit": "furlongs"},
        {"type": "nope"},
        {"type": "not", "rule": {"type": "vaccination", "valences": ["gripe"]}},
        {"type": "demographics", "age_min": 80, "age_max": 20},
        {"type": "drug", "atc": ["metformine"]},
        {"type": "condition", "codes": ["T90"], "colour": "red"},
    ]}))
    assert "title_fr" in "".join(p) or "/title_fr" in p
    assert "/name" in p
    assert "HBA1X" in p["/rules/0/exam"]
    assert "furlongs" in p["/rules/1/unit"]
    assert "nope" in p["/rules/2"]
    assert "gripe" in p["/rules/3/rule/valences"]
    assert "impossible" in p["/rules/4"]
    assert "metformine" in p["/rules/5/atc"]
    assert "inconnu" in p["/rules/6/colour"]


def test_unreadable_json_gives_line_and_column():
    p = problems('{"name": "x",\n "rules": [}')
    assert p[0][0] == "" and "ligne 2" in p[0][1]


def test_a_threshold_in_mmol_mol_is_converted_to_percent():
    c = parse(minimal({"type": "lab", "exam": "HBA1C", "unit": "mmol/mol",
                       "compare": {"op": ">", "value": 64}}))
    # IFCC–NGSP master equation: 64 mmol/mol = 64 / 10.929 + 2.15 = 8.006 %
    assert c.rules[0].canonical_compare().value == pytest.approx(8.006, abs=1e-3)


def test_windows_end_on_the_index_date():
    import datetime as dt

    d = dt.date(2026, 3, 31)
    assert Window(months=1).bounds(d) == (dt.date(2026, 2, 28), d)
    assert Window(days=365).bounds(d) == (dt.date(2025, 3, 31), d)
    assert Window(season="grippe").bounds(dt.date(2026, 11, 29)) == (
        dt.date(2026, 8, 31), dt.date(2026, 11, 29))
    assert Window(season="grippe").bounds(dt.date(2027, 1, 15))[0] == dt.date(2026, 8, 31)
    assert add_months(dt.date(2024, 2, 29), -12) == dt.date(2023, 2, 28)
