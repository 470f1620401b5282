"""The bundle that leaves the practice: nothing identifying, relations kept, tampering detected."""

import json
import os
import shutil
import stat
import unicodedata
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from agent_fixture import IDENTIFIERS, NIR_JP, NIR_ROSE, staging_export

from p4dp.agent import BundleError, load_keys, prepare_tables, read_bundle, reidentify
from p4dp.agent.bundle import BUNDLE_TABLES, MANIFEST
from p4dp.agent.local import NIR_LINKAGE_FILE, REID_MAP_FILE
from p4dp.cdm import Layer, table
from p4dp.privacy.pseudonym import nir_linkage_hash, pseudonym_of
from p4dp.settings import Settings


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


def _bundle(export, settings, tmp_path):
    tables, quarantine = export
    return prepare_tables(tables, quarantine, "tst", "pr01", settings, tmp_path / "out")


def _all_strings(path) -> str:
    """Every string value of every file of the bundle, and the manifest, folded."""
    parts = [(path / MANIFEST).read_text(encoding="utf-8")]
    for f in sorted(path.glob("*.parquet")):
        t = pq.read_table(f)
        for col in t.columns:
            if pa.types.is_string(col.type):
                parts += [v for v in col.to_pylist() if v is not None]
    return _fold("\n".join(parts))


def test_no_identifier_or_local_id_reaches_any_bundle_file(export, settings, tmp_path):
    path = _bundle(export, settings, tmp_path)
    content = _all_strings(path)
    raw = b"".join(f.read_bytes() for f in path.iterdir())
    for ident in IDENTIFIERS:
        assert _fold(ident) not in content, ident
        assert ident.encode("utf-8") not in raw, ident
    digits = "".join(c for c in content if c.isdigit() or c == "\n")
    for number in ("0612345678", "33798765432", "0493001122", NIR_ROSE[:13], NIR_JP[:13]):
        assert number not in digits, number
    keys = load_keys("tst", settings)
    for key in (keys.pseudonym, keys.linkage):
        assert key not in raw and key.hex().encode() not in raw


def test_bundle_keeps_clinical_text_and_relations(export, settings, tmp_path):
    manifest, t = read_bundle(_bundle(export, settings, tmp_path))
    reasons = t["problem"]["reason_text"].to_pylist()
    assert "Toux grasse depuis 3 jours" in reasons
    assert "Mme [NOM] revue ce jour : rhinopharyngite, toux sèche" in \
        t["problem"]["result_text"].to_pylist()
    enc = set(t["encounter"]["encounter_id"].to_pylist())
    assert set(t["problem"]["encounter_id"].to_pylist()) <= enc
    pract = set(t["practitioner"]["practitioner_id"].to_pylist())
    assert set(t["encounter"]["supervisor_id"].drop_null().to_pylist()) <= pract
    assert set(t["patient"]["gp_id"].drop_null().to_pylist()) <= pract
    pats = set(t["patient"]["patient_id"].to_pylist())
    for name in ("encounter", "problem", "biometric", "prescription", "quarantine"):
        assert set(t[name]["patient_id"].drop_null().to_pylist()) <= pats | {
            pseudonym_of("PAT-XAVIER", load_keys("tst", settings).pseudonym, "tst", "patient")}
    assert all(v.startswith("tst_") and len(v) == 24 for v in enc)
    assert set(t["practice"]["practice_id"].to_pylist()) == {"pr01"}


def test_bundle_files_have_no_practice_or_central_column(export, settings, tmp_path):
    _, t = read_bundle(_bundle(export, settings, tmp_path))
    assert set(t) == set(BUNDLE_TABLES)
    for name, tb in t.items():
        cols = {c.name: c.layer for c in table(name).columns}
        assert all(cols[c] is Layer.BOTH for c in tb.column_names), name


def test_birth_date_is_reduced_to_year_and_month(export, settings, tmp_path):
    _, t = read_bundle(_bundle(export, settings, tmp_path))
    rows = {(r["birth_year"], r["birth_month"]) for r in t["patient"].to_pylist()}
    assert {(1956, 3), (1980, 1)} <= rows
    assert "birth_date" not in t["patient"].column_names


def test_opposed_patient_sends_only_the_objection(export, settings, tmp_path):
    manifest, t = read_bundle(_bundle(export, settings, tmp_path))
    zoe = pseudonym_of("PAT-ZOE", load_keys("tst", settings).pseudonym, "tst", "patient")
    (row,) = [r for r in t["patient"].to_pylist() if r["patient_id"] == zoe]
    assert row["opposition"] is True and row["sex"] is None and row["birth_year"] is None
    for name, tb in t.items():
        if name != "patient" and "patient_id" in tb.column_names:
            assert zoe not in tb["patient_id"].to_pylist(), name
    assert manifest["opposition"] == {"patients": 1, "rows_withheld": 3}


