"""The whole path on the `tiny` synthetic network: export → agent → bundle → code → check → load.

One network and one clean load are shared by the module; each test works on its own copy when it
changes anything.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from p4dp.cdm import CLINICAL_TABLES
from p4dp.pipeline import ingest_network, read_network
from p4dp.settings import Settings
from p4dp.warehouse.load import load_bundle

TODAY = date(2026, 11, 29)


@pytest.fixture(scope="module")
def network(tmp_path_factory) -> Path:
    from p4dp.synth import generate

    out = tmp_path_factory.mktemp("net") / "tiny"
    generate("tiny", 7, out, today=TODAY)
    return out


@pytest.fixture(scope="module")
def loaded(network, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)
    report = ingest_network(network, settings, as_of=TODAY)
    return settings, report


def fingerprint(path: Path, source_id: str | None = None) -> dict[str, tuple]:
    """Content of every clinical table and the quarantine (of one source, or all), independent of
    batch ids and load times."""
    con = duckdb.connect(str(path), read_only=True)
    where = "WHERE source_id = ?" if source_id else ""
    params = [source_id] if source_id else []
    out = {}
    for t in CLINICAL_TABLES:
        (pk,) = t.primary_key
        out[t.name] = con.execute(
            f"SELECT count(*), count(DISTINCT {pk}), sum(hash({pk})) FROM {t.name} {where}",
            params).fetchone()
    out["quarantine"] = con.execute(
        f"SELECT count(*), sum(hash(quarantine_id)) FROM quarantine {where}", params).fetchone()
    con.close()
    return out


def smallest_bundle(settings: Settings) -> Path:
    """The bundle of the smallest practice: tests that load several times use it to stay fast."""
    return min((settings.home / "bundles").iterdir(),
               key=lambda b: sum(f.stat().st_size for f in b.iterdir()))


def test_every_practice_loads_every_table(loaded, network):
    settings, report = loaded
    assert [b.status for b in report.batches] == ["loaded"] * len(read_network(network))
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    for t in CLINICAL_TABLES:
        n = con.execute(f"SELECT count(DISTINCT source_id) FROM {t.name}").fetchone()[0]
        assert n == 3, f"{t.name}: rows from {n} sources only"
        (pk,) = t.primary_key
        rows, keys = con.execute(f"SELECT count(*), count(DISTINCT {pk}) FROM {t.name}").fetchone()
        assert rows == keys, f"{t.name}: duplicate primary keys"
    batches = con.execute("SELECT count(*), sum(rows_quarantined) FROM load_batch").fetchone()
    assert batches[0] == 3 and batches[1] > 0
    # Problems the GP did not code are coded by the platform, with a confidence.
    coded = con.execute(
        "SELECT count(*) FILTER (WHERE result_code_origin = 'auto'), "
        "count(*) FILTER (WHERE result_code_origin = 'auto' AND result_code_confidence IS NULL) "
        "FROM problem").fetchone()
    assert coded[0] > 0 and coded[1] == 0


@pytest.fixture(scope="module")
def warehouse_text(loaded) -> str:
    """Every value of every string column of every warehouse table, as one text."""
    settings, _ = loaded
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    cols = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'VARCHAR[]')").fetchall()
    parts = [
        con.execute(f"SELECT string_agg(DISTINCT {c}::VARCHAR, ' | ') FROM {t}").fetchone()[0]
        or "" for t, c in cols]
    con.close()
    return " | ".join(parts)


def _digits(text: str) -> set[str]:
    """Runs of digits written with optional separators (spaces, dots, dashes), separators removed:
    how phone numbers and NIRs appear in free text."""
    return {re.sub(r"\D", "", m) for m in re.findall(r"\+?\d[\d .-]{7,}\d", text)}


def test_no_injected_identity_token_reaches_any_warehouse_table(network, warehouse_text):
    tokens = pq.read_table(network / "ground_truth" / "identity_tokens.parquet")
    assert tokens.num_rows > 0
    # Names are checked as written (capitalised whole words): a clinical word that happens to be
    # a surname ("Toux") legitimately stays in lower-case clinical text.
    words = set(re.findall(r"\w+", warehouse_text))
    digits = _digits(warehouse_text)
    leaks = []
    for token, kind in zip(tokens["token"].to_pylist(), tokens["token_kind"].to_pylist()):
        if kind in ("last_name", "first_name", "relative_name"):
            found = all(w in words for w in re.findall(r"\w+", token))
        elif kind in ("phone", "nir"):
            found = re.sub(r"\D", "", token) in digits
        else:
            found = token in warehouse_text
        if found:
            leaks.append((kind, token))
    assert leaks == []


def test_direct_identifiers_of_every_patient_are_absent(loaded, network, warehouse_text):
    from p4dp.sources import read_export

    settings, _ = loaded
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    digits = _digits(warehouse_text)
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", warehouse_text))
    for cfg in read_network(network):
        patients = read_export(cfg.export_dir, cfg.vendor_format, cfg.source_id).tables["patient"]
        for col in ("nir", "phone"):
            values = {re.sub(r"\D", "", v) for v in patients[col].to_pylist() if v}
            assert values, col
            assert values & digits == set(), col
        assert {v for v in patients["email"].to_pylist() if v} & emails == set()
        # Local ids never appear: every patient id in the warehouse is a keyed pseudonym.
        local = set(patients["patient_id"].to_pylist())
        central = con.execute("SELECT patient_id FROM patient WHERE source_id = ?",
                              [cfg.source_id]).fetchall()
        assert all(p.startswith(cfg.source_id + "_") and p[len(cfg.source_id) + 1:] not in local
                   for (p,) in central)


def test_resending_the_same_bundle_adds_nothing(loaded, tmp_path):
    settings, report = loaded
    home = tmp_path / "home"
    shutil.copytree(settings.home, home)
    copy = Settings(home=home)
    before = fingerprint(copy.warehouse)
    bundles = sorted((home / "bundles").iterdir())
    results = [load_bundle(b, copy, as_of=TODAY) for b in bundles]
    assert {r.status for r in results} == {"duplicate"}
    assert fingerprint(copy.warehouse) == before


def test_an_agent_that_fails_stops_the_run_and_keeps_the_practices_loaded_before(network,
                                                                                 tmp_path):
    # the agents run in a worker process ahead of the loads: its error must reach the caller
    # unchanged, after the earlier practices' loads and before any later one
    import json

    net = tmp_path / "net"
    shutil.copytree(network, net)
    config = json.loads((net / "network.json").read_text(encoding="utf-8"))
    first, second = config["practices"][:2]
    second["vendor_format"] = "dbase"
    (net / "network.json").write_text(json.dumps(config), encoding="utf-8")
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(ValueError, match="format d'export inconnu : 'dbase'"):
        ingest_network(net, settings, as_of=TODAY)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    loaded = con.execute("SELECT DISTINCT source_id FROM load_batch").fetchall()
    assert loaded == [(first["source_id"],)]
    con.close()


CRASH_SCRIPT = textwrap.dedent("""
    import os, sys
    from datetime import date
    from pathlib import Path
    import p4dp.warehouse.load as load
    from p4dp.settings import Settings

    calls = 0
    real = load.upsert
    def dying_upsert(*args, **kwargs):
        global calls
        calls += 1
        if calls == 4:  # mid-batch: some tables written inside the transaction, others not
            os._exit(9)
        return real(*args, **kwargs)
    load.upsert = dying_upsert
    settings = Settings(home=Path(sys.argv[1]))
    load.load_bundle(Path(sys.argv[2]), settings, as_of=date(2026, 11, 29))
