"""Shape of the synthetic network: schemas, ids, practices, identifiers, ground truth."""

import re
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from p4dp.cdm import CLINICAL_TABLES, table
from p4dp.synth import PRESETS, build_network, get_preset
from p4dp.synth.network import GROUND_TRUTH_SCHEMAS

TODAY = date(2026, 11, 29)  # same as conftest.py


def test_same_seed_gives_the_same_network_and_another_seed_does_not(tiny):
    again = build_network("tiny", 7, today=TODAY)
    for name, t in tiny.tables.items():
        assert again.tables[name].equals(t), name
    for name, t in tiny.ground_truth.items():
        assert again.ground_truth[name].equals(t), name
    other = build_network("tiny", 8, today=TODAY)
    assert not other.tables["problem"].equals(tiny.tables["problem"])


def test_every_staging_table_matches_its_cdm_schema_exactly(tiny):
    assert set(tiny.tables) == {t.name for t in CLINICAL_TABLES}
    for t in CLINICAL_TABLES:
        got = tiny.tables[t.name]
        expected = table(t.name).arrow_schema("staging")
        assert got.schema.equals(expected, check_metadata=False), t.name
        assert got.num_rows > 0, t.name
        for col in t.staging_columns():
            values = got.column(col.name)
            if not col.nullable:
                assert values.null_count == 0, f"{t.name}.{col.name} has nulls"
            if col.allowed:
                seen = set(pc.unique(values).drop_null().to_pylist())
                assert seen <= set(col.allowed), f"{t.name}.{col.name}: {seen - set(col.allowed)}"


def test_ground_truth_has_exactly_the_three_contract_tables(tiny):
    assert set(tiny.ground_truth) == {"problem_codes", "errors", "identity_tokens"}
    for name, t in tiny.ground_truth.items():
        assert t.schema.equals(GROUND_TRUTH_SCHEMAS[name]), name
        assert t.num_rows > 0, name


def test_practices_cover_three_formats_and_several_regions_with_unique_short_source_ids(tiny, demo):
    for net in (tiny, demo):
        meta = net.practices
        ids = meta["source_id"].to_pylist()
        assert len(set(ids)) == len(ids) == get_preset(net.preset).practices
        assert all(re.fullmatch(r"[a-z]{3}", s) for s in ids)
        assert set(meta["vendor_format"].to_pylist()) == {"csv-fr", "jsonl", "fhir"}
        assert len(set(meta["region_code"].to_pylist())) >= 3
        assert all(re.fullmatch(r"\d{2}", r) for r in meta["region_code"].to_pylist())
        assert all(re.fullmatch(r"\d{2}|2[AB]", d) for d in meta["departement_code"].to_pylist())
    assert tiny.practices["source_id"].to_pylist() == ["arm", "med", "car"]


def test_unknown_preset_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="tiny, demo, primege, national"):
        build_network("huge", 1)
    assert set(PRESETS) == {"tiny", "demo", "primege", "national"}


def test_ids_are_unique_within_each_source_except_exported_duplicates(tiny):
    errors = tiny.ground_truth["errors"]
    for t in CLINICAL_TABLES:
        got = tiny.tables[t.name]
        key = t.primary_key[0]
        pairs = pc.binary_join_element_wise(got["source_id"], got[key], "|")
        counts = pc.value_counts(pairs)
        repeated = {v["values"] for v in counts.to_pylist() if v["counts"] > 1}
        dups = errors.filter(pc.and_(pc.equal(errors["kind"], "duplicate_row"),
                                     pc.equal(errors["table"], t.name)))
        declared = set(pc.binary_join_element_wise(dups["source_id"], dups["row_key"], "|")
                       .to_pylist())
        assert repeated == declared, t.name


def _nir_key(body: str) -> int:
    digits = body.replace("2A", "19").replace("2B", "18")
    return 97 - int(digits) % 97


def test_nir_is_consistent_with_sex_birth_year_month_and_its_key(tiny):
    p = tiny.tables["patient"].to_pydict()
    for nir, sex, year, month in zip(p["nir"], p["sex"], p["birth_year"], p["birth_month"]):
        assert len(nir) == 15
        assert nir[0] == ("1" if sex == "M" else "2")
        assert int(nir[1:3]) == year % 100 and int(nir[3:5]) == month
        assert int(nir[13:]) == _nir_key(nir[:13])


