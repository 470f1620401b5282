"""Fixtures of the surveillance tests (helpers live in surveillance_tables.py)."""

from __future__ import annotations

import shutil

import pytest
from surveillance_tables import build, seasonal_tables


@pytest.fixture(scope="module")
def seasonal_file(tmp_path_factory):
    """A seven-year warehouse file with winter influenza waves (built once per module)."""
    path = tmp_path_factory.mktemp("seasonal") / "warehouse.duckdb"
    build(path, seasonal_tables()).backend.disconnect()
    return path


@pytest.fixture
def seasonal_copy(seasonal_file, tmp_path):
    """A private, writable copy of the seasonal warehouse."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(seasonal_file, path)
    return path
