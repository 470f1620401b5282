"""Bad input never crashes a matcher: it is simply not matched."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from p4dp.terminology import drugs, icpc2, labs, vaccines

BAD = ["", " ", "\x00\x01", "é" * 20_000, "DOLIPRANE\udcff", "Ã©chographie", "🙂 INR 🙂",
       "\ufeffHbA1c", "-" * 50, "12/03/2024", "NULL"]


def test_known_bad_inputs_do_not_crash():
    for fn in (vaccines.normalise_labels, drugs.normalise_labels, labs.normalise_labels):
        t = fn(BAD)
        assert t.num_rows == len(BAD)
    for q in BAD:
        assert isinstance(icpc2.search(q), list)
    # A BOM or emoji around a real label does not hide it.
    assert labs.normalise_labels(["🙂 INR 🙂", "\ufeffHbA1c"])["exam_code"].to_pylist() == [
        "INR", "HBA1C"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=8))
def test_arbitrary_text_gives_one_row_per_label(labels):
    for fn in (vaccines.normalise_labels, drugs.normalise_labels, labs.normalise_labels):
        t = fn(labels)
        assert t["label"].to_pylist() == labels
        assert all(isinstance(m, bool) for m in t["matched"].to_pylist())


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_search_never_fails_and_returns_valid_codes(query):
    hits = icpc2.search(query, limit=5)
    assert len(hits) <= 5
    assert all(icpc2.is_valid(h.code) for h in hits)
