"""From a vendor export on disk to a bundle: readers, rejected rows, the CLI."""

import json

import pytest
from agent_fixture import IDENTIFIERS, staging_export
from typer.testing import CliRunner

from p4dp.agent import prepare, read_bundle, reidentify
from p4dp.cli import app
from p4dp.settings import get_settings
from test_agent_bundle import _all_strings, _fold

write_export = pytest.importorskip("p4dp.synth.writers").write_export

PATIENT_FILES = {"csv-fr": "patients.csv", "jsonl": "patients.jsonl",
                 "fhir": "bundles/patients.ndjson"}


def _export_with_a_rejected_patient(fmt, folder):
    """Rose Toux's own row gets an impossible birth date: the reader rejects it."""
    tables, _ = staging_export()
    write_export(fmt, tables, folder)
    path = folder / PATIENT_FILES[fmt]
    raw = path.read_bytes()
    for good, bad in ((b"12/03/1956", b"31/02/1956"), (b"1956-03-12", b"1956-02-31")):
        raw = raw.replace(good, bad, 1)
    path.write_bytes(raw)


@pytest.mark.parametrize("fmt", ["csv-fr", "jsonl", "fhir"])
def test_export_with_rejected_patient_row_leaks_nothing(fmt, settings, tmp_path):
    export = tmp_path / "export"
    _export_with_a_rejected_patient(fmt, export)
    path = prepare(export, fmt, "tst", "pr01", settings, tmp_path / "out")
    manifest, t = read_bundle(path)
    assert manifest["files"]["quarantine.parquet"]["rows"] >= 1
    assert "patient" in t["quarantine"]["table_name"].to_pylist()
    content = _all_strings(path)
    for ident in [*IDENTIFIERS, "31/02/1956", "1956-02-31", "Nice"]:
        assert _fold(ident) not in content, (fmt, ident)
    # Her clinical rows were still scrubbed with the identity read from the rejected record.
    assert "Mme [NOM] revue ce jour : rhinopharyngite, toux sèche" in \
        t["problem"]["result_text"].to_pylist()
    q = t["quarantine"].to_pylist()
    (rejected,) = [r for r in q if r["table_name"] == "patient"]
    assert rejected["patient_id"] in t["problem"]["patient_id"].to_pylist()
    assert rejected["row_key"] == rejected["patient_id"]
    record = json.loads(rejected["record"])
    assert "PAT-ROSE" not in rejected["record"] and "TOUX" not in rejected["record"]
    assert record  # what is left (sex, dates of the file, codes) still helps a data manager


def test_cli_prepares_a_bundle_and_reidentifies_at_the_practice(tmp_path, monkeypatch):
    monkeypatch.setenv("P4DP_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        tables, _ = staging_export()
        write_export("jsonl", tables, tmp_path / "export")
        runner = CliRunner()
        res = runner.invoke(app, ["agent", "prepare", str(tmp_path / "export"), "--format",
                                  "jsonl", "--source", "tst", "--practice", "pr01", "--out",
                                  str(tmp_path / "bundles")])
        assert res.exit_code == 0, res.output
        (bundle,) = (tmp_path / "bundles").iterdir()
        pseudonym = read_bundle(bundle)[1]["patient"]["patient_id"][0].as_py()
        res = runner.invoke(app, ["agent", "reidentify", "--source", "tst", pseudonym])
        assert res.exit_code == 0, res.output
        assert "PAT-ROSE" in res.output
        assert reidentify("tst", [pseudonym], get_settings())["local_id"][0].as_py() == "PAT-ROSE"
        res = runner.invoke(app, ["agent", "prepare", str(tmp_path / "nowhere"), "--source",
                                  "tst", "--practice", "pr01"])
        assert res.exit_code != 0 and "nowhere" in res.output
        res = runner.invoke(app, ["agent", "run", str(tmp_path / "nowhere")])
        assert res.exit_code != 0 and "network.json" in res.output
    finally:
        get_settings.cache_clear()


def test_run_prepares_every_practice_of_the_configuration_with_its_period(settings, tmp_path):
    from p4dp.agent import run

    tables, _ = staging_export()
    write_export("fhir", tables, tmp_path / "net" / "exports" / "tst")
    (tmp_path / "net" / "network.json").write_text(json.dumps({"practices": [
        {"source_id": "tst", "practice_id": "pr01", "vendor_format": "fhir",
         "export_start": "2020-01-01", "export_end": "2024-06-30"}]}))
    (bundle,) = run(tmp_path / "net", settings, tmp_path / "out")
    manifest, _ = read_bundle(bundle)
    assert manifest["export_period"] == {"start": "2020-01-01", "end": "2024-06-30"}
    assert bundle.name.startswith("tst-20240630-")
    (tmp_path / "net" / "network.json").write_text('{"practices": [{"source_id": "tst"}]}')
    with pytest.raises(ValueError, match="practice_id"):
        run(tmp_path / "net", settings, tmp_path / "out")
