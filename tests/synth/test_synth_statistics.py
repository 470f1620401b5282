"""Statistical properties of the demo network: population, rates, calibration, epidemiology."""

from datetime import date

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from p4dp.synth._data import growth_reference, pyramid
from p4dp.synth.ili import sentinelles_weekly
from p4dp.synth.network import network_context

TODAY = date(2026, 11, 29)  # same as conftest.py
SEED_TOP20 = ("K86 R74 _ R78 L03 T90 A62 R05 P76 P06 A44 A50 L86 R75 R76 L99 T93 L15 L87 "
              "U71").split()


def _age_at(birth: pd.Series, at: pd.Series) -> np.ndarray:
    return ((pd.to_datetime(at) - pd.to_datetime(birth)).dt.days / 365.25).to_numpy()


def test_age_pyramid_is_close_to_insee(demo):
    p = demo.tables["patient"].to_pandas()
    alive = p[p.death_date.isna()]
    age = _age_at(alive.birth_date, pd.Series([TODAY] * len(alive), index=alive.index))
    pyr = pyramid()
    edges = np.r_[pyr.age_min, pyr.age_max[-1] + 1]
    band = np.clip(np.searchsorted(edges, age, side="right") - 1, 0, len(pyr.age_min) - 1)
    observed = np.zeros((len(pyr.age_min), 2))
    np.add.at(observed, (band, (alive.sex == "M").to_numpy().astype(int)), 1)
    observed /= observed.sum()
    tvd = 0.5 * np.abs(observed - pyr.cell_probabilities()).sum()
    assert tvd < 0.05, tvd


def test_top20_result_codes_resemble_the_seed(demo):
    truth = demo.ground_truth["problem_codes"]
    results = truth.filter(pc.equal(truth["field"], "result"))["code"]
    counts = sorted(pc.value_counts(results).to_pylist(), key=lambda d: -d["counts"])
    top20 = [d["values"] for d in counts[:20]]
    shared = set(top20) & set(SEED_TOP20)
    assert len(shared) >= 14, (top20, sorted(set(SEED_TOP20) - shared))
    assert top20[0] in ("K86", "R74")


def test_consultation_rates_rise_with_age_and_chronic_conditions(demo):
    enc = demo.tables["encounter"].to_pandas().drop_duplicates(["source_id", "encounter_id"])
    pat = demo.tables["patient"].to_pandas()
    enc = enc.merge(pat[["source_id", "patient_id", "birth_date"]], on=["source_id", "patient_id"])
    enc["age"] = _age_at(enc.birth_date, enc.date)
    # Person-years per age band, from registration to death or export end.
    start = pd.to_datetime(pat.registered_on)
    stop = pd.to_datetime(pat.death_date.fillna(TODAY))
    birth = pd.to_datetime(pat.birth_date)
    bands = [(5, 15), (15, 45), (45, 65), (65, 75), (75, 110)]
    rates = []
    for lo, hi in bands:
        a = np.maximum(start, birth + pd.to_timedelta(lo * 365.25, "D"))
        b = np.minimum(stop, birth + pd.to_timedelta(hi * 365.25, "D"))
        years = np.clip((b - a).dt.days, 0, None).sum() / 365.25
        n = ((enc.age >= lo) & (enc.age < hi)).sum()
        rates.append(n / years)
    assert all(x < y for x, y in zip(rates, rates[1:])), rates

    ctx = network_context("demo", 42, TODAY)
    onset = ctx.pat.onset
    glob = {}
    for i, s in enumerate(ctx.practices.source_id):
        glob[s] = ctx.patient_start[i]
    idx = np.array([glob[s] for s in pat.source_id]) + pat.patient_id.astype(int).to_numpy() - 1
    y0 = pd.Timestamp("2014-01-01")
    ref_day = (y0 - pd.Timestamp("1970-01-01")).days
    chronic = (onset[idx] <= ref_day).any(axis=1)
    age = _age_at(pat.birth_date, pd.Series([y0] * len(pat)))
    present = (start < y0) & (stop > pd.Timestamp("2017-01-01"))
    window = enc[(enc.date >= date(2014, 1, 1)) & (enc.date < date(2017, 1, 1))]
    per = window.groupby(["source_id", "patient_id"]).size()
    n_enc = pd.Series(list(zip(pat.source_id, pat.patient_id))).map(per).fillna(0).to_numpy()
    group = present.to_numpy() & (age >= 45) & (age < 65)
    with_c, without = n_enc[group & chronic].mean(), n_enc[group & ~chronic].mean()
    assert with_c > 1.15 * without, (with_c, without)


