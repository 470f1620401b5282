"""The practice-side step: staging tables → scrubbed, pseudonymised bundle.

Order matters: free text is scrubbed while ids are still local (each text is scrubbed with its own
patient's names), the re-identification map and NIR linkage are written next, and only then are
ids replaced and identifying columns dropped.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from p4dp import __version__ as P4DP_VERSION
from p4dp.agent.bundle import QUARANTINE, bundle_schema, write_bundle
from p4dp.agent.keys import PracticeKeys, check_source_id, load_keys
from p4dp.agent.local import update_nir_linkage, update_reid_map
from p4dp.cdm import CLINICAL_TABLES, table
from p4dp.privacy.pseudonym import (
    ID_COLUMN_KINDS,
    PSEUDONYM_HEX_CHARS,
    nir_linkage_hash,
    pseudonymise,
    pseudonymise_keyed,
)
from p4dp.privacy.scrub import (
    Identities,
    PatientIdentity,
    field_key,
    identity_from_record,
    identifying_values,
    mask_literals,
    scrub_record_json,
    scrub_tables,
    scrub_text,
)
from p4dp.settings import Settings

Progress = Callable[[str], None]

#: Staging schema of the reader's quarantine (the CDM table without the central batch id).
QUARANTINE_COLUMNS = tuple(c for c in table(QUARANTINE).staging_columns() if c.name != "batch_id")

#: FHIR resource types whose references point to a row of a known kind.
FHIR_REFERENCE_KINDS = {"Patient": "patient", "Practitioner": "practitioner",
                        "Encounter": "encounter", "Condition": "problem",
                        "AllergyIntolerance": "antecedent", "Immunization": "vaccination",
                        "MedicationRequest": "prescription"}
_FHIR_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)/([^/]+)$")
#: Substrings of a field name (folded, letters only) that say which kind of id it holds, in the
#: French and English spellings of the three vendor formats; practitioner hints come first
#: ("prescripteur" also contains "prescri").
_ID_KEY_HINTS = (
    ("praticien", "practitioner"), ("practitioner", "practitioner"), ("medecin", "practitioner"),
    ("staff", "practitioner"), ("prescripteur", "practitioner"), ("prescriber", "practitioner"),
    ("superviseur", "practitioner"), ("supervisor", "practitioner"), ("traitant", "practitioner"),
    ("referring", "practitioner"), ("author", "practitioner"), ("performer", "practitioner"),
    ("patient", "patient"), ("encounter", "encounter"), ("consultation", "encounter"),
    ("seance", "encounter"), ("visit", "encounter"), ("problem", "problem"),
    ("vital", "biometric"), ("biometri", "biometric"), ("lab", "lab_result"),
    ("biolog", "lab_result"), ("antecedent", "antecedent"), ("pasthistory", "antecedent"),
    ("habitus", "history"), ("history", "history"), ("vaccin", "vaccination"),
    ("immuniz", "vaccination"), ("rx", "prescription"), ("prescription", "prescription"),
    ("ordonnance", "prescription"),
)
_DIRECT_ID_KEYS = {c.replace("_", ""): kind for c, kind in ID_COLUMN_KINDS.items()}
#: Values of an opposition field that mean "this patient objects".
_OPPOSITION_YES = frozenset({"o", "oui", "y", "yes", "true", "1"})


def id_field_kind(key: str, row_kind: str | None) -> str | None:
    """Kind of id a field of a raw record holds (``None``: not an id field)."""
    if key in _DIRECT_ID_KEYS:
        return _DIRECT_ID_KEYS[key]
    hinted = next((kind for hint, kind in _ID_KEY_HINTS if hint in key), None)
    id_like = (key == "id" or key.endswith("id") or key.startswith(("id", "num", "ref"))
               or (hinted is not None and (key.startswith("n") or "traitant" in key)))
    if not id_like:
        return None
    return hinted or row_kind or "quarantine_row"


def _record_opposes(record: object) -> bool:
    """A raw patient record that says the patient objects (csv-fr, jsonl or FHIR extension)."""
    if not isinstance(record, dict):
        return False
    for k, v in record.items():
        key = field_key(str(k))
        if key in ("opposition", "optout") and str(v).strip().lower() in _OPPOSITION_YES:
            return True
        if key == "extension" and isinstance(v, list):
            for ext in v:
                if isinstance(ext, dict) and "opposition" in str(ext.get("url", "")) \
                        and ext.get("valueBoolean") is True:
                    return True
    return False


def _record_identifying_values(record: str | None) -> list[str]:
    if not record:
        return []
    try:
        return identifying_values(json.loads(record))
    except ValueError:
        return []


class PrepareError(ValueError):
    """The staging tables handed to the agent do not fit the common data model."""


def _row_kind(table_name: str | None) -> str | None:
    """Kind of the primary-key id of a table (``None`` when the key is kept, e.g. practice)."""
    try:
        pk = table(table_name).primary_key[0] if table_name else None
    except KeyError:
        return "quarantine_row"
    return ID_COLUMN_KINDS.get(pk) if pk else None


def conform(name: str, t: pa.Table | None, columns, source_id: str) -> pa.Table:
    """A staging table with exactly the expected columns, in order, or a clear error."""
    schema = pa.schema([pa.field(c.name, c.type.arrow, nullable=c.nullable) for c in columns])
    if t is None:
        return schema.empty_table()
    out = {}
    for f in schema:
        if f.name in t.column_names:
            try:
                out[f.name] = pc.cast(t[f.name], f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise PrepareError(f"table {name}, colonne {f.name} : type {t[f.name].type} "
                                   f"incompatible avec {f.type} ({e}).") from None
        elif f.nullable or f.name == "source_id":
            out[f.name] = pa.nulls(t.num_rows, f.type)
        else:
            raise PrepareError(f"table {name} : colonne obligatoire {f.name} absente. "
                               "Corrigez le lecteur d'export (p4dp.sources).")
    src = out["source_id"]
    if t.num_rows and "source_id" in t.column_names:
        others = pc.unique(pc.drop_null(src)).to_pylist()
        if any(s != source_id for s in others):
            raise PrepareError(f"table {name} : source_id {others} ≠ source configurée "
                               f"{source_id!r}. Vérifiez --source.")
    out["source_id"] = pa.repeat(pa.scalar(source_id, pa.string()), t.num_rows)
    return pa.table(out, schema=schema)


def _set(t: pa.Table, name: str, values) -> pa.Table:
    return t.set_column(t.column_names.index(name), name, values)


def _rejected_patients(q: pa.Table) -> dict[str, tuple[PatientIdentity, bool]]:
    """Patients whose own row the reader rejected: identity (for scrubbing) and objection."""
    mask = pc.fill_null(pc.and_(pc.equal(q["table_name"], "patient"), pc.is_valid(q["patient_id"])),
                        False)
    rows = q.filter(mask)
    out: dict[str, tuple[PatientIdentity, bool]] = {}
    for pid, record in zip(rows["patient_id"].to_pylist(), rows["record"].to_pylist(),
                           strict=True):
        try:
            parsed = json.loads(record) if record else None
        except ValueError:
            parsed = None
        if parsed is not None:
            out[pid] = (identity_from_record(parsed), _record_opposes(parsed))
    return out


def _withhold_opposed(tables: dict[str, pa.Table], quarantine: pa.Table,
                      also_opposed: list[str], source_id: str, practice_id: str
                      ) -> tuple[dict[str, pa.Table], pa.Table, int, int]:
    """Keep nothing of a patient who objected but the row that says so (for central purge)."""
    patient = tables["patient"]
    opposed_mask = pc.fill_null(patient["opposition"], False)
    opposed = pc.unique(pa.concat_arrays([
        pc.filter(patient["patient_id"], opposed_mask).combine_chunks(),
        pa.array(list(also_opposed), pa.string())]))
    if len(opposed) == 0:
        return tables, quarantine, 0, 0
    withheld = 0
    out = dict(tables)
    for name, t in tables.items():
        if name == "patient" or "patient_id" not in t.column_names:
            continue
        keep = pc.invert(pc.fill_null(pc.is_in(t["patient_id"], value_set=opposed), False))
        out[name] = t.filter(keep)
        withheld += t.num_rows - out[name].num_rows
    keep = pc.invert(pc.fill_null(pc.is_in(quarantine["patient_id"], value_set=opposed), False))
    withheld += quarantine.num_rows - int(pc.sum(keep.cast(pa.int64())).as_py() or 0)
    quarantine = quarantine.filter(keep)
    required = {"source_id", "patient_id", "practice_id", "opposition"}
    cols = {}
    for c in patient.column_names:
        if c in required:
            cols[c] = patient[c]
        else:
            cols[c] = pc.if_else(opposed_mask, pa.scalar(None, patient[c].type), patient[c])
    patient = pa.table(cols, schema=patient.schema)
    # An objection read only in a rejected patient record still has to reach the warehouse (to
    # purge earlier loads): a row with nothing but the pseudonym and the objection stands for it.
    missing = pc.filter(opposed, pc.invert(pc.is_in(opposed, value_set=patient["patient_id"])))
    if len(missing):
        n = len(missing)
        extra = {f.name: pa.nulls(n, f.type) for f in patient.schema}
        extra.update(source_id=pa.array([source_id] * n, pa.string()), patient_id=missing,
                     practice_id=pa.array([practice_id] * n, pa.string()),
                     opposition=pa.array([True] * n, pa.bool_()))
        patient = pa.concat_tables([patient, pa.table(extra, schema=patient.schema)])
    out["patient"] = patient
    return out, quarantine, len(opposed), withheld


#: Tables whose dates are events of the export period (antecedent and history dates may be decades
#: older than the export: a 1975 appendectomy does not open the period).
PERIOD_TABLES = ("encounter", "problem", "biometric", "lab_result", "vaccination", "prescription")


#: Dates outside [this, today] are typing errors (the quality step flags them), not the period.
EARLIEST_PLAUSIBLE_EVENT = date(1900, 1, 1)


def _period(tables: dict[str, pa.Table], today: date) -> tuple[date | None, date | None]:
    lows, highs = [], []
    for name in PERIOD_TABLES:
        t = tables[name]
        if t.num_rows:
            d = t["date"]
            plausible = pc.and_(pc.greater_equal(d, pa.scalar(EARLIEST_PLAUSIBLE_EVENT)),
                                pc.less_equal(d, pa.scalar(today)))
            mm = pc.min_max(pc.filter(d, pc.fill_null(plausible, False))).as_py()
            if mm["min"] is not None:
                lows.append(mm["min"])
                highs.append(mm["max"])
    return (min(lows) if lows else None, max(highs) if highs else None)


def _pseudonymise_table(t: pa.Table, keys: PracticeKeys) -> pa.Table:
    for column in t.column_names:
        kind = ID_COLUMN_KINDS.get(column)
        if kind is not None:
            t = _set(t, column, pseudonymise(t[column], keys.pseudonym, keys.source_id, kind))
    return t


def _scrub_quarantine(q: pa.Table, identities: Identities, keys: PracticeKeys,
                      counts: Counter) -> pa.Table:
    """Scrub and pseudonymise the reader's rejects (few rows: a Python loop is fine here)."""
    if q.num_rows == 0:
        return q
    kinds = [_row_kind(n) for n in q["table_name"].to_pylist()]
    pids = q["patient_id"].to_pylist()
    row_keys = q["row_key"].to_pylist()

    cache: dict[tuple[str, str], str] = {}

    def pseudo(value: str, kind: str) -> str:
        got = cache.get((value, kind))
        if got is None:
            got = cache[(value, kind)] = pseudonymise(
                pa.array([value]), keys.pseudonym, keys.source_id, kind)[0].as_py()
        return got

    records, reasons, locations = [], [], []
    for i, (record, reason, location) in enumerate(zip(
            q["record"].to_pylist(), q["reason"].to_pylist(), q["location"].to_pylist(),
            strict=True)):
        own = {}
        if pids[i] is not None:
            own[pids[i]] = pseudo(pids[i], "patient")
        if row_keys[i] is not None and kinds[i] is not None:
            own[row_keys[i]] = pseudo(row_keys[i], kinds[i])

        def map_value(key: str, value: str, kind=kinds[i], own=own) -> str | None:
            k = field_key(key)
            ref = _FHIR_REFERENCE.match(value)
            if k == "reference" and ref:
                return f"{ref.group(1)}/" + pseudo(
                    ref.group(2), FHIR_REFERENCE_KINDS.get(ref.group(1), f"fhir_{ref.group(1)}"))
            if value in own:
                return own[value]
            id_kind = id_field_kind(k, kind)
            return pseudo(value, id_kind) if id_kind is not None else None

        def replace_own(text: str | None, own=own) -> str | None:
            if text is None:
                return None
            for local, pseudonym in own.items():
                # Numeric local ids ("12") must not eat the line number the reason names.
                text = re.sub(rf"(?<!ligne )(?<!line )(?<![\w-]){re.escape(local)}(?![\w-])",
                              pseudonym, text)
            return text

        records.append(scrub_record_json(record, pids[i], identities, map_value, counts))
        # A reader quotes the bad value in its reason: for a rejected patient row that value may
        # be a birth date or a name, known only from the record itself.
        quoted = _record_identifying_values(record)

        def clean(text: str | None, pid=pids[i], quoted=quoted, replace_own=replace_own
                  ) -> str | None:
            # Ids first: a scrubbed name inside a local id ("BIO-ROSE-9") would hide the id.
            text = mask_literals(replace_own(text), quoted, counts)
            return scrub_text(text, pid, identities, counts)

        reasons.append(clean(reason))
        locations.append(clean(location))
    q = _set(q, "record", pa.array(records, pa.string()))
    q = _set(q, "reason", pa.array(reasons, pa.string()))
    q = _set(q, "location", pa.array(locations, pa.string()))
    q = _set(q, "row_key", pseudonymise_keyed(q["row_key"], pa.array(kinds, pa.string()),
                                              keys.pseudonym, keys.source_id))
    # Rows of a table whose key is kept (practice) keep their row key.
    kept = pc.is_null(pa.array(kinds, pa.string()))
    original = pa.array(row_keys, pa.string())
    q = _set(q, "row_key", pc.if_else(kept, original, q["row_key"]))
    return _pseudonymise_table(q, keys)


