"""`p4dp indicators` commands, the generated docs page, and the library's own consistency."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from analytics_tables import PRACTICES, PRACTITIONERS, build_warehouse, patient
from typer.testing import CliRunner

from p4dp.analytics.docs import render_markdown
from p4dp.analytics.library import all_indicators
from p4dp.cli import app
from p4dp.settings import get_settings

D = dt.date
ROOT = Path(__file__).resolve().parents[2]


def test_docs_page_is_up_to_date():
    page = ROOT / "docs" / "indicators.md"
    assert page.read_text(encoding="utf-8") == render_markdown(), (
        "docs/indicators.md is stale: run `p4dp indicators docs`")


def test_every_indicator_is_documented_with_rule_and_source():
    page = render_markdown()
    for ind in all_indicators().values():
        assert ind.rule and ind.source and ind.description, ind.name
        assert f"`{ind.name}`" in page


@pytest.fixture
def cli_wh(tmp_path, monkeypatch):
    path = tmp_path / "wh.duckdb"
    encounters = [{"encounter_id": f"e{i}", "patient_id": f"p{i % 14}",
                   "practitioner_id": "arm_g1" if i % 14 < 12 else "arm_g2",
                   "date": D(2024, 1, 1) + dt.timedelta(days=i), "kind": "cabinet"}
                  for i in range(40)]
    build_warehouse(path, {
        "practice": PRACTICES, "practitioner": PRACTITIONERS,
        "patient": [patient(f"p{i}", "F" if i < 12 else "M", 1970, 1,
                            gp="arm_g1" if i < 12 else "arm_g2") for i in range(14)],
        "encounter": encounters,
    }).backend.disconnect()
    monkeypatch.setenv("P4DP_WAREHOUSE_PATH", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def run_json(*args):
    r = CliRunner().invoke(app, ["indicators", "run", *args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_cli_run_protects_small_cells_for_a_researcher(cli_wh):
    p = run_json("general_consultations_per_type", "--sex", "M", "--as", "researcher")
    # 2 male patients, 4 consultations: both counts are small cells
    assert p["rows"] == [["cabinet", None, None]]
    assert p["disclosure"]["applied"] is True


def test_cli_run_gives_a_gp_exact_values_for_their_own_patients(cli_wh):
    p = run_json("general_consultations", "--practitioner", "arm_g2", "--as", "gp")
    assert p["rows"] == [[4, 2]]
    other = run_json("general_consultations", "--practitioner", "arm_g1", "--as", "gp",
                     "--me", "arm_g2")
    assert other["disclosure"]["applied"] is True
    assert other["rows"] == [[40, 15]]  # 36 and 12, rounded up to 5


def test_cli_refuses_a_line_list_to_a_researcher_but_runs_the_rest(cli_wh):
    p = run_json("surpoids_line_list", "general_doctors", "--as", "researcher")
    assert p[0]["refused"] and p[0]["rows"] == []
    assert p[1]["indicator"] == "general_doctors"


def test_cli_errors_speak_to_the_user(cli_wh):
    r = CliRunner().invoke(app, ["indicators", "run", "nope", "--json"])
    assert r.exit_code == 2 and "indicateur inconnu" in r.output
    r = CliRunner().invoke(app, ["indicators", "run", "general_consultations", "--from",
                                 "31/01/2024"])
    assert r.exit_code == 2 and "AAAA-MM-JJ" in r.output
    r = CliRunner().invoke(app, ["indicators", "run", "--practice", "p1", "--region", "93"])
    assert r.exit_code == 2


def test_cli_list_names_every_indicator():
    r = CliRunner().invoke(app, ["indicators", "list"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    for name in all_indicators():
        assert name in r.output


def test_a_refused_line_list_is_never_queried(monkeypatch):
    from p4dp.analytics import runner
    from p4dp.privacy.disclosure import Requester

    def boom(wh, inds, *a, **k):
        if inds:
            raise AssertionError(f"queried: {[i.name for i in inds]}")
        return []

    monkeypatch.setattr(runner, "run_indicators", boom)
    (p,) = runner.run_protected(None, ["surpoids_line_list"], Requester("gp", "arm_g2"),
                                runner.Scope("practitioner", "arm_g1"))
    assert p["refused"] and p["rows"] == []