def test_ili_follows_the_real_weekly_incidence(demo):
    truth = demo.ground_truth["problem_codes"]
    prob = demo.tables["problem"].select(["source_id", "problem_id", "date"])
    r80 = truth.filter(pc.and_(pc.equal(truth["field"], "result"), pc.equal(truth["code"], "R80")))
    joined = r80.join(prob.group_by(["source_id", "problem_id"]).aggregate([("date", "min")]),
                      ["source_id", "problem_id"])
    days = joined["date_min"].cast("int32").to_numpy()
    mondays, inc = sentinelles_weekly()
    lo = (date.fromisocalendar(2000, 1, 1) - date(1970, 1, 1)).days
    hi = (date.fromisocalendar(2019, 52, 1) - date(1970, 1, 1)).days
    sel = (mondays >= lo) & (mondays <= hi)
    mondays, inc = mondays[sel], inc[sel]
    week = np.searchsorted(mondays, days, side="right") - 1
    ok = (days >= lo) & (days < hi + 7)
    counts = np.bincount(week[ok], minlength=len(mondays)).astype(float)
    pat = demo.tables["patient"]
    reg = pat["registered_on"].cast("int32").to_numpy()
    end = pc.fill_null(pat["death_date"], TODAY).cast("int32").to_numpy()
    active = (np.searchsorted(np.sort(reg), mondays, side="right")
              - np.searchsorted(np.sort(end), mondays, side="right"))
    r = np.corrcoef(counts / active, inc)[0, 1]
    assert r >= 0.8, r


def test_inr_series_have_a_realistic_share_out_of_range(demo):
    lab = demo.tables["lab_result"]
    labels = pc.utf8_lower(lab["raw_label"])
    inr = lab.filter(pc.match_substring_regex(labels, r"^(inr|i\.n\.r\.|international normalized)"))
    v = inr["value"].drop_null().to_numpy()
    assert len(v) > 1000
    out = ((v < 2) | (v > 3)).mean()
    assert 0.35 <= out <= 0.45, out
    assert {"INR", "I.N.R.", "inr (AVK)"} <= set(inr["raw_label"].to_pylist())


def test_hba1c_reported_in_percent_and_mmol_per_mol(demo):
    lab = demo.tables["lab_result"].to_pandas()
    a1c = lab[lab.raw_label.str.contains("A1c|A1C|glyquée", regex=True)]
    assert set(a1c.raw_unit) == {"%", "mmol/mol"}
    pct = a1c[a1c.raw_unit == "%"].value.dropna()
    assert 6.0 < pct.median() < 8.5


def _z_scores(demo):
    bio = demo.tables["biometric"].to_pandas()
    errors = demo.ground_truth["errors"].to_pandas()
    bad = set(zip(errors.source_id, errors.row_key))
    bio = bio[[k not in bad for k in zip(bio.source_id, bio.biometric_id)]]
    pat = demo.tables["patient"].to_pandas()[["source_id", "patient_id", "birth_date", "sex"]]
    bio = bio.merge(pat, on=["source_id", "patient_id"])
    bio["age"] = _age_at(bio.birth_date, bio.date)
    return bio


