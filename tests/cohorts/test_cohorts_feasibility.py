"""Feasibility counts under disclosure control, and the attacks they must resist: repeating a
query, rephrasing it, slicing it by region, differencing two overlapping queries."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from analytics_tables import PRACTICES, PRACTITIONERS, patient

from p4dp.cohorts.criteria import parse
from p4dp.cohorts.feasibility import (
    NOISE_BOUND,
    feasibility,
    noise_key,
    patient_hashes,
)
from p4dp.privacy.disclosure import Policy, Requester

INDEX = dt.date(2026, 11, 29)
KEY = b"k" * 32
RESEARCHER = Requester("researcher")
#: 60 patients in p1 (region 93), 7 in p2 (region 28); the 4 smokers of p2 are the small count an
#: attacker wants.
N_P1, N_P2, SMOKERS_P2 = 60, 7, 4


@pytest.fixture(scope="module")
def wh(make_wh):
    pats = [patient(f"a{i:03d}", "F" if i % 2 else "M", 1960 + i % 30, 1 + i % 12)
            for i in range(N_P1)]
    pats += [patient(f"b{i:03d}", "F", 1970, 6, practice="p2", gp="med_g3")
             for i in range(N_P2)]
    hist = [{"history_id": f"h{p['patient_id']}", "patient_id": p["patient_id"],
             "kind": "tobacco", "label": "fumeur", "status": "yes", "date": dt.date(2026, 1, 1)}
            for p in pats[:40] + pats[N_P1:N_P1 + SMOKERS_P2]]
    return make_wh(practice=PRACTICES, practitioner=PRACTITIONERS, patient=pats, history=hist)


def cohort(*rules: dict, name: str = "fumeurs"):
    return parse({"name": name, "title_fr": "Fumeurs", "index_date": INDEX.isoformat(),
                  "rules": list(rules)})


SMOKERS = {"type": "history", "kind": "tobacco"}
IN_P1 = {"type": "demographics", "regions": ["93"]}
ANY_AGE = {"type": "demographics", "age_max": 120}


def ask(wh, c, role=RESEARCHER, user="alice", version="v1") -> dict:
    return feasibility(wh, c, role, user, KEY, Policy(), version=version).payload


def consistent(published: int | None, small: int = 10, base: int = 5) -> set[int]:
    """Every exact count an attacker who knows the method finds compatible with a published
    value."""
    if published is None:
        return set(range(0, small + 1))
    return {c for c in range(small + 1, published + NOISE_BOUND + 1)
            if any(max(c + n, small + 1) <= published and
                   -(-max(c + n, small + 1) // base) * base == published
                   for n in range(-NOISE_BOUND, NOISE_BOUND + 1))}


def test_counts_are_suppressed_noisy_and_rounded(wh):
    p = ask(wh, cohort(SMOKERS))
    assert p["total"] % 5 == 0 and abs(p["total"] - 44) <= NOISE_BOUND + 4
    regions = {r["region_code"]: r["count"] for r in p["by_region"]}
    assert regions["28"] is None                       # 4 smokers: a small cell
    assert regions["93"] % 5 == 0 and 40 in consistent(regions["93"])
    assert p["attrition"][0]["count"] in {65, 70, 75} and p["total_fr"] in ("40", "45", "50")
    assert "by_practice" not in p                      # researchers: regions only


def test_a_zero_count_is_not_distinguishable_from_a_small_one(wh):
    p = ask(wh, cohort(SMOKERS, {"type": "demographics", "age_min": 100}))
    assert p["total"] is None and p["total_fr"] == "< 11"


def test_repeating_a_query_gives_the_same_answer(wh):
    answers = {str(ask(wh, cohort(SMOKERS))["by_region"]) for _ in range(5)}
    assert len(answers) == 1


def test_rephrasing_a_definition_draws_no_fresh_noise(wh):
    """The noise is seeded by the set of patients, not the wording: averaging rephrasings that
    select the same patients learns nothing."""
    a = ask(wh, cohort(SMOKERS))
    b = ask(wh, cohort(ANY_AGE, SMOKERS, name="reformule"))
    c = ask(wh, cohort({"type": "all", "rules": [SMOKERS, ANY_AGE]}, name="autre"))
    assert a["total"] == b["total"] == c["total"]
    assert a["by_region"] == b["by_region"] == c["by_region"]


def test_slicing_and_differencing_cannot_recover_the_small_count(wh):
    """Total minus the published region, or (smokers) minus (smokers in region 93): the
    attacker's candidates for the 4 smokers of region 28 always include values that are not 4."""
    total = ask(wh, cohort(SMOKERS))["total"]
    r93 = ask(wh, cohort(SMOKERS, IN_P1, name="r93"))["total"]
    by_region = {r["region_code"]: r["count"] for r in ask(wh, cohort(SMOKERS))["by_region"]}
    for part in (r93, by_region["93"]):
        candidates = {t - p for t in consistent(total) for p in consistent(part)}
        candidates = {c for c in candidates if 0 <= c}
        assert SMOKERS_P2 in candidates
        assert len(candidates & set(range(0, 11))) >= 8, candidates


