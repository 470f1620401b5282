"""`generate` and `p4dp synth`: the folder layout, atomic writes, bad input."""

import importlib.util
import json
from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from p4dp.cli import app
from p4dp.synth import generate
from p4dp.synth.generate import SynthError

TODAY = date(2026, 11, 29)  # same as conftest.py
writers_missing = importlib.util.find_spec("p4dp.synth.writers") is None


@pytest.mark.skipif(writers_missing, reason="p4dp.synth.writers is not installed yet")
def test_generate_writes_exports_network_json_and_ground_truth(tmp_path, tiny):
    out = tmp_path / "net"
    steps = []
    generate("tiny", 7, out, today=TODAY, progress=lambda s, d, t: steps.append((s, d, t)))
    meta = json.loads((out / "network.json").read_text(encoding="utf-8"))
    assert meta["preset"] == "tiny" and meta["seed"] == 7
    assert [p["source_id"] for p in meta["practices"]] == tiny.practices["source_id"].to_pylist()
    for p in meta["practices"]:
        assert set(p) >= {"source_id", "practice_id", "vendor_format", "region_code",
                          "departement_code", "export_start", "export_end"}
        folder = out / p["export_folder"]
        assert folder.is_dir() and any(folder.iterdir())
    for name, t in tiny.ground_truth.items():
        written = pq.read_table(out / "ground_truth" / f"{name}.parquet")
        if name == "errors":
            # Error keys are those the format's reader gives (csv-fr biometrics: by session).
            assert written.drop_columns(["row_key"]).equals(t.drop_columns(["row_key"]))
            same = pc.not_equal(written["table"], "biometric")
            assert written.filter(same).equals(t.filter(same))
        else:
            assert written.equals(t)
    assert ("exports", 3, 3) in steps
    assert [p.name for p in tmp_path.iterdir()] == ["net"]  # no temporary folder left


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path, monkeypatch):
    import p4dp.synth.network as network

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(network, "build_practice", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        generate("tiny", 1, tmp_path / "net", today=TODAY)
    assert list(tmp_path.iterdir()) == []


def test_existing_non_empty_folder_is_refused_and_left_untouched(tmp_path):
    out = tmp_path / "net"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(SynthError, match="n'est pas vide"):
        generate("tiny", 1, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def _run(*args: str):
    return CliRunner().invoke(app, ["synth", *args])


def test_cli_unknown_preset_exits_non_zero_with_the_known_presets(tmp_path):
    r = _run("--preset", "huge", "--seed", "1", "--out", str(tmp_path / "x"))
    assert r.exit_code != 0
    assert "huge" in r.output and "tiny" in r.output
    assert not (tmp_path / "x").exists()


def test_cli_non_empty_output_folder_exits_non_zero(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("")
    r = _run("--preset", "tiny", "--seed", "1", "--out", str(tmp_path / "x"))
    assert r.exit_code != 0 and "vide" in r.output


def test_cli_unwritable_output_exits_non_zero_and_creates_nothing(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = _run("--preset", "tiny", "--seed", "1", "--out", str(blocker / "net"))
    assert r.exit_code != 0 and "dossier" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_cli_read_only_parent_exits_non_zero(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if Path(ro).stat().st_mode & 0o200 or __import__("os").access(ro, __import__("os").W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        r = _run("--preset", "tiny", "--seed", "1", "--out", str(ro / "net"))
        assert r.exit_code != 0
    finally:
        ro.chmod(0o755)


def test_practice_slices_give_each_practice_its_own_rows(tiny):
    from p4dp.synth.generate import practice_slices

    slices = practice_slices(tiny)
    assert list(slices) == tiny.practices["source_id"].to_pylist()
    for name, t in tiny.tables.items():
        assert sum(s[name].num_rows for s in slices.values()) == t.num_rows
    for source_id, tables in slices.items():
        for name, t in tables.items():
            assert set(t["source_id"].to_pylist()) == {source_id}, name