""")


def test_a_crash_mid_load_leaves_nothing_and_a_rerun_equals_a_clean_run(loaded, tmp_path):
    settings, _ = loaded
    bundle = smallest_bundle(settings)
    home = tmp_path / "crash"
    crashed = Settings(home=home)
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(home), str(bundle)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 9, proc.stderr[-2000:]
    # The half-written batch is gone: not a row, not even its load_batch record.
    empty = fingerprint(crashed.warehouse)
    assert all(v[0] == 0 for v in empty.values()), empty
    con = duckdb.connect(str(crashed.warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM load_batch").fetchone() == (0,)
    con.close()
    result = load_bundle(bundle, crashed, as_of=TODAY)
    assert result.status == "loaded"
    assert fingerprint(crashed.warehouse) == fingerprint(settings.warehouse, result.source_id)


def test_a_later_export_updates_and_extends_without_duplicates(loaded, network, tmp_path):
    from p4dp.agent import prepare_tables
    from p4dp.sources import read_export

    settings, _ = loaded
    smallest = smallest_bundle(settings).name.split("-")[0]
    cfg = next(c for c in read_network(network) if c.source_id == smallest)
    home = tmp_path / "later"
    later = Settings(home=home)
    shutil.copytree(settings.keys, later.keys)  # the same practice, hence the same keys
    read = read_export(cfg.export_dir, cfg.vendor_format, cfg.source_id)
    cutoff = date(2015, 1, 1)
    early = {}
    for name, t in read.tables.items():
        if "date" in t.column_names and name not in ("patient",):
            t = t.filter(pc.fill_null(pc.less(t["date"], cutoff), True))
        early[name] = t
    first = prepare_tables(early, read.quarantine, cfg.source_id, cfg.practice_id, later,
                           tmp_path / "b1", export_period=(date(2000, 1, 1), cutoff))
    second = prepare_tables(read.tables, read.quarantine, cfg.source_id, cfg.practice_id, later,
                            tmp_path / "b2")
    assert load_bundle(first, later, as_of=TODAY).status == "loaded"
    partial = fingerprint(later.warehouse)
    assert load_bundle(second, later, as_of=TODAY).status == "loaded"
    full = fingerprint(later.warehouse)
    assert full["encounter"][0] > partial["encounter"][0]
    expected = fingerprint(settings.warehouse, cfg.source_id)
    for t in CLINICAL_TABLES:
        assert full[t.name] == expected[t.name], t.name


#: Issue 3's bars, measured on the real path (readers → agent → coding → quality → warehouse).
MIN_RECALL_PER_KIND = 0.95
MAX_CLEAN_ROWS_FLAGGED = 0.005


def test_quality_catches_injected_errors_on_the_real_path(loaded, network):
    """Recall per injected error kind ≥ 95 %, and ≤ 0.5 % of clean rows flagged.

    A row counts as flagged when it was repaired (repair_rule set), quarantined, or is missing
    from its table (a removed duplicate). Ground-truth keys are local ids: they are pseudonymised
    with the practice's key exactly as the agent does.
    """
    from p4dp.agent import load_keys
    from p4dp.privacy.pseudonym import ID_COLUMN_KINDS, pseudonymise
    from p4dp.quality import all_repairs
    from p4dp.synth.dirt import NON_ERROR_KINDS

    settings, _ = loaded
    errors = pq.read_table(network / "ground_truth" / "errors.parquet")
    errors = errors.filter(pc.invert(pc.is_in(errors["kind"], value_set=pc.unique(
        pc.cast(pa_array(NON_ERROR_KINDS), errors["kind"].type)))))
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    quarantined = {k for (k,) in con.execute(
        "SELECT row_key FROM quarantine WHERE row_key IS NOT NULL").fetchall()}
    recall: dict[str, list[bool]] = {}
    error_keys: set[str] = set()
    for source_id in pc.unique(errors["source_id"]).to_pylist():
        key = load_keys(source_id, settings).pseudonym
        mine = errors.filter(pc.equal(errors["source_id"], source_id))
        for name in pc.unique(mine["table"]).to_pylist():
            rows = mine.filter(pc.equal(mine["table"], name))
            id_col = f"{name}_id"
            pseudo = pseudonymise(rows["row_key"], key, source_id, ID_COLUMN_KINDS[id_col])
            repair = "repair_rule" if name in ("biometric", "lab_result") else "NULL"
            present = dict(con.execute(
                f"SELECT {id_col}, {repair} IS NOT NULL FROM {name} WHERE source_id = ?",
                [source_id]).fetchall())
            for kind, pid in zip(rows["kind"].to_pylist(), pseudo.to_pylist()):
                flagged = pid in quarantined or pid not in present or present[pid]
                recall.setdefault(kind, []).append(flagged)
                error_keys.add(pid)
    assert recall, "no injected errors in the ground truth"
    low = {k: round(sum(v) / len(v), 3) for k, v in recall.items()
           if sum(v) / len(v) < MIN_RECALL_PER_KIND}
    assert low == {}, f"recall below {MIN_RECALL_PER_KIND:.0%}: {low}"
    # Clean rows flagged: quality repairs (not unit conversions) and quarantined rows, over every
    # clinical table, that the ground truth does not list as injected errors.
    rules = ", ".join(f"'{r.rule}'" for r in all_repairs())
    flagged_clean = total = 0
    for t in CLINICAL_TABLES:
        (pk,) = t.primary_key
        total += con.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]
        if t.name in ("biometric", "lab_result"):
            repaired = con.execute(
                f"SELECT {pk} FROM {t.name} WHERE repair_rule IN ({rules})").fetchall()
            flagged_clean += sum(1 for (k,) in repaired if k not in error_keys)
    q_clean = con.execute("SELECT row_key FROM quarantine WHERE row_key IS NOT NULL").fetchall()
    flagged_clean += sum(1 for (k,) in q_clean if k not in error_keys)
    total += len(q_clean)
    assert flagged_clean / total <= MAX_CLEAN_ROWS_FLAGGED, (flagged_clean, total)


def pa_array(values):
    import pyarrow as pa

    return pa.array(list(values), pa.string())


@pytest.fixture
def cli_home(loaded, tmp_path, monkeypatch):
    """A copy of the loaded home, used by the `p4dp` command through P4DP_HOME."""
    from p4dp.settings import get_settings

    settings, _ = loaded
    home = tmp_path / "home"
    shutil.copytree(settings.home, home)
    monkeypatch.setenv("P4DP_HOME", str(home))
    get_settings.cache_clear()
    yield Settings(home=home)
    get_settings.cache_clear()


def test_cli_lists_batches_and_carries_out_an_objection(cli_home):
    from typer.testing import CliRunner

    from p4dp.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["batches"])
    assert listed.exit_code == 0, listed.output
    assert all(s in listed.output for s in ("arm", "med", "car", "loaded"))
    con = duckdb.connect(str(cli_home.warehouse), read_only=True)
    (patient,) = con.execute("SELECT patient_id FROM patient WHERE NOT opposition "
                             "ORDER BY patient_id LIMIT 1").fetchone()
    con.close()
    done = runner.invoke(app, ["withdraw", "--patient", patient, "--by", "dpo@cabinet"])
    assert done.exit_code == 0, done.output
    assert "lignes supprimées" in done.output
    con = duckdb.connect(str(cli_home.warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM encounter WHERE patient_id = ?",
                       [patient]).fetchone() == (0,)
    assert con.execute("SELECT requested_by FROM withdrawal WHERE pseudonym = ?",
                       [patient]).fetchall() == [("dpo@cabinet",)]
    con.close()


def test_cli_refuses_bad_requests_with_a_clear_message(cli_home, tmp_path):
    from typer.testing import CliRunner

    from p4dp.cli import app

    runner = CliRunner()
    both = runner.invoke(app, ["withdraw", "--patient", "arm_x", "--practitioner", "arm_y"])
    assert both.exit_code == 2 and "exactly one" in both.output
    bad = runner.invoke(app, ["withdraw", "--patient", "Dupont"])
    assert bad.exit_code == 2 and "not a P4DP pseudonym" in bad.output
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "network.json" in missing.output


def test_patients_who_objected_at_the_practice_leave_nothing_in_the_warehouse(loaded):
    settings, _ = loaded
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    objected = [p for (p,) in con.execute(
        "SELECT pseudonym FROM withdrawal WHERE requested_by LIKE 'agent:%'").fetchall()]
    assert objected, "the synthetic network has patients who objected"
    for t in CLINICAL_TABLES:
        if t.patient_column:
            n = con.execute(f"SELECT count(*) FROM {t.name} WHERE {t.patient_column} IN "
                            f"(SELECT pseudonym FROM withdrawal)").fetchone()[0]
            assert n == 0, t.name
