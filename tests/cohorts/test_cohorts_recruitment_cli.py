"""On the synthetic `tiny` network, end to end: export → agent → warehouse → `p4dp cohort list`
for one GP → `reidentify` at that GP's practice. Also the `p4dp cohort` commands."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from p4dp.analytics.compile import Warehouse
from p4dp.cohorts.commands import app
from p4dp.cohorts.criteria import parse
from p4dp.cohorts.recruitment import recruitment_list
from p4dp.privacy.disclosure import DisclosureRefused, Requester
from p4dp.settings import Settings

pytestmark = pytest.mark.slow  # builds and loads the tiny network (~1 min)

TODAY = date(2026, 11, 29)
HYPERTENSIVE_ADULTS = {
    "name": "hta", "title_fr": "Adultes hypertendus", "index_date": TODAY.isoformat(),
    "rules": [{"type": "demographics", "age_min": 18},
              {"type": "condition", "codes": ["K86", "K87"]},
              {"type": "biometric", "kind": "systolic_bp", "compare": {"op": ">=", "value": 120},
               "which": "any"}]}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Settings]:
    from p4dp.pipeline import ingest_network
    from p4dp.synth import generate

    net = tmp_path_factory.mktemp("net") / "tiny"
    generate("tiny", 7, net, today=TODAY)
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    ingest_network(net, settings, as_of=TODAY)
    return net, settings


@pytest.fixture(scope="module")
def wh(tiny) -> Warehouse:
    return Warehouse.open(tiny[1].warehouse)


def gps_by_patients(wh: Warehouse) -> list[str]:
    e = wh.table("encounter")
    t = e.group_by("practitioner_id").aggregate(n=e.patient_id.nunique())
    t = t.order_by([t.n.desc(), "practitioner_id"])
    return wh.backend.to_pyarrow(t)["practitioner_id"].to_pylist()


def test_a_gp_lists_only_their_own_patients_and_reidentifies_them_at_the_practice(tiny, wh):
    from p4dp.agent import reidentify
    from p4dp.pipeline import read_network
    from p4dp.sources import read_export

    net, settings = tiny
    cohort = parse(HYPERTENSIVE_ADULTS)
    gp = gps_by_patients(wh)[0]
    answer = recruitment_list(wh, cohort, Requester("gp", gp), gp)
    rows = answer.payload["rows"]
    assert rows and answer.audit["rows_returned"] == len(rows)
    mine = set(wh.backend.to_pyarrow(wh.patients_of(gp))["patient_id"].to_pylist())
    listed = [r[0] for r in rows]
    assert set(listed) <= mine and len(set(listed)) == len(listed)
    # every row says why: age, then one fact per rule ("K86 (… le 12/03/2025)", "PAS 135 mmHg …")
    assert all(r[1] >= 18 and r[3] and r[4].startswith(("K86", "K87")) and "PAS" in r[5]
               for r in rows)
    # at the practice: the local map turns the pseudonyms back into the practice's own records
    source = gp.split("_")[0]
    local = reidentify(source, listed, settings).to_pylist()
    assert all(x["kind"] == "patient" and x["local_id"] for x in local)
    (gp_local,) = reidentify(source, [gp], settings)["local_id"].to_pylist()
    cfg = next(c for c in read_network(net) if c.source_id == source)
    staging = read_export(cfg.export_dir, cfg.vendor_format, source).tables
    declared = {p for p, g in zip(staging["patient"]["patient_id"].to_pylist(),
                                  staging["patient"]["gp_id"].to_pylist()) if g == gp_local}
    seen = {p for p, d in zip(staging["encounter"]["patient_id"].to_pylist(),
                              staging["encounter"]["practitioner_id"].to_pylist())
            if d == gp_local}
    assert {x["local_id"] for x in local} <= declared | seen


def test_no_one_else_gets_a_gps_list(wh):
    cohort = parse(HYPERTENSIVE_ADULTS)
    gp, other = gps_by_patients(wh)[:2]
    for who in (Requester("researcher"), Requester("admin"), Requester("gp", other)):
        with pytest.raises(DisclosureRefused):
            recruitment_list(wh, cohort, who, gp)
    theirs = {r[0] for r in recruitment_list(wh, cohort, Requester("gp", other), other)
              .payload["rows"]}
    mine = {r[0] for r in recruitment_list(wh, cohort, Requester("gp", gp), gp).payload["rows"]}
    others_only = theirs - set(wh.backend.to_pyarrow(wh.patients_of(gp))["patient_id"]
                               .to_pylist())
    assert others_only and not (others_only & mine)


@pytest.fixture
def cli(tiny, monkeypatch, tmp_path):
    from p4dp.settings import get_settings

    monkeypatch.setenv("P4DP_HOME", str(tiny[1].home))
    get_settings.cache_clear()
    path = tmp_path / "hta.json"
    path.write_text(json.dumps(HYPERTENSIVE_ADULTS), encoding="utf-8")
    yield path
    get_settings.cache_clear()


def test_cli_count_prints_protected_json(cli, tiny):
    runner = CliRunner()
    out = runner.invoke(app, ["count", str(cli), "--as", "researcher", "--user", "alice"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["total"] % 5 == 0 and len(payload["attrition"]) == 4
    assert {"region_code", "count"} == set(payload["by_region"][0])
    again = json.loads(runner.invoke(app, ["count", str(cli), "--as", "researcher", "--user",
                                           "alice"]).output)
    assert again["total"] == payload["total"]
    admin = json.loads(runner.invoke(app, ["count", str(cli), "--as", "admin"]).output)
    assert "by_practice" in admin
    assert (tiny[1].home / "cohort_noise.key").is_file()


def test_cli_list_for_a_gp(cli, wh):
    gp = gps_by_patients(wh)[0]
    out = CliRunner().invoke(app, ["list", str(cli), "--practitioner", gp,
                                   "--index-date", "29/11/2026"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["practitioner"] == gp and payload["rows"]


def test_cli_errors_name_the_file_and_the_field(cli, tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**HYPERTENSIVE_ADULTS, "rules": [
        {"type": "condition", "codes": ["K99X"]}]}), encoding="utf-8")
    out = runner.invoke(app, ["count", str(bad)])
    assert out.exit_code == 2 and "bad.json" in out.output and "/rules/0/codes" in out.output
    out = runner.invoke(app, ["count", str(cli), "--as", "pirate"])
    assert out.exit_code == 2 and "rôle inconnu" in out.output
    out = runner.invoke(app, ["count", str(cli), "--index-date", "31/02/2026"])
    assert out.exit_code == 2 and "--index-date" in out.output
    later = tmp_path / "later.json"
    later.write_text(json.dumps({**HYPERTENSIVE_ADULTS, "rules": [
        {"type": "drug", "atc": ["C09"], "window": {"from": "2027-01-01"}}]}), encoding="utf-8")
    out = runner.invoke(app, ["count", str(later)])
    assert out.exit_code == 2 and "/rules/0/window" in out.output
    out = runner.invoke(app, ["check", str(cli)])
    assert out.exit_code == 0 and "Adultes hypertendus" in out.output
    out = runner.invoke(app, ["schema"])
    assert json.loads(out.output)["title"].startswith("Définition de cohorte")
