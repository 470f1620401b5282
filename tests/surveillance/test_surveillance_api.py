"""API payloads: disclosure control on counts, rates recomputed from what is published, stored
cube and idempotent alerts."""

from __future__ import annotations

import datetime as dt

import ibis
import pytest

from p4dp.analytics.compile import Warehouse
from p4dp.privacy.disclosure import Policy, Requester
from p4dp.surveillance import api
from p4dp.surveillance.analysis import alert_rows, analyse_warehouse, run
from p4dp.surveillance.incidence import PER
from p4dp.surveillance.stored import TABLE, store_alerts, stored_cube

EPI = Requester("epidemiologist")


def rows_as_dicts(payload: dict) -> list[dict]:
    names = [c["name"] for c in payload["columns"]]
    return [dict(zip(names, r)) for r in payload["rows"]]


def test_small_regional_counts_are_suppressed_and_rates_follow_the_published_counts(
        seasonal_file):
    wh = Warehouse.open(seasonal_file)
    p = api.weekly_series(wh, "grippe", "28", EPI)
    rows = rows_as_dicts(p)
    assert p["disclosure"]["applied"]
    hidden = [r for r in rows if r["cases"] is None]
    shown = [r for r in rows if r["cases"]]
    assert hidden and shown
    assert all(r["incidence"] is None and r["ci_up"] is None for r in hidden)
    for r in shown:
        assert r["cases"] % 5 == 0 and r["cases"] > 10
        assert r["incidence"] == pytest.approx(r["cases"] / r["population"] * PER, abs=0.06)
    # thresholds are model outputs, published for every week once a baseline exists
    assert sum(r["threshold"] is not None for r in rows) > 52 * 4


def test_a_gp_gets_the_protected_figures_too(seasonal_file):
    wh = Warehouse.open(seasonal_file)
    gp = api.weekly_series(wh, "grippe", "28", Requester("gp", "g1"))
    assert gp["disclosure"]["applied"]
    assert gp["rows"] == api.weekly_series(wh, "grippe", "28", EPI)["rows"]


def test_regions_table_protects_regions_and_publishes_the_network_total(seasonal_file):
    wh = Warehouse.open(seasonal_file)
    p = api.regions_table(wh, "grippe", "2023-W06", EPI)
    rows = rows_as_dicts(p)
    assert [r["region"] for r in rows] == ["28", "93", "FR"]
    assert rows[-1]["cases"] is not None and rows[-1]["cases"] % 5 == 0
    assert rows[-1]["extrapolated"] == pytest.approx(
        rows[-1]["incidence"] * 67_063_703 / PER, rel=1e-3)  # INSEE France 2020, the last year
    with pytest.raises(ValueError, match="hors des données"):
        api.regions_table(wh, "grippe", "2031-W01", EPI)


def test_winter_waves_raise_epidemic_alerts_in_the_big_region(seasonal_file):
    wh = Warehouse.open(seasonal_file)
    a = api.alerts(wh, syndrome="grippe", region="93")
    assert not a["stored"]
    epidemic_weeks = [x["week"] for x in a["alerts"] if x["level"] == "epidemic"]
    # every winter from 2018 (the first with a non-retrospective baseline: 2017 + 5 years is
    # later, so early winters use the retrospective one) has epidemic weeks in January–March
    for year in range(2018, 2024):
        assert any(w.startswith(f"{year}-W0") or w.startswith(f"{year}-W1") for w in
                   epidemic_weeks), year
    th = api.thresholds(wh, "grippe", "93")
    assert len(th["epidemics"]) >= 6


def test_run_stores_the_cube_and_alerts_and_a_second_run_changes_nothing(seasonal_copy):
    wh = Warehouse(ibis.duckdb.connect(str(seasonal_copy)))
    first = run(wh)
    assert first.alerts.raised > 0 and first.alerts.unchanged == 0
    again = run(wh)
    assert (again.alerts.raised, again.alerts.updated, again.alerts.withdrawn) == (0, 0, 0)
    assert again.alerts.unchanged == first.alerts.raised
    con = wh.backend.con
    n = con.execute(f"SELECT count(*), count(DISTINCT (syndrome, region_code, week)) "
                    f"FROM {TABLE}").fetchone()
    assert n[0] == n[1] == first.alerts.raised
    cube = stored_cube(wh)
    fresh = analyse_warehouse(wh).cube
    assert cube is not None and (cube.cases == fresh.cases).all()


def test_a_new_load_makes_the_stored_cube_stale(seasonal_copy):
    wh = Warehouse(ibis.duckdb.connect(str(seasonal_copy)))
    run(wh)
    assert stored_cube(wh) is not None
    wh.backend.con.execute("INSERT INTO load_batch (batch_id, source_id, bundle_sha256, status, "
                           "finished_at) VALUES ('b2', 'arm', 'y', 'loaded', "
                           "TIMESTAMP '2024-02-01 10:00:00')")
    assert stored_cube(wh) is None


def test_changed_alerts_are_updated_and_vanished_ones_withdrawn(seasonal_copy):
    wh = Warehouse(ibis.duckdb.connect(str(seasonal_copy)))
    rows = alert_rows(analyse_warehouse(wh))
    con = wh.backend.con
    t0 = dt.datetime(2024, 1, 1)
    store_alerts(con, rows, now=t0)
    changed = rows.slice(1).set_column(
        rows.schema.get_field_index("level"), "level",
        [["epidemic"] * (rows.num_rows - 1)])
    report = store_alerts(con, changed, now=dt.datetime(2024, 2, 1))
    assert report.withdrawn == 1
    assert report.updated == sum(v == "above" for v in rows.column("level").to_pylist()[1:])
    first, updated = con.execute(f"SELECT min(first_raised_at), max(updated_at) FROM {TABLE}"
                                 ).fetchone()
    assert first == t0 and updated == dt.datetime(2024, 2, 1)


def test_policy_small_cell_max_is_honoured(seasonal_file):
    wh = Warehouse.open(seasonal_file)
    strict = api.weekly_series(wh, "grippe", "93", EPI, policy=Policy(small_cell_max=40))
    assert all(r["cases"] is None or r["cases"] == 0 or r["cases"] > 40
               for r in rows_as_dicts(strict))


def test_a_failed_run_leaves_the_previous_run_stored(seasonal_copy):
    import pyarrow as pa

    from p4dp.surveillance.stored import STATE_TABLE, store_run

    wh = Warehouse(ibis.duckdb.connect(str(seasonal_copy)))
    run(wh)
    con = wh.backend.con
    before = con.execute(f"SELECT * FROM {STATE_TABLE}").fetchall()
    n_alerts = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
    broken = pa.table({"syndrome": ["grippe"]})  # not an alert table: the insert fails
    with pytest.raises(Exception):
        store_run(con, analyse_warehouse(wh).cube, "another version", broken)
    assert con.execute(f"SELECT * FROM {STATE_TABLE}").fetchall() == before
    assert con.execute(f"SELECT count(*) FROM {TABLE}").fetchone() == n_alerts
    assert stored_cube(wh) is not None
