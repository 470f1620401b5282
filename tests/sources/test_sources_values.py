"""The value parsers every reader shares: dates as French exports write them, numbers."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from p4dp.sources._common import TWO_DIGIT_YEAR_PIVOT, parse_dates, split_number


def test_dates_in_every_form_met_in_french_exports():
    text = ["09/03/1948", "9/3/1948", "09.03.1948", "1948-03-09", "1948-03-09T10:15:00",
            "1948-03-09T10:15:00.123+01:00", "1948-03-09 10:15", " 09/03/1948 ", None, ""]
    dates, bad = parse_dates(pa.array(text, pa.string()))
    assert dates.to_pylist()[:8] == [dt.date(1948, 3, 9)] * 8
    assert dates.to_pylist()[8:] == [None, None]
    assert not bad.any()


def test_two_digit_years_never_land_in_the_future():
    pivot = TWO_DIGIT_YEAR_PIVOT
    dates, _ = parse_dates(pa.array([f"01/01/{pivot:02d}", f"01/01/{(pivot + 1) % 100:02d}"]))
    assert [d.year for d in dates.to_pylist()] == [2000 + pivot, 1900 + (pivot + 1) % 100]


def test_impossible_dates_are_flagged_not_rolled_over():
    dates, bad = parse_dates(pa.array(["29/02/2021", "31/04/2020", "29/02/2020", "13/13/2020",
                                       "2020-02-30", "hier", "12/2020"]))
    assert dates.to_pylist() == [None, None, dt.date(2020, 2, 29), None, None, None, None]
    assert bad.tolist() == [True, True, False, True, True, True, True]


def test_numbers_split_by_the_format_convention():
    text = pa.array(["72,5", "120", "-1,5", "45.30", "1m48", "> 90", "", None])
    value, raw = split_number(text, r"^[+-]?\d+(,\d+)?$", ",")
    assert value.to_pylist() == [72.5, 120.0, -1.5, None, None, None, None, None]
    assert raw.to_pylist() == [None, None, None, "45.30", "1m48", "> 90", None, None]
