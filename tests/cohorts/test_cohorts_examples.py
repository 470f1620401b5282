"""The examples of docs/examples/cohorts/ give, on the `demo` preset (seed 42, loaded on
29/11/2026), the counts written in docs/cohorts.md. Builds the demo warehouse (≈ 2 minutes)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from p4dp.analytics.compile import Warehouse
from p4dp.cohorts.criteria import load
from p4dp.cohorts.feasibility import evaluate

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "cohorts"
TODAY = date(2026, 11, 29)


def documented() -> dict[str, list[int]]:
    text = (ROOT / "docs" / "cohorts.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w-]+\.json)` \|.*\| ([\d → ]+) \|$", text, re.M)
    return {name: [int(n) for n in counts.split("→")] for name, counts in rows}


def test_every_example_is_documented():
    assert set(documented()) == {p.name for p in EXAMPLES.glob("*.json")}
    assert len(documented()) == 4


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Warehouse:
    from p4dp.pipeline import ingest_network
    from p4dp.settings import Settings
    from p4dp.synth import generate

    net = tmp_path_factory.mktemp("net") / "demo"
    generate("demo", 42, net, today=TODAY)
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    ingest_network(net, settings, as_of=TODAY)
    return Warehouse.open(settings.warehouse)


@pytest.mark.parametrize("name", sorted(documented()))
def test_example_counts_on_the_demo_preset(demo, name):
    cohort = load(EXAMPLES / name)
    ex = evaluate(demo, cohort)
    assert [int((ex.steps >= i).sum()) for i in range(len(cohort.rules) + 1)] == documented()[name]
