"""`p4dp logbook demo` and `p4dp logbook load` on a hand-made warehouse (SQLite store in HOME)."""

from __future__ import annotations

import duckdb
from logbook_helpers import build_warehouse
from typer.testing import CliRunner

from p4dp.logbook.commands import app
from p4dp.settings import get_settings


def test_demo_then_load(tmp_path, monkeypatch):
    build_warehouse(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("P4DP_HOME", str(tmp_path))
    monkeypatch.delenv("P4DP_DATABASE_URL", raising=False)
    monkeypatch.delenv("P4DP_WAREHOUSE_PATH", raising=False)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["demo", "--interns", "3", "--seed", "3"])
        assert r.exit_code == 0, r.output
        assert "pour 3 internes (2 maîtres de stage, 2 départements)" in r.output
        assert "Mot de passe des nouveaux comptes" in r.output
        r = runner.invoke(app, ["load"])
        assert r.exit_code == 0, r.output
        con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
        n = con.sql("select count(*) from logbook_entry").fetchone()[0]
        con.close()
        assert f"logbook_entry : {n} lignes" in r.output and n > 0
    finally:
        get_settings.cache_clear()


def test_demo_without_warehouse_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("P4DP_HOME", str(tmp_path))
    monkeypatch.delenv("P4DP_DATABASE_URL", raising=False)
    monkeypatch.delenv("P4DP_WAREHOUSE_PATH", raising=False)
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["demo"])
        assert r.exit_code == 2 and "p4dp demo" in r.output
    finally:
        get_settings.cache_clear()