def test_children_grow_along_plausible_curves_with_same_day_weight_and_height(demo):
    bio = _z_scores(demo)
    ref = growth_reference()
    kids = bio[(bio.age >= 6) & (bio.age < 16)]
    for kind, med_key, sd_key in (("height", "h", "h_sd"), ("weight", "w", "w_lsd")):
        rows = kids[kids.kind == kind]
        z = np.empty(len(rows))
        for sex in ("F", "M"):
            m = (rows.sex == sex).to_numpy()
            a = rows.age.to_numpy()[m]
            med = np.interp(a, ref[sex]["age"], ref[sex][med_key])
            sd = np.interp(a, ref[sex]["age"], ref[sex][sd_key])
            v = rows.value.to_numpy()[m]
            z[m] = (v - med) / sd if kind == "height" else np.log(v / med) / sd
        z = z[~np.isnan(z)]
        assert len(z) > 1000
        assert (np.abs(z) <= 3).mean() > 0.97, (kind, (np.abs(z) <= 3).mean())
    weights = kids[kids.kind == "weight"]
    heights = kids[kids.kind == "height"]
    pairs = set(zip(heights.source_id, heights.encounter_id))
    same_day = np.mean([k in pairs for k in zip(weights.source_id, weights.encounter_id)])
    assert same_day > 0.6, same_day


def test_adults_have_weight_height_and_blood_pressure(demo):
    bio = _z_scores(demo)
    adults = bio[bio.age >= 18]
    assert 150 < adults[adults.kind == "height"].value.median() < 180
    assert 60 < adults[adults.kind == "weight"].value.median() < 85
    sys = adults[adults.kind == "systolic_bp"].value
    assert 115 < sys.median() < 145 and sys.between(80, 230).all()


def test_vaccinations_follow_the_french_calendar_with_free_text_labels(demo):
    vac = demo.tables["vaccination"].to_pandas()
    pat = demo.tables["patient"].to_pandas()[["source_id", "patient_id", "birth_date"]]
    vac = vac.merge(pat, on=["source_id", "patient_id"])
    vac["age"] = _age_at(vac.birth_date, vac.date)
    labels = set(vac.raw_label)
    assert {"REVAXIS", "DTCP", "3 covid et dtp à 25 ans", "INFANRIX HEXA"} <= labels
    covid = vac[vac.raw_label.str.contains("covid|COMIRNATY|SPIKEVAX", case=False)]
    errors = demo.ground_truth["errors"].to_pandas()
    wrong_dates = set(zip(errors[errors.column == "date"].source_id,
                          errors[errors.column == "date"].row_key))
    covid = covid[[k not in wrong_dates for k in zip(covid.source_id, covid.vaccination_id)]]
    assert len(covid) > 0 and (covid.date >= date(2021, 1, 1)).all()
    flu = vac[vac.raw_label.str.contains("VAXIGRIP|INFLUVAC|grippe|FLUARIX", case=False)]
    assert (flu.age >= 60).mean() > 0.7
    seasons = pd.to_datetime(flu.date).dt.year
    assert seasons.nunique() >= 20
    infants = vac[vac.raw_label.isin(["INFANRIX HEXA", "HEXYON", "VAXELIS"])]
    assert infants.age.median() < 1.0


def test_polymedication_is_more_frequent_in_the_elderly(demo):
    rx = demo.tables["prescription"].to_pandas()
    rx = rx[rx.date >= date(2025, 1, 1)]
    pat = demo.tables["patient"].to_pandas()[["source_id", "patient_id", "birth_date"]]
    rx = rx.merge(pat, on=["source_id", "patient_id"])
    rx["age"] = _age_at(rx.birth_date, rx.date)
    per = rx[rx.chronic].groupby(["source_id", "patient_id"]).agg(n=("atc", "nunique"),
                                                                 age=("age", "max"))
    old, middle = per[per.age >= 75], per[(per.age >= 45) & (per.age < 65)]
    assert (old.n >= 5).mean() > 2 * max((middle.n >= 5).mean(), 0.01)
    assert rx.atc.str.fullmatch(r"[A-Z]\d\d[A-Z]{2}(\d\d)?|[A-Z]\d\d[A-Z]{2}").all()


def test_history_mentions_tobacco_alcohol_and_drugs_with_statuses(demo):
    h = demo.tables["history"].to_pandas()
    assert {"tobacco", "alcohol", "drugs", "occupation"} <= set(h.kind)
    tob = h[h.kind == "tobacco"]
    assert {"yes", "no", "former"} == set(tob.status)
    assert 0.15 < (tob.status == "yes").mean() < 0.45
    pat = demo.tables["patient"]
    smokers_known = tob.drop_duplicates(["source_id", "patient_id"])
    assert 0.3 < len(smokers_known) / pat.num_rows < 0.8
