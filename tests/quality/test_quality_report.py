"""Report structure, thresholds, quarantine schema, HTML page, storage and trends, CLI."""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb
import pytest

from p4dp.cdm import table as cdm_table
from p4dp.quality import load_reports, render_html, save_report, trends
from p4dp.quality.store import purge_patient

D = dt.date(2024, 3, 1)


def _batch(qb, n_good: int = 99, n_bad: int = 1, batch_id: str = "b1"):
    from p4dp.quality import check_batch

    rows = [qb.bio(f"g{i}", "p1", D + dt.timedelta(days=i), "weight", 70.0) for i in range(n_good)]
    rows += [qb.bio(f"x{i}", "p1", D + dt.timedelta(days=i), "heart_rate", 900.0)
             for i in range(n_bad)]
    tables = qb.build(patient=[qb.valid_row("patient")], biometric=rows)
    return check_batch(tables, as_of=qb.AS_OF, batch_id=batch_id, source_id=qb.SRC)


def test_report_has_every_field_per_check(qb):
    out = _batch(qb)
    report = json.loads(json.dumps(out.report))  # JSON-able
    c = report["checks"]["plausibility.range.biometric.heart_rate"]
    assert set(c) >= {"table", "field", "category", "level", "threshold", "rows_checked",
                      "violations", "pct", "passed", "examples", "description_fr",
                      "description_en", "source", "action"}
    assert (c["table"], c["field"], c["category"], c["level"]) == (
        "biometric", "value", "plausibility", "value")
    assert c["violations"] == 1 and c["examples"] == [
        {"row_key": "arm_bx0", "field": "value", "value": 900.0, "patient_id": "arm_p1",
         "kind": "heart_rate"}]
    s = report["summary"]
    assert (s["rows_in"], s["rows_loaded"], s["rows_quarantined"]) == (101, 100, 1)
    assert report["batch_id"] == "b1" and report["source_id"] == "arm"
    assert report["as_of"] == "2026-11-01"


def test_check_passes_under_its_threshold_and_fails_over_it(qb):
    # heart-rate range: threshold 1 % of the rows checked.
    ok = _batch(qb, n_good=199, n_bad=1).report["checks"]["plausibility.range.biometric.heart_rate"]
    ko = _batch(qb, n_good=97, n_bad=3).report["checks"]["plausibility.range.biometric.heart_rate"]
    assert (ok["pct"], ok["passed"]) == (0.5, True)
    assert (ko["pct"], ko["passed"]) == (3.0, False)
    assert "plausibility.range.biometric.heart_rate" in _batch(qb, 97, 3).report["summary"][
        "failed_checks"]


def test_examples_are_capped_at_five(qb):
    c = _batch(qb, n_good=5, n_bad=12).report["checks"]["plausibility.range.biometric.heart_rate"]
    assert c["violations"] == 12 and len(c["examples"]) == 5


def test_quarantine_has_the_central_schema_unique_ids_and_readable_reasons(qb):
    out = _batch(qb, n_good=3, n_bad=3)
    q = out.quarantine
    assert q.schema.equals(cdm_table("quarantine").arrow_schema("central"))
    assert len(set(q.column("quarantine_id").to_pylist())) == 3
    assert set(q.column("patient_id").to_pylist()) == {"arm_p1"}
    assert set(q.column("batch_id").to_pylist()) == {"b1"}
    reason = q.column("reason")[0].as_py()
    assert "biometric.value" in reason and "arm_bx0" in reason
    assert json.loads(q.column("record")[0].as_py())["value"] == 900.0
    assert out.quarantined_count == 3


def test_nothing_is_silently_dropped(qb):
    out = _batch(qb, n_good=40, n_bad=7)
    assert out.tables["biometric"].num_rows + out.quarantine.num_rows == 47


def test_html_page_is_french_self_contained_and_escaped(qb):
    from p4dp.quality import check_batch

    rows = [qb.bio("1", "p1", D, "weight", None, "<script>alert(1)</script>")]
    out = check_batch(qb.build(patient=[qb.valid_row("patient")], biometric=rows),
                      as_of=qb.AS_OF, batch_id="b<1>", source_id=qb.SRC)
    page = render_html(out.report)
    assert page.startswith("<!DOCTYPE html>") and 'lang="fr"' in page
    assert "Rapport qualité du lot" in page and "Contrôles échoués" in page
    assert "conformance.value.biometric" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)


def test_reports_are_stored_replaced_on_rerun_and_trended(qb):
    con = duckdb.connect()
    for i, bad in enumerate((1, 4, 2)):
        out = _batch(qb, n_good=100 - bad, n_bad=bad, batch_id=f"b{i}")
        out.report["created_at"] = f"2026-11-0{i + 1}T10:00:00"
        save_report(con, out.report)
    save_report(con, out.report)  # same batch again: replaced, not duplicated
    stored = load_reports(con, source_id="arm")
    assert [r["batch_id"] for r in stored] == ["b0", "b1", "b2"]
    assert load_reports(con, batch_id="b1")[0]["checks"] == json.loads(json.dumps(
        stored[1]["checks"]))
    assert load_reports(con, source_id="med") == []
    series = trends(con, "arm")["plausibility.range.biometric.heart_rate"]
    assert [p["pct"] for p in series] == [1.0, 4.0, 2.0]
    page = render_html(stored[-1], stored)
    assert "<svg" in page and "Évolution sur 3 lots" in page


def test_load_reports_on_a_warehouse_without_reports_is_empty():
    assert load_reports(duckdb.connect()) == []


def test_withdrawn_patient_examples_are_purged_from_stored_reports(qb):
    con = duckdb.connect()
    save_report(con, _batch(qb).report)
    assert purge_patient(con, "arm_p1") == 1
    assert "arm_p1" not in json.dumps(load_reports(con))


def test_save_report_rejects_a_report_without_batch(qb):
    with pytest.raises(ValueError, match="batch_id"):
        save_report(duckdb.connect(), {"source_id": "arm", "created_at": "2026-01-01T00:00:00"})


def test_cli_quality_report_prints_and_writes_html(qb, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from p4dp import settings as settings_mod
    from p4dp.cli import app

    monkeypatch.setenv("P4DP_HOME", str(tmp_path))
    monkeypatch.setenv("P4DP_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("COLUMNS", "200")
    settings_mod.get_settings.cache_clear()
    try:
        runner = CliRunner()
        res = runner.invoke(app, ["quality", "report"])
        assert res.exit_code != 0 and "aucun" in res.output
        con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
        save_report(con, _batch(qb, n_good=10, n_bad=2, batch_id="arm-1").report)
        con.close()
        page = tmp_path / "q.html"
        res = runner.invoke(app, ["quality", "report", "--batch", "arm-1", "--html", str(page)])
        assert res.exit_code == 0, res.output
        assert "arm-1" in res.output and "plausibility.range.biometric.heart_rate" in res.output
        assert "Rapport qualité" in page.read_text(encoding="utf-8")
    finally:
        settings_mod.get_settings.cache_clear()


def test_withdrawn_practitioner_examples_are_purged_by_pseudonym_of_row_or_value(qb):
    from p4dp.quality import purge_examples

    con = duckdb.connect()
    enc = qb.encounter("1", "p1", D, practitioner_id="gp-without-prefix")
    out = qb.run(patient=[qb.valid_row("patient")], encounter=[enc])
    save_report(con, out.report)
    assert "gp-without-prefix" in json.dumps(load_reports(con))
    assert purge_examples(con, ["gp-without-prefix"]) == 1
    assert "gp-without-prefix" not in json.dumps(load_reports(con)[0]["checks"])
