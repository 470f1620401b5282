"""Cases, active-patient denominators, incidence and intervals on hand-made warehouses."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from surveillance_tables import D, PRACTICES, build, encounter, patient, problem

from p4dp.surveillance import incidence as I
from p4dp.surveillance.population import NATIONAL
from p4dp.surveillance.syndromes import SYNDROMES, get

W1 = D(2024, 1, 1)  # Monday of 2024-W01


def week(n: int) -> dt.date:
    return W1 + dt.timedelta(weeks=n - 1)


@pytest.fixture
def wh(tmp_path):
    pats = [patient("a"), patient("b"), patient("c", practice="p2"),
            patient("dead", death_date=week(3) + dt.timedelta(days=2)),
            patient("opp", opposition=True),
            patient("baby", by=2023, bm=3),  # 24 months on 15/03/2025
            patient("kid", by=2020, bm=1)]
    enc = [encounter("a", week(1)), encounter("a", week(1) + dt.timedelta(days=3)),
           encounter("b", week(2)), encounter("c", week(1)), encounter("dead", week(1)),
           encounter("opp", week(1)), encounter("baby", week(2)), encounter("kid", week(2))]
    pbs = [
        # a: two influenza problems in week 1 count once; also an ARI case (R80 is in both)
        problem("a", week(1), result="R80"), problem("a", week(1) + dt.timedelta(days=3),
                                                     reason="R80"),
        problem("b", week(2), result="D73"),
        problem("c", week(1), result="R80"),
        problem("opp", week(1), result="R80"),  # objected: never counted
        problem("baby", week(2), result="R78"), problem("kid", week(2), result="R78"),
        problem("b", week(2), result="A78", result_text="Erythème migrant après piqûre"),
        problem("a", week(2), result="A78", result_text="infection urinaire"),
    ]
    return build(tmp_path / "wh.duckdb", {"practice": PRACTICES, "patient": pats,
                                          "encounter": enc, "problem": pbs})


def test_cases_count_one_patient_per_syndrome_and_week(wh):
    c = I.build_cube(wh, start=week(1), end=week(4) + dt.timedelta(days=6))
    s, r93, r28, fr = c.s_index("grippe"), c.r_index("93"), c.r_index("28"), c.r_index(NATIONAL)
    assert c.regions == ("28", "93", NATIONAL)
    assert c.cases[s, r93, 0] == 1 and c.cases[s, r28, 0] == 1 and c.cases[s, fr, 0] == 2
    assert c.cases[c.s_index("ira"), fr, 0] == 2
    assert c.cases[c.s_index("diarrhee"), r93, 1] == 1
    # Lyme only with the words in the coded text
    assert c.cases[c.s_index("lyme"), fr].tolist() == [0, 1, 0, 0]
    # bronchiolitis: the 10-month-old counts, the 4-year-old does not; both are ARI cases
    assert c.cases[c.s_index("bronchiolite"), fr, 1] == 1
    assert c.cases[c.s_index("ira"), fr, 1] == 2


def test_active_patients_follow_the_window_death_and_opposition(wh):
    c = I.build_cube(wh, start=week(1), end=week(4) + dt.timedelta(days=6))
    s, fr = c.s_index("grippe"), c.r_index(NATIONAL)
    # week 1: a, c, dead (opp excluded); week 2: + b, baby, kid; week 4: dead is gone (died in
    # week 3, counted up to that week)
    assert c.population[s, fr].tolist() == [3, 6, 6, 5]
    assert c.population[s, c.r_index("28")].tolist() == [1, 1, 1, 1]
    # under-2 denominator: only the baby
    assert c.population[c.s_index("bronchiolite"), fr].tolist() == [0, 1, 1, 1]


def test_patients_leave_the_list_after_the_active_window(tmp_path):
    wh = build(tmp_path / "w.duckdb", {
        "practice": PRACTICES, "patient": [patient("a"), patient("b")],
        "encounter": [encounter("a", week(1)), encounter("b", week(1)),
                      encounter("b", week(1) + dt.timedelta(weeks=60))]})
    end = week(1) + dt.timedelta(weeks=I.ACTIVE_WINDOW_WEEKS + 10)
    c = I.build_cube(wh, start=week(1), end=end)
    pop = c.population[0, c.r_index(NATIONAL)]
    w = I.ACTIVE_WINDOW_WEEKS
    assert pop[0] == 2 and pop[w - 1] == 2  # the last week of a's window
    assert pop[w] == 1  # a left; b came back in week 61 and stays
    assert pop[-1] == 1


def test_age_limit_ends_the_under_two_list_at_the_second_birthday(tmp_path):
    # born March 2022 (assumed 15/03/2022): two on 15/03/2024, a Friday of 2024-W11
    wh = build(tmp_path / "w.duckdb", {
        "practice": PRACTICES, "patient": [patient("baby", by=2022, bm=3)],
        "encounter": [encounter("baby", week(1))]})
    # a period ending years later: the child is still counted while under 2
    c = I.build_cube(wh, start=week(1), end=D(2027, 6, 30), syndromes=(get("bronchiolite"),))
    pop = c.population[0, c.r_index(NATIONAL)]
    assert pop[:10].tolist() == [1] * 10  # weeks 1–10
    assert not pop[10:].any()  # from the week of the second birthday


def test_incidence_and_exact_poisson_interval():
    lo, hi = I.poisson_rate_ci(np.array([0, 10]), np.array([1000, 100_000]))
    # Garwood: 0 cases → [0, 3.689]; 10 cases → [4.795, 18.390] (per population)
    assert lo[0] == 0 and hi[0] == pytest.approx(3.689 / 1000 * 1e5, rel=1e-3)
    assert lo[1] == pytest.approx(4.795, rel=1e-3) and hi[1] == pytest.approx(18.390, rel=1e-3)
    lo, hi = I.poisson_rate_ci(np.array([3]), np.array([0]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_extrapolation_uses_the_insee_population_and_skips_age_limited_syndromes(wh):
    c = I.build_cube(wh, start=week(1), end=week(2) + dt.timedelta(days=6))
    s, r93 = c.s_index("grippe"), c.r_index("93")
    inc = c.incidence[s, r93, 0]
    assert inc == pytest.approx(1 / 2 * 1e5)  # a (case) and dead (not a case) active in 93
    assert c.extrapolated[s, r93, 0] == pytest.approx(inc * 5_127_840 / 1e5)
    assert np.isnan(c.extrapolated[c.s_index("bronchiolite")]).all()


def test_the_stored_long_table_gives_the_same_cube(wh):
    c = I.build_cube(wh, start=week(1), end=week(4) + dt.timedelta(days=6))
    back = I.Cube.from_arrow(c.to_arrow(), c.as_of)
    assert back.weeks == c.weeks and back.regions == c.regions
    assert [s.key for s in back.syndromes] == [s.key for s in c.syndromes]
    assert (back.cases == c.cases).all() and (back.population == c.population).all()


def test_parse_week_accepts_iso_weeks_and_explains_errors():
    assert I.parse_week("2024-W05") == D(2024, 1, 29)
    assert I.week_label(D(2024, 12, 30)) == "2025-W01"
    with pytest.raises(ValueError, match="2024-W05"):
        I.parse_week("2024-05")


def test_every_syndrome_has_codes_and_a_french_source():
    assert {"grippe", "ira", "diarrhee", "varicelle", "bronchiolite", "covid", "lyme",
            "gale"} <= set(SYNDROMES)
    for s in SYNDROMES.values():
        assert s.result_codes or s.reason_codes
        assert "CISP-2" in s.source
