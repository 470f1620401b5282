"""Fixtures of the cohort tests. The hand-made warehouse builder is the analytics spec tests'
(tests/analytics/analytics_tables.py), shared rather than copied."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "analytics"))

from analytics_tables import build_warehouse  # noqa: E402


@pytest.fixture(scope="module")
def make_wh(tmp_path_factory):
    counter = iter(range(1000))
    folder = tmp_path_factory.mktemp("cohort_wh")

    def make(**tables: list[dict]):
        return build_warehouse(folder / f"wh{next(counter)}.duckdb", tables)

    return make