def prepare_tables(tables: dict[str, pa.Table], quarantine: pa.Table | None, source_id: str,
                   practice_id: str, settings: Settings, out_dir: Path, *,
                   export_period: tuple[date, date] | None = None,
                   progress: Progress | None = None) -> Path:
    """Pseudonymise, scrub and bundle staging tables; returns the bundle folder.

    Writes the re-identification map and the NIR linkage file at the practice as a side effect.
    """
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    check_source_id(source_id)
    keys = load_keys(source_id, settings)
    staging = {t.name: conform(t.name, tables.get(t.name), t.staging_columns(), source_id)
               for t in CLINICAL_TABLES}
    q = conform(QUARANTINE, quarantine, QUARANTINE_COLUMNS, source_id)
    for name in ("patient", "practitioner", "practice"):
        t = staging[name]
        staging[name] = _set(t, "practice_id",
                             pa.repeat(pa.scalar(practice_id, pa.string()), t.num_rows))
    rows_in = sum(t.num_rows for t in staging.values()) + q.num_rows
    rejected = _rejected_patients(q)
    staging, q, n_opposed, n_withheld = _withhold_opposed(
        staging, q, [pid for pid, (_, opposes) in rejected.items() if opposes], source_id,
        practice_id)
    timings["conform"] = time.perf_counter() - t0

    say("Nettoyage du texte libre")
    t0 = time.perf_counter()
    counts: Counter = Counter()
    identities = Identities.from_patient_table(staging["patient"], staging["practitioner"])
    for pid, (identity, _) in rejected.items():
        identities.add(pid, identity)
    staging = scrub_tables(staging, identities, counts)
    q = _scrub_quarantine(q, identities, keys, counts)
    timings["scrub"] = time.perf_counter() - t0

    say("Table de réidentification et chaînage NIR (restent au cabinet)")
    t0 = time.perf_counter()
    patient = staging["patient"]
    practitioner = staging["practitioner"]
    pat_pseudo = pseudonymise(patient["patient_id"], keys.pseudonym, source_id, "patient")
    prac_pseudo = pseudonymise(practitioner["practitioner_id"], keys.pseudonym, source_id,
                               "practitioner")
    update_reid_map(
        source_id,
        pa.concat_arrays([pat_pseudo, prac_pseudo]),
        pa.concat_arrays([pa.repeat(pa.scalar("patient"), len(pat_pseudo)),
                          pa.repeat(pa.scalar("practitioner"), len(prac_pseudo))]),
        pa.concat_arrays([patient["patient_id"].combine_chunks(),
                          practitioner["practitioner_id"].combine_chunks()]),
        settings,
    )
    update_nir_linkage(source_id, pat_pseudo, nir_linkage_hash(patient["nir"], keys.linkage),
                       settings)
    timings["local_files"] = time.perf_counter() - t0

    say("Pseudonymisation")
    t0 = time.perf_counter()
    birth = patient["birth_date"]
    has_birth = pc.is_valid(birth)
    patient = _set(patient, "birth_year", pc.if_else(
        has_birth, pc.cast(pc.year(birth), pa.int16()), patient["birth_year"]))
    patient = _set(patient, "birth_month", pc.if_else(
        has_birth, pc.cast(pc.month(birth), pa.int16()), patient["birth_month"]))
    staging["patient"] = patient
    out: dict[str, pa.Table] = {}
    for name, t in staging.items():
        out[name] = _pseudonymise_table(t, keys).select(bundle_schema(name).names)
    out[QUARANTINE] = q.select(bundle_schema(QUARANTINE).names)
    timings["pseudonymise"] = time.perf_counter() - t0

    say("Écriture du lot")
    period = export_period or _period(staging, date.today())
    extra = {
        "agent": {"p4dp_version": P4DP_VERSION,
                  "pseudonym": {"algorithm": "HMAC-SHA256", "hex_chars": PSEUDONYM_HEX_CHARS}},
        "rows_in": rows_in,
        "opposition": {"patients": n_opposed, "rows_withheld": n_withheld},
        "scrub": dict(sorted(counts.items())),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    path = write_bundle(out, source_id=source_id, practice_id=practice_id, period=period,
                        out_dir=out_dir, extra=extra)
    say(f"Lot prêt : {path}")
    return path


def prepare(export_dir: Path, fmt: str, source_id: str, practice_id: str, settings: Settings,
            out_dir: Path, *, export_period: tuple[date, date] | None = None,
            progress: Progress | None = None) -> Path:
    """Read a vendor export, then pseudonymise, scrub and bundle it (see :func:`prepare_tables`)."""
    from p4dp.sources import read_export

    say = progress or (lambda _msg: None)
    say(f"Lecture de l'export {export_dir} ({fmt})")
    result = read_export(Path(export_dir), fmt, source_id)
    return prepare_tables(result.tables, result.quarantine, source_id, practice_id, settings,
                          out_dir, export_period=export_period, progress=progress)