def test_each_user_and_data_version_has_its_own_noise_but_stays_bounded(wh):
    totals = {ask(wh, cohort(SMOKERS), user=u, version=v)["total"]
              for u in ("alice", "bob", "carol", "dan") for v in ("v1", "v2", "v3")}
    assert len(totals) > 1
    assert all(40 <= t <= 50 for t in totals)          # 44 ± 3, rounded up to 5


def test_attrition_never_increases(wh):
    p = ask(wh, cohort(ANY_AGE, SMOKERS, {"type": "demographics", "sex": "F"}))
    counts = [a["count"] for a in p["attrition"] if a["count"] is not None]
    assert counts == sorted(counts, reverse=True) and len(counts) == 4
    assert p["attrition"][1]["rule"] == "Âge ≤ 120 ans"


def test_practice_breakdown_is_for_data_stewards_only(wh):
    assert "by_practice" in ask(wh, cohort(SMOKERS), role=Requester("data_steward"))
    assert "by_region" not in ask(wh, cohort(SMOKERS), role=Requester("intern"))


def test_the_answer_carries_what_governance_audits(wh):
    c = cohort(SMOKERS)
    a = feasibility(wh, c, RESEARCHER, "alice", KEY, version="v1")
    assert a.audit["action"] == "cohort.count" and a.audit["user"] == "alice"
    assert a.audit["definition_hash"] == c.semantic_hash() and a.audit["data_version"] == "v1"
    assert a.audit["cells_returned"] == 1 + 2 + 2 and a.audit["cells_suppressed"] == 1


def test_data_version_follows_loads_and_withdrawals(make_wh):
    from p4dp.cohorts.feasibility import data_version

    def batch(i, status="loaded"):
        return {"batch_id": f"b{i}", "source_id": "arm", "bundle_sha256": f"s{i}",
                "status": status}

    one = make_wh(load_batch=[batch(1)])
    assert data_version(one) == data_version(make_wh(load_batch=[batch(1), batch(2, "failed")]))
    assert data_version(one) != data_version(make_wh(load_batch=[batch(1), batch(2)]))
    withdrawn = make_wh(load_batch=[batch(1)], withdrawal=[
        {"pseudonym": "arm_x", "kind": "patient", "requested_by": "dpo",
         "requested_at": dt.datetime(2026, 11, 29, 10, 0)}])
    assert data_version(one) != data_version(withdrawn)


def test_patient_hashes_identify_sets_whatever_the_order():
    ids = pa.array(["arm_0a1b", "med_ffff", "x", "arm_0a1c"])
    h = patient_hashes(ids)
    assert len(set(h.tolist())) == 4
    assert np.array_equal(patient_hashes(ids.take([3, 2, 1, 0])), h[[3, 2, 1, 0]])
    assert np.array_equal(patient_hashes(ids.slice(1, 2)), h[1:3])


def test_the_noise_key_is_created_once_and_private(tmp_path):
    k = noise_key(tmp_path)
    assert len(k) == 32 and noise_key(tmp_path) == k
    assert (tmp_path / "cohort_noise.key").stat().st_mode & 0o077 == 0
