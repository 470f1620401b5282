"""Injected errors: rates as documented, recorded faithfully, the seed's readings verbatim."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from p4dp.synth import dirt

TODAY = date(2026, 11, 29)  # same as conftest.py


@pytest.fixture(scope="module")
def frames(demo):
    bio = demo.tables["biometric"].to_pandas()
    pat = demo.tables["patient"].to_pandas()
    meta = demo.practices.to_pandas()
    errors = demo.ground_truth["errors"].to_pandas()
    return bio, pat, meta, errors


def _eligible_counts(demo, bio, pat, meta):
    """Rows each error kind could have hit, counted on the exported (dirty) tables."""
    b = bio.drop_duplicates(["source_id", "biometric_id"]).merge(
        pat[["source_id", "patient_id", "birth_date"]], on=["source_id", "patient_id"])
    age = ((pd.to_datetime(b.date) - pd.to_datetime(b.birth_date)).dt.days / 365.25).to_numpy()
    not_csv = b.source_id.isin(meta[meta.vendor_format != "csv-fr"].source_id).to_numpy()
    w, h = (b.kind == "weight").to_numpy(), (b.kind == "height").to_numpy()
    lab = demo.tables["lab_result"].to_pandas().drop_duplicates(["source_id", "lab_result_id"])
    vac = demo.tables["vaccination"].to_pandas().drop_duplicates(["source_id", "vaccination_id"])
    lab_numeric = (lab.value.notna() | lab.raw_value.notna()).to_numpy()
    lab_not_csv = lab.source_id.isin(meta[meta.vendor_format != "csv-fr"].source_id).to_numpy()
    comma_kinds = b.kind.isin(dirt.DECIMAL_COMMA_BIOMETRIC_KINDS).to_numpy()
    pairs = b[(b.kind.isin(["weight", "height"])) & (age >= 18)].groupby(
        ["source_id", "encounter_id"]).kind.nunique()
    # Dates can be moved by an error, so ages are approximate for the few dated errors: the
    # tolerance below absorbs them.
    dated = len(b) + len(lab) + len(vac)
    counts = {
        "implausible_weight": (w & (age >= 2) & (age < 18)).sum(),
        "implausible_height_for_age": (h & (age >= dirt.IMPLAUSIBLE_HEIGHT_AGES[0])
                                       & (age < dirt.IMPLAUSIBLE_HEIGHT_AGES[1])).sum(),
        "wrong_recorded_bmi": (b.kind == "bmi").sum(),
        "height_in_metres": (h & (age >= 18)).sum(),
        "weight_in_grams": w.sum(),
        "decimal_comma": (comma_kinds & not_csv).sum() + (lab_numeric & lab_not_csv).sum(),
        "swapped_weight_height": (pairs == 2).sum(),
        "future_date": dated,
        "before_birth": dated,
    }
    dup_rows = sum(demo.tables[t].num_rows for t in dirt.DUPLICATE_TABLES)
    counts["duplicate_row"] = dup_rows
    return counts


def test_injected_error_rates_match_the_documented_rates(demo, frames):
    bio, pat, meta, errors = frames
    eligible = _eligible_counts(demo, bio, pat, meta)
    observed = errors.kind.value_counts()
    assert set(dirt.ERROR_RATES) <= set(observed.index)
    for kind, rate in dirt.ERROR_RATES.items():
        expected = rate * eligible[kind]
        got = observed.get(kind, 0)
        if kind == "swapped_weight_height":
            got /= 2  # one error row for the weight, one for the height
        # Poisson noise, plus 15 % for rows already hit by another error (one error per row).
        assert abs(got - expected) <= 4 * np.sqrt(expected) + 0.15 * expected + 2, (
            kind, got, expected)


def test_label_variants_are_recorded_apart_from_errors(demo, frames):
    errors = frames[3]
    variants = errors[errors.kind == "label_variant"]
    assert set(variants.table) == {"lab_result", "vaccination"}
    assert {"I.N.R.", "inr (AVK)", "3 covid et dtp à 25 ans"} <= set(variants.raw_value)
    assert "label_variant" in dirt.NON_ERROR_KINDS and "label_variant" not in dirt.ERROR_RATES


def test_every_error_points_at_an_exported_row_showing_the_raw_value(demo, frames):
    bio, pat, meta, errors = frames
    e = errors[errors.table == "biometric"].merge(
        bio.drop_duplicates(["source_id", "biometric_id"]),
        left_on=["source_id", "row_key"], right_on=["source_id", "biometric_id"], how="left",
        suffixes=("", "_row"))
    assert e.biometric_id.notna().all()
    comma = e[e.kind == "decimal_comma"]
    assert comma.value.isna().all() and (comma.raw_value == comma.raw_value_row).all()
    assert comma.raw_value.str.fullmatch(r"\d+,\d\d").all()
    valued = e[(e.column == "value") & (e.kind != "decimal_comma")]
    assert np.allclose(valued.raw_value.astype(float), valued.value)
    cleaned = valued[valued.clean_value.notna()]
    assert (~np.isclose(cleaned.clean_value.astype(float), cleaned.value)).all()
    future = e[e.kind == "future_date"]
    assert (future.date > TODAY).all() and (future.date.astype(str) == future.raw_value).all()
    early = e[e.kind == "before_birth"].merge(pat[["source_id", "patient_id", "birth_date"]],
                                             on=["source_id", "patient_id"])
    assert len(early) and (early.date < early.birth_date).all()


def test_the_seed_bad_child_readings_are_present_verbatim(demo, frames):
    bio, pat, meta, errors = frames
    wide = bio.pivot_table(index=["source_id", "encounter_id"], columns="kind", values="value",
                           aggfunc="first")
    for _age, weight, height, bmi, *_ in dirt.SEED_CHILD_READINGS:
        hit = wide[(wide.weight == weight) & (wide.height == height) & (wide.bmi == bmi)]
        assert len(hit) >= 1, (weight, height, bmi)
    assert ((errors.kind == "wrong_recorded_bmi") & (errors.raw_value == "212278.88")).any()
