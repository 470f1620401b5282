"""Central data-quality step: check registry, named repairs, quarantine, reports (issue 3).

    outcome = check_batch(tables, as_of=date(2026, 11, 1), batch_id="b1", source_id="arm")
    outcome.tables        # clean, repaired rows in the central schema
    outcome.quarantine    # rejected rows with the check that rejected them
    outcome.report        # JSON-able report; render_html(report) for people

See docs/quality.md.
"""

from p4dp.quality.pipeline import QualityOutcome, check_batch
from p4dp.quality.registry import all_checks, all_repairs, steps_for
from p4dp.quality.report import render_html
from p4dp.quality.store import load_reports, purge_examples, save_report, trends

__all__ = ["QualityOutcome", "all_checks", "all_repairs", "check_batch", "load_reports",
           "purge_examples", "render_html", "save_report", "steps_for", "trends"]
