from datetime import date

import pytest

from p4dp.synth import build_network

TODAY = date(2026, 11, 29)


@pytest.fixture(scope="session")
def tiny():
    return build_network("tiny", 7, today=TODAY)


@pytest.fixture(scope="session")
def demo():
    # About 10 s on the 2-core machine: the statistical tests need the demo preset's volume.
    return build_network("demo", 42, today=TODAY)