def test_patients_have_french_contact_details_and_varied_registration_dates(tiny):
    p = tiny.tables["patient"]
    phones = p["phone"].drop_null().to_pylist()
    assert phones and all(re.fullmatch(r"0[1-79]( ?\d\d){4}", x) for x in phones)
    mobiles = sum(x.startswith(("06", "07")) for x in phones) / len(phones)
    assert 0.6 < mobiles < 0.95
    emails = p["email"].drop_null().to_pylist()
    assert emails and all(re.fullmatch(r"[a-z.\-]+\d*@[a-z.]+\.(fr|com|net)", e) for e in emails)
    assert p["relatives"].null_count < p.num_rows
    years = pc.year(p["registered_on"]).to_numpy()
    assert len(np.unique(years)) > 15  # patients arrive over the whole period, not all in 2000
    births = p["birth_date"].to_numpy(zero_copy_only=False)
    assert (p["registered_on"].to_numpy(zero_copy_only=False) >= births).all()


def test_interns_see_patients_under_their_supervisor(tiny):
    prac = tiny.tables["practitioner"].to_pandas()
    enc = tiny.tables["encounter"].to_pandas()
    interns = prac[prac.role == "intern"]
    assert len(interns) > 0 and interns.supervisor_id.notna().all()
    sup_of = dict(zip(zip(interns.source_id, interns.practitioner_id), interns.supervisor_id))
    by_intern = enc[enc.supervisor_id.notna()]
    assert 0.02 < len(by_intern) / len(enc) < 0.25
    for s, p, sup in zip(by_intern.source_id, by_intern.practitioner_id, by_intern.supervisor_id):
        assert sup_of[(s, p)] == sup


def test_problem_ground_truth_covers_every_text_and_source_codes_are_true(tiny):
    prob = tiny.tables["problem"]
    truth = tiny.ground_truth["problem_codes"]
    n_texts = sum(prob[f"{f}_text"].drop_null().__len__() for f in ("reason", "result",
                                                                    "procedure"))
    dup_problems = tiny.ground_truth["errors"].filter(
        pc.and_(pc.equal(tiny.ground_truth["errors"]["kind"], "duplicate_row"),
                pc.equal(tiny.ground_truth["errors"]["table"], "problem")))
    dedup = prob.group_by(["source_id", "problem_id"]).aggregate([])
    assert dedup.num_rows == prob.num_rows - dup_problems.num_rows
    assert truth.num_rows <= n_texts and truth.num_rows > 0.9 * n_texts
    t = truth.to_pandas().set_index(["source_id", "problem_id", "field"])
    df = prob.to_pandas().drop_duplicates(["source_id", "problem_id"])
    for field in ("reason", "result", "procedure"):
        coded = df[df[f"{field}_code_origin"] == "source"]
        assert len(coded) > 0
        assert (coded[f"{field}_code"].notna()).all()
        idx = list(zip(coded.source_id, coded.problem_id, [field] * len(coded)))
        assert (t.loc[idx, "code"].to_numpy() == coded[f"{field}_code"].to_numpy()).all()
        uncoded = df[df[f"{field}_code_origin"] == "none"]
        assert uncoded[f"{field}_code"].isna().all()
    share_uncodable = (truth["code"].to_numpy(zero_copy_only=False) == "_").mean()
    assert 0.02 < share_uncodable < 0.045
    share_source = (df.result_code_origin == "source").mean()
    assert 0.05 < share_source < 0.5  # partly coded by the GP, mostly free text


def test_free_text_looks_like_gp_notes(demo):
    texts = demo.ground_truth["problem_codes"]["text"].to_pylist()
    joined = "\n".join(texts[:200_000])
    for marker in ("HTA", "DT2", "RGO", "OMA", "renouv", "pas de fièvre", "ATCD familial"):
        assert marker in joined, marker
    assert "BPCO" in "\n".join(texts)


def test_every_identity_token_is_written_in_its_text(tiny):
    tokens = tiny.ground_truth["identity_tokens"].to_pylist()
    assert {t["token_kind"] for t in tokens} >= {"last_name", "relative_name", "phone"}
    prob = tiny.tables["problem"].to_pandas().set_index(["source_id", "problem_id"])
    ant = tiny.tables["antecedent"].to_pandas().set_index(["source_id", "antecedent_id"])
    pat = tiny.tables["patient"].to_pandas().set_index(["source_id", "patient_id"])
    for t in tokens:
        if t["table"] == "problem":
            text = prob.loc[(t["source_id"], t["row_key"]), "result_text"]
        else:
            text = ant.loc[(t["source_id"], t["row_key"]), "text"]
        if isinstance(text, pa.ChunkedArray) or hasattr(text, "iloc"):
            text = text.iloc[0]
        assert t["token"] in text
        who = pat.loc[(t["source_id"], t["patient_id"])]
        if t["token_kind"] == "phone":
            assert who.phone == t["token"]
        if t["token_kind"] == "last_name":
            assert who.last_name == t["token"]
        if t["token_kind"] == "relative_name":
            assert t["token"] in who.relatives.split(";")
