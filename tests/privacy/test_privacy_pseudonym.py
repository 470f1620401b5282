import hashlib
import hmac as std_hmac
import re

import pyarrow as pa
import pytest

from p4dp.cdm import CLINICAL_TABLES
from p4dp.privacy.pseudonym import (
    ID_COLUMN_KINDS,
    KEPT_ID_COLUMNS,
    PSEUDONYM_HEX_CHARS,
    nir_linkage_hash,
    normalise_nir,
    pseudonym_of,
    pseudonymise,
    pseudonymise_keyed,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def test_pseudonym_is_source_prefix_and_truncated_hmac_sha256_of_kind_and_local_id():
    out = pseudonymise(pa.array(["10061"]), KEY, "arm", "patient")[0].as_py()
    expected = std_hmac.new(KEY, b"patient:10061", hashlib.sha256).hexdigest()[:20]
    assert out == f"arm_{expected}"
    assert re.fullmatch(rf"arm_[0-9a-f]{{{PSEUDONYM_HEX_CHARS}}}", out)


def test_same_input_gives_same_pseudonyms_and_repeated_ids_share_one():
    ids = pa.chunked_array([["12", "7", "12"], [None, "7"]])
    a = pseudonymise(ids, KEY, "med", "patient").to_pylist()
    b = pseudonymise(ids, KEY, "med", "patient").to_pylist()
    assert a == b
    assert a[0] == a[2] and a[1] == a[4] and a[0] != a[1]
    assert a[3] is None


def test_different_key_kind_or_source_gives_different_pseudonyms():
    ids = pa.array(["1", "2", "3"])
    base = pseudonymise(ids, KEY, "car", "patient").to_pylist()
    assert set(base).isdisjoint(pseudonymise(ids, OTHER_KEY, "car", "patient").to_pylist())
    assert set(base).isdisjoint(pseudonymise(ids, KEY, "car", "encounter").to_pylist())
    assert all(p.startswith("car_") for p in base)
    assert pseudonymise(ids, KEY, "arm", "patient")[0].as_py().startswith("arm_")


def test_row_wise_kinds_match_column_wise_pseudonyms():
    values = pa.array(["A", "B", None, "A"])
    kinds = pa.array(["problem", "encounter", "problem", None])
    out = pseudonymise_keyed(values, kinds, KEY, "arm").to_pylist()
    assert out[0] == pseudonym_of("A", KEY, "arm", "problem")
    assert out[1] == pseudonym_of("B", KEY, "arm", "encounter")
    assert out[2] is None and out[3] is None


def test_every_id_column_of_the_model_is_pseudonymised_or_explicitly_kept():
    for t in CLINICAL_TABLES:
        for c in t.staging_columns():
            if c.name.endswith("_id"):
                assert c.name in ID_COLUMN_KINDS or c.name in KEPT_ID_COLUMNS, (t.name, c.name)


def test_wrong_key_length_is_refused():
    with pytest.raises(ValueError, match="32"):
        pseudonymise(pa.array(["1"]), b"short", "arm", "patient")


def test_nir_normalisation_accepts_separators_checks_the_key_and_drops_it():
    body = "2560375112345"
    key = 97 - int(body) % 97
    assert normalise_nir(f"2 56 03 75 112 345 {key:02d}") == body
    assert normalise_nir(body) == body
    assert normalise_nir(f"{body}{(key + 1) % 97:02d}") is None  # wrong key: a typo
    assert normalise_nir("12345") is None
    corsica = "184022A012345"
    ckey = 97 - int(corsica.replace("2A", "19")) % 97
    assert normalise_nir(f"{corsica[:5]} 2a {corsica[7:]} {ckey:02d}") == corsica


def test_linkage_hash_ignores_layout_and_key_and_depends_on_the_linkage_key():
    body = "2560375112345"
    key = 97 - int(body) % 97
    nirs = pa.array([body, f"2 56 03 75 112 345 {key:02d}", None, "garbage"])
    h = nir_linkage_hash(nirs, KEY).to_pylist()
    assert h[0] == h[1] and len(h[0]) == 64
    assert h[2] is None and h[3] is None
    assert nir_linkage_hash(nirs, OTHER_KEY)[0].as_py() != h[0]
    twice = nir_linkage_hash(nirs, KEY, second_key=OTHER_KEY)[0].as_py()
    assert twice not in (h[0], None)
    assert body not in "".join(x for x in h if x)
