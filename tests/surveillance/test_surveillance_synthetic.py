"""On the synthetic network, whose influenza-like illness follows the real Réseau Sentinelles
series, the regional surveillance recovers the real epidemic seasons."""

from __future__ import annotations

import datetime as dt

import pytest

from p4dp.analytics.compile import Warehouse
from p4dp.reference import path as reference_path
from p4dp.surveillance.analysis import analyse_warehouse
from p4dp.surveillance.population import NATIONAL
from p4dp.surveillance.sentinelles import detect, read_series

pytestmark = pytest.mark.slow

TODAY = dt.date(2026, 11, 29)
#: Synthetic records start in 2000: the first baseline that is not retrospective is 2005/2006's.
FIRST_SEASON, LAST_SEASON = 2005, 2019
#: Two weeks of tolerance around the real epidemic period.
SLACK = dt.timedelta(weeks=2)


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    from p4dp.pipeline import ingest_network
    from p4dp.settings import Settings
    from p4dp.synth import generate

    root = tmp_path_factory.mktemp("tiny")
    generate("tiny", 7, root / "net", today=TODAY)
    settings = Settings(home=root / "home")
    ingest_network(root / "net", settings, as_of=TODAY)
    return analyse_warehouse(Warehouse.open(settings.warehouse))


def _monday(label: str) -> dt.date:
    return dt.date.fromisocalendar(int(label[:4]), int(label[-2:]), 1)


def test_every_region_recovers_the_real_epidemic_seasons(analysis):
    weeks, y = read_series(reference_path("sentinelles_ili_fr.csv"))
    real = [e for e in detect(weeks, y)
            if FIRST_SEASON <= int(e["season"][:4]) <= LAST_SEASON]
    real = list({e["season"]: e for e in reversed(real)}.values())  # the main one per season
    assert len(real) == LAST_SEASON - FIRST_SEASON + 1
    c = analysis.cube
    s = c.s_index("grippe")
    assert len(c.regions) == 4  # three regions of the tiny preset and the network
    for r, code in enumerate(c.regions):
        found = analysis.epidemics[(s, r)]
        recovered = [e for e in real if any(
            c.weeks[f.start] <= _monday(e["end_week"]) + SLACK
            and c.weeks[f.end] >= _monday(e["start_week"]) - SLACK for f in found)]
        # regions of a few hundred active patients: most seasons; the network: (nearly) all
        needed = len(real) - (1 if code == NATIONAL else 2)
        assert len(recovered) >= needed, (code, [e["season"] for e in real
                                                  if e not in recovered])
        # chance runs of two weeks above a 95 % bound: a few in twenty summers at most
        summer = [f for f in found if c.weeks[f.peak].month in (5, 6, 7, 8, 9)
                  and FIRST_SEASON <= c.weeks[f.peak].year <= LAST_SEASON + 1
                  and c.weeks[f.peak].year != 2009]  # the 2009 pandemic started in summer
        assert len(summer) <= 4, (code, [str(c.weeks[f.start]) for f in summer])
