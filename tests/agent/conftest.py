"""Fixtures of the agent tests; the fixture practice itself is in agent_fixture.py."""

import pytest
from agent_fixture import staging_export

from p4dp.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def export():
    return staging_export()
