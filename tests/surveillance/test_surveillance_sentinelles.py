"""The threshold method on the real Réseau Sentinelles ILI series (1984–2020)."""

from __future__ import annotations

import pytest

from p4dp.reference import path as reference_path
from p4dp.surveillance.sentinelles import SentinellesFormatError, detect, read_series


@pytest.fixture(scope="module")
def found():
    weeks, y = read_series(reference_path("sentinelles_ili_fr.csv"))
    return weeks, y, detect(weeks, y)


def test_missing_and_all_zero_weeks_are_missing(found):
    weeks, y, _ = found
    assert len(weeks) == 1874
    labels = {w.isocalendar()[:2]: v for w, v in zip(weeks, y)}
    for year, week in ((1989, 19), (1990, 33), (2001, 32), (2001, 33), (2006, 32), (2006, 33)):
        assert labels[(year, week)] != labels[(year, week)]  # NaN
    assert labels[(2020, 39)] == 41


def test_one_epidemic_every_winter_and_none_in_summer(found):
    *_, epidemics = found
    seasons = [e["season"] for e in epidemics]
    expected = [f"{y}/{y + 1}" for y in range(1984, 2020)]
    assert sorted(set(seasons)) == expected
    assert len(seasons) <= len(expected) + 1  # at most one extra, small, spring episode
    for e in epidemics:
        start_week = int(e["start_week"][-2:])
        summer = 20 <= start_week <= 34
        assert not summer, e
        assert e["peak_incidence"] > 85


def test_known_seasons_agree_with_the_network(found):
    *_, epidemics = found
    by_season = {}
    for e in epidemics:
        by_season.setdefault(e["season"], e)
    # 2017/2018: the network's bulletin of 2018-W01 counted 3 epidemic weeks by 2017-W52
    assert by_season["2017/2018"]["start_week"] == "2017-W50"
    # 2012/2013: 13 weeks, "the longest seasonal epidemic observed" (Réseau Sentinelles, 2013)
    assert by_season["2012/2013"]["weeks"] == 13
    # 1989/1990: 11 weeks (Réseau Sentinelles, 2013)
    assert by_season["1989/1990"]["weeks"] == 11
    # 2009/2010: the A(H1N1) pandemic crossed the (low, late-summer) threshold early
    assert by_season["2009/2010"]["start_week"] < "2009-W40"


def test_a_file_that_is_not_a_sentinelles_series_is_refused_with_its_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("week,inc100\n202001,12\n2020x2,15\n", encoding="utf-8")
    with pytest.raises(SentinellesFormatError, match=r"ligne 3, champ week"):
        read_series(bad)
    other = tmp_path / "other.csv"
    other.write_text("semaine,valeur\n202001,3\n", encoding="utf-8")
    with pytest.raises(SentinellesFormatError, match="inc100"):
        read_series(other)
    with pytest.raises(SentinellesFormatError, match="introuvable"):
        read_series(tmp_path / "none.csv")
