"""Fixtures of the analytics spec tests (helpers live in analytics_tables.py)."""

from __future__ import annotations

import pytest
from analytics_tables import build_warehouse

from p4dp.analytics.compile import Warehouse


@pytest.fixture
def make_wh(tmp_path):
    counter = iter(range(1000))

    def make(**tables: list[dict]) -> Warehouse:
        return build_warehouse(tmp_path / f"wh{next(counter)}.duckdb", tables)

    return make


@pytest.fixture(scope="module")
def make_wh_mod(tmp_path_factory):
    """Like make_wh, shared by a module's tests (compiled queries are cached per warehouse)."""
    counter = iter(range(1000))
    folder = tmp_path_factory.mktemp("wh")

    def make(**tables: list[dict]) -> Warehouse:
        return build_warehouse(folder / f"wh{next(counter)}.duckdb", tables)

    return make