def test_same_export_gives_same_bundle_and_other_key_other_pseudonyms(export, settings, tmp_path):
    first = _bundle(export, settings, tmp_path)
    second = _bundle(staging_export(), settings, tmp_path)
    assert first == second
    assert first.name.startswith("tst-20240320-")
    other = Settings(home=tmp_path / "other-practice-home")
    third = prepare_tables(*staging_export(), "tst", "pr01", other, tmp_path / "out3")
    ids_a = set(read_bundle(first)[1]["patient"]["patient_id"].to_pylist())
    ids_b = set(read_bundle(third)[1]["patient"]["patient_id"].to_pylist())
    assert ids_a.isdisjoint(ids_b)


def test_manifest_lists_counts_hashes_and_reserved_fields(export, settings, tmp_path):
    path = _bundle(export, settings, tmp_path)
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["source_id"] == "tst" and manifest["practice_id"] == "pr01"
    assert manifest["export_period"] == {"start": "2023-10-20", "end": "2024-03-20"}
    assert manifest["encryption"] is None and manifest["signature"] is None
    assert manifest["files"]["patient.parquet"]["rows"] == 3
    assert manifest["files"]["problem.parquet"]["rows"] == 2
    assert len(manifest["files"]["quarantine.parquet"]["sha256"]) == 64
    assert path.name.endswith(manifest["content_sha256"][:8])
    assert not list(path.parent.glob(".tmp-*"))


def _flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, message", [
    (lambda p: _flip_byte(p / "problem.parquet"), "problem.parquet"),
    (lambda p: (p / "patient.parquet").write_bytes((p / "patient.parquet").read_bytes()[:-40]),
     "patient.parquet"),
    (lambda p: (p / "encounter.parquet").unlink(), "encounter.parquet"),
    (lambda p: shutil.copy(p / "patient.parquet", p / "extra.parquet"), "extra.parquet"),
    (lambda p: (p / MANIFEST).unlink(), MANIFEST),
])
def test_tampered_bundle_is_refused_naming_the_file(export, settings, tmp_path, damage, message):
    path = _bundle(export, settings, tmp_path)
    damage(path)
    with pytest.raises(BundleError, match=message.replace(".", r"\.")):
        read_bundle(path)


def test_manifest_edited_to_match_a_changed_row_count_is_refused(export, settings, tmp_path):
    path = _bundle(export, settings, tmp_path)
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["files"]["problem.parquet"]["rows"] = 1
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"problem\.parquet"):
        read_bundle(path)
    manifest["files"]["problem.parquet"]["rows"] = 2
    manifest["files"]["problem.parquet"]["sha256"] = "0" * 64
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="manifest"):
        read_bundle(path)


def test_reidentification_round_trip_stays_at_the_practice(export, settings, tmp_path):
    path = _bundle(export, settings, tmp_path)
    _, t = read_bundle(path)
    pseudonyms = t["patient"]["patient_id"].to_pylist() + ["tst_00000000000000000000"]
    back = reidentify("tst", pseudonyms, settings)
    assert back["local_id"].to_pylist() == ["PAT-ROSE", "PAT-JP", "PAT-ZOE", None]
    assert back["kind"].to_pylist()[:3] == ["patient"] * 3
    doc = t["practitioner"]["practitioner_id"][0].as_py()
    assert reidentify("tst", [doc], settings)["local_id"][0].as_py() == "DOC-GRIMAUD"
    assert not list(path.glob("reid*")) and not list(path.glob("nir*"))


def test_reid_map_is_updated_not_overwritten(export, settings, tmp_path):
    _bundle(export, settings, tmp_path)
    tables, quarantine = staging_export()
    tables["patient"] = tables["patient"].slice(0, 1)  # a later export with fewer patients
    prepare_tables(tables, quarantine, "tst", "pr01", settings, tmp_path / "later")
    reid = pq.read_table(settings.keys / "tst" / REID_MAP_FILE)
    assert set(reid["local_id"].to_pylist()) >= {"PAT-ROSE", "PAT-JP", "PAT-ZOE", "DOC-GRIMAUD"}
    assert reid.num_rows == len(set(reid["pseudonym"].to_pylist()))


def test_nir_linkage_file_is_kept_apart_with_the_linkage_key(export, settings, tmp_path):
    path = _bundle(export, settings, tmp_path)
    keys = load_keys("tst", settings)
    link = pq.read_table(settings.keys / "tst" / NIR_LINKAGE_FILE)
    rose = pseudonym_of("PAT-ROSE", keys.pseudonym, "tst", "patient")
    (h,) = pc.filter(link["nir_hash"], pc.equal(link["pseudonym"], rose)).to_pylist()
    assert h == nir_linkage_hash(pa.array([NIR_ROSE]), keys.linkage)[0].as_py()
    assert h.encode() not in b"".join(f.read_bytes() for f in path.iterdir())


