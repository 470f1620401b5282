"""`p4dp surveillance` commands, run with Typer's CliRunner on the `app` of commands.py."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from p4dp.reference import path as reference_path
from p4dp.surveillance.commands import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_settings():
    """Settings are read once per process (cached): re-read them around each test."""
    from p4dp.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def env(seasonal_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("P4DP_WAREHOUSE_PATH", str(seasonal_copy))
    monkeypatch.setenv("P4DP_HOME", str(tmp_path / "home"))
    return tmp_path


def test_run_then_alerts_then_run_again(env):
    first = runner.invoke(app, ["run"])
    assert first.exit_code == 0, first.output
    assert "Surveillance recalculée" in first.output and "nouvelles" in first.output
    again = runner.invoke(app, ["run"])
    assert "0 nouvelles, 0 mises à jour, 0 retirées" in again.output
    listed = runner.invoke(app, ["alerts", "--syndrome", "grippe", "--region", "93",
                                 "--since", "2023-W01"])
    assert listed.exit_code == 0
    alerts = [json.loads(line) for line in listed.output.splitlines()]
    assert alerts and all(a["region"] == "93" and a["week"] >= "2023-W01" for a in alerts)
    assert {a["level_label"] for a in alerts} <= {"Épidémie", "Dépassement du seuil"}


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_bulletin_is_written_in_french(env, fmt):
    out = env / "bulletins"
    res = runner.invoke(app, ["bulletin", "--week", "2023-W06", "--out", str(out),
                              "--format", fmt])
    assert res.exit_code == 0, res.output
    path = out / f"bulletin-2023-W06.{fmt}"
    assert path.is_file() and not list(out.glob("*.part"))
    if fmt == "pdf":
        assert path.read_bytes().startswith(b"%PDF")
        return
    html = path.read_text(encoding="utf-8")
    assert "Bulletin de surveillance P4DP — semaine 2023-W06" in html
    assert "du 06/02/2023 au 12/02/2023" in html
    assert "Syndrome grippal" in html and "<svg" in html
    assert "Provence-Alpes-Côte d&#39;Azur" in html or "Provence-Alpes-Côte d'Azur" in html
    assert "Épidémie" in html  # the winter wave of the big region
    assert "&lt; 11" in html  # small counts of the small region are masked
    assert "Serfling" in html and "Secret statistique" in html


def test_bulletin_refuses_a_bad_week_and_format(env):
    res = runner.invoke(app, ["bulletin", "--week", "2023-06", "--out", str(env)])
    assert res.exit_code == 2 and "2024-W05" in res.output
    res = runner.invoke(app, ["bulletin", "--week", "2023-W06", "--format", "docx",
                              "--out", str(env)])
    assert res.exit_code == 2 and "html ou pdf" in res.output


def test_missing_warehouse_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("P4DP_WAREHOUSE_PATH", str(tmp_path / "none.duckdb"))
    res = runner.invoke(app, ["run"])
    assert res.exit_code == 2 and "p4dp demo" in res.output


def test_detect_prints_one_json_object_per_epidemic():
    res = runner.invoke(app, ["detect", "--sentinelles",
                              str(reference_path("sentinelles_ili_fr.csv"))])
    assert res.exit_code == 0
    found = [json.loads(line) for line in res.output.splitlines()]
    assert len(found) >= 36
    assert {"start_week", "end_week", "peak_week", "peak_incidence"} <= set(found[0])
