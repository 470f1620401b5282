"""The coder scored on the independent evaluation set (tests/coding/data/, written by someone who
never saw the lexicon or the generator's phrases).

Issue 4's targets are coverage ≥ 97 %, accuracy ≥ 95 % and accuracy when coded ≥ 96 %; the coder
reaches the last two since dev batch 55, and plain coverage cannot reach 97 % on this file: 56 of
its 1,827 rows have gold "_", so a perfect coder covers 96.9 % (docs/coding.md). These floors are
the figures last measured (2026-11-29, after dev batch 55: coverage 0.9655, accuracy 0.9568,
accuracy when coded 0.9620, coverage of the codable rows 0.9932), rounded down: a change that makes the
coder worse on unseen text fails here. Raise them as the coder improves; never tune the coder on
this set.
"""

from pathlib import Path

from p4dp.coding import evaluate_csv

EVAL_SET = Path(__file__).parent / "data" / "gp_texts_eval.csv"
FLOOR = {"coverage": 0.965, "accuracy": 0.956, "accuracy_when_coded": 0.962,
         "coverage_of_codable": 0.993}


def test_coder_does_not_regress_on_the_independent_set():
    result = evaluate_csv(EVAL_SET)
    assert result["n"] >= 1800
    below = {k: result[k] for k, floor in FLOOR.items() if result[k] < floor}
    assert below == {}, f"worse than the recorded floor {FLOOR}: {below}"