def test_private_files_are_readable_by_the_owner_only(export, settings, tmp_path):
    _bundle(export, settings, tmp_path)
    folder = settings.keys / "tst"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("keys.json", REID_MAP_FILE, NIR_LINKAGE_FILE):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name


def test_keys_are_created_once_and_a_readable_key_file_is_refused(settings):
    first = load_keys("tst", settings)
    assert load_keys("tst", settings) == first
    assert first.pseudonym != first.linkage and len(first.pseudonym) == 32
    os.chmod(first.path, 0o644)
    with pytest.raises(RuntimeError, match="chmod 600"):
        load_keys("tst", settings)


def test_bad_source_id_and_missing_required_column_are_explained(export, settings, tmp_path):
    tables, quarantine = export
    with pytest.raises(ValueError, match="code source"):
        prepare_tables(tables, quarantine, "../x", "pr01", settings, tmp_path)
    tables = dict(tables)
    tables["encounter"] = tables["encounter"].drop_columns(["date"])
    with pytest.raises(ValueError, match="encounter.*date"):
        prepare_tables(tables, quarantine, "tst", "pr01", settings, tmp_path)


def test_numeric_local_ids_are_pseudonymised_but_line_numbers_kept(settings, tmp_path):
    tables, quarantine = staging_export()
    q = quarantine.slice(0, 1).to_pylist()[0]
    q.update(row_key="7", patient_id="PAT-ROSE", table_name="biometric",
             reason="biometrics.csv, ligne 7 — champ « valeur » : biometric 7 illisible",
             location="biometrics.csv, ligne 7", record=json.dumps({"id": "7"}))
    quarantine = pa.Table.from_pylist([q], schema=quarantine.schema)
    path = prepare_tables(tables, quarantine, "tst", "pr01", settings, tmp_path / "out")
    (row,) = read_bundle(path)[1]["quarantine"].to_pylist()
    key = load_keys("tst", settings).pseudonym
    pseudo = pseudonym_of("7", key, "tst", "biometric")
    assert row["location"] == "biometrics.csv, ligne 7"
    assert row["reason"] == (f"biometrics.csv, ligne 7 — champ « valeur » : biometric {pseudo} "
                             "illisible")
    assert json.loads(row["record"]) == {"id": pseudo} and row["row_key"] == pseudo


def test_export_period_ignores_impossible_dates(settings, tmp_path):
    tables, quarantine = staging_export()
    enc = tables["encounter"].to_pylist()
    enc[0]["date"] = date(2099, 1, 1)  # a typo the quality step will flag
    enc[1]["date"] = date(1850, 1, 1)
    tables["encounter"] = pa.Table.from_pylist(enc, schema=tables["encounter"].schema)
    lab = tables["lab_result"].to_pylist()
    lab[0]["date"] = date(2099, 3, 20)
    tables["lab_result"] = pa.Table.from_pylist(lab, schema=tables["lab_result"].schema)
    manifest, _ = read_bundle(prepare_tables(tables, quarantine, "tst", "pr01", settings,
                                             tmp_path / "out"))
    assert manifest["export_period"] == {"start": "2023-10-20", "end": "2024-03-15"}


def test_running_again_repairs_a_damaged_bundle_of_the_same_export(export, settings, tmp_path):
    path = _bundle(export, settings, tmp_path)
    _flip_byte(path / "problem.parquet")
    again = _bundle(staging_export(), settings, tmp_path)
    assert again == path
    read_bundle(again)


def test_shared_linkage_key_changes_nir_hashes_but_not_pseudonyms(export, settings, tmp_path):
    from p4dp.agent.keys import install_linkage_key

    first = read_bundle(_bundle(export, settings, tmp_path))[1]["patient"]["patient_id"]
    before = load_keys("tst", settings)
    shared = bytes(range(100, 132))
    install_linkage_key("tst", shared, settings)
    after = load_keys("tst", settings)
    assert after.linkage == shared and after.pseudonym == before.pseudonym
    assert stat.S_IMODE(after.path.stat().st_mode) == 0o600
    path = prepare_tables(*staging_export(), "tst", "pr01", settings, tmp_path / "later")
    assert read_bundle(path)[1]["patient"]["patient_id"].to_pylist() == first.to_pylist()
    link = pq.read_table(settings.keys / "tst" / NIR_LINKAGE_FILE)
    assert nir_linkage_hash(pa.array([NIR_ROSE]), shared)[0].as_py() in link["nir_hash"].to_pylist()
    with pytest.raises(ValueError, match="32"):
        install_linkage_key("tst", b"short", settings)
