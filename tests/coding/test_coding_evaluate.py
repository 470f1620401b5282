"""`p4dp coding evaluate`: figures on a tiny hand-made CSV whose answers are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from p4dp.coding.evaluate import EvaluationFileError, evaluate_csv

# Expected coder outputs, each checked elsewhere: HTA -> K86, otite -> H71, ECG -> K42,
# "pas de fièvre" -> _, "xkcd qwerty" -> _.
TINY = """text,field,gold,acceptable
HTA,resultat,K86,
otite,resultat,H72,H71
otite,motif,H72,
ECG,procedure,K42,
pas de fièvre,motif,_,
xkcd qwerty,motif,R05,
HTA,reason,T90,
"""


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.csv"
    path.write_text(TINY, encoding="utf-8")
    return path


def test_figures_on_a_tiny_csv(tiny: Path) -> None:
    r = evaluate_csv(tiny, min_confidence=0.5)
    assert r["n"] == 7
    # Coded: HTA, otite, otite, ECG, HTA (5 of 7); abstained: "pas de fièvre", "xkcd qwerty".
    assert r["coverage"] == round(5 / 7, 4)
    # Right: HTA K86, otite H71 (acceptable), ECG, abstention on gold "_" (4 of 7).
    assert r["accuracy"] == round(4 / 7, 4)
    assert r["accuracy_when_coded"] == round(3 / 5, 4)
    # Codable rows (gold not "_"): 6, of which 5 coded ("xkcd qwerty" abstained).
    assert r["coverage_of_codable"] == round(5 / 6, 4)


def test_per_chapter_figures_use_the_gold_chapter(tiny: Path) -> None:
    chapters = evaluate_csv(tiny, min_confidence=0.5)["per_chapter"]
    assert chapters["K"] == {"n": 2, "coverage": 1.0, "accuracy": 1.0, "accuracy_when_coded": 1.0,
                             "coverage_of_codable": 1.0}
    assert chapters["H"]["n"] == 2 and chapters["H"]["accuracy"] == 0.5
    assert chapters["_"] == {"n": 1, "coverage": 0.0, "accuracy": 1.0, "accuracy_when_coded": None,
                             "coverage_of_codable": None}
    assert chapters["R"]["accuracy"] == 0.0
    assert chapters["T"]["accuracy_when_coded"] == 0.0


def test_errors_name_the_line_and_what_the_coder_said(tiny: Path) -> None:
    errors = evaluate_csv(tiny, min_confidence=0.5)["errors"]
    assert [e["line"] for e in errors] == [4, 7, 8]
    assert errors[0]["code"] == "H71" and errors[0]["gold"] == "H72"


def test_missing_column_is_reported_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("texte,champ\nHTA,motif\n", encoding="utf-8")
    with pytest.raises(EvaluationFileError, match=r"bad.csv ligne 1 .*text, field, gold"):
        evaluate_csv(bad)


def test_unknown_field_is_reported_with_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,field,gold\nHTA,motif,K86\nHTA,diagnostic principal,K86\n", encoding="utf-8")
    with pytest.raises(EvaluationFileError, match="ligne 3, colonne field"):
        evaluate_csv(bad)


def test_cli_prints_json(tiny: Path) -> None:
    from p4dp.cli import app

    res = CliRunner().invoke(app, ["coding", "evaluate", str(tiny), "--errors", "--min-confidence", "0.5"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout[res.stdout.index("{"):])
    assert report["n"] == 7 and len(report["errors"]) == 3
    res = CliRunner().invoke(app, ["coding", "evaluate", str(tiny), "--min-confidence", "0.5"])
    report = json.loads(res.stdout[res.stdout.index("{"):])
    assert "errors" not in report and report["n_errors"] == 3


def test_cli_explains_one_text() -> None:
    from p4dp.cli import app

    res = CliRunner().invoke(app, ["coding", "text", "HTA + DT2", "--field", "resultat"])
    assert res.exit_code == 0, res.output
    assert "K86" in res.stdout and "T90" in res.stdout
