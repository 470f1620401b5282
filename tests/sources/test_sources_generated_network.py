"""The generator's own staging tables (preset ``tiny``) survive every export format."""

from __future__ import annotations

import pytest
from sources_fixture import expected, sort_rows

from p4dp.cdm import CLINICAL_TABLES
from p4dp.sources import read_export
from p4dp.synth.writers import write_export


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv-fr", "jsonl", "fhir"])
def test_generated_practices_round_trip_in_every_format(fmt, tmp_path):
    from p4dp.synth.network import iter_practices, network_context

    for source_id, tables, _truth in iter_practices(network_context("tiny", 7)):
        folder = tmp_path / source_id
        write_export(fmt, tables, folder)
        result = read_export(folder, fmt, source_id)
        assert result.quarantine.num_rows == 0, result.quarantine.slice(0, 3).to_pylist()
        want = expected(tables, fmt)
        for t in CLINICAL_TABLES:
            got = result.tables[t.name]
            assert sort_rows(got) == sorted(
                want[t.name], key=lambda r: [str(r[k]) for k in got.column_names]), (source_id,
                                                                                   t.name)
