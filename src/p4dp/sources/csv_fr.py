"""Reader of the ``csv-fr`` export (docs/formats/csv-fr.md): one ``;``-separated file per table,
Windows-1252/Latin-1 (or UTF-8, with or without BOM), French headers, ``jj/mm/aaaa`` dates,
decimal commas, sex ``H``/``F``, booleans ``O``/``N`` and biometrics written *wide* (one row per
reading session).

The vocabulary below (file names, headers, codes) is the format's single definition: the synthetic
writer (``p4dp.synth.writers.csv_fr``) imports it, the documentation page describes it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from p4dp.sources._common import (
    Candidate,
    Quarantine,
    blank_to_null,
    concat_or_empty,
    conform,
    empty_tables,
    split_number,
    to_utf8,
)

FORMAT = "csv-fr"
DELIMITER = ";"
#: The encoding the writer uses; the reader detects UTF-8 (with or without BOM) and cp1252/Latin-1.
ENCODING = "cp1252"
DATE_FORMAT = "%d/%m/%Y"
#: A number in this format: optional sign, digits, optional decimal comma (``45,3``).
NUMBER_PATTERN = r"^[+-]?\d+(,\d+)?([eE][+-]?\d+)?$"

SEX = {"M": "H", "F": "F"}
BOOL = {True: "O", False: "N"}
CODES: dict[str, dict[str, str]] = {
    "practice.kind": {"cabinet": "Cabinet", "msp": "MSP", "centre_sante": "Centre de santé"},
    "practitioner.role": {"gp": "Médecin", "intern": "Interne"},
    "practitioner.participation": {"active": "Active", "withdrawn": "Retirée"},
    "encounter.kind": {"cabinet": "C", "visite": "V", "teleconsultation": "TC", "telephone": "T",
                       "autre": "A"},
    "antecedent.kind": {"medical": "Médical", "surgical": "Chirurgical", "family": "Familial",
                        "allergy": "Allergie"},
    "history.kind": {"tobacco": "Tabac", "alcohol": "Alcool", "drugs": "Drogues",
                     "occupation": "Profession", "family_situation": "Situation familiale",
                     "physical_activity": "Activité physique"},
    "history.status": {"yes": "Oui", "no": "Non", "former": "Ancien", "unknown": "Inconnu"},
}

#: table → (file, [(header, CDM column, kind)]); kind: str | date | int | bool | sex | code.
FILES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "practice": ("cabinet.csv", [
        ("Code cabinet", "practice_id", "str"), ("Nom du cabinet", "name", "str"),
        ("Région", "region_code", "str"), ("Département", "departement_code", "str"),
        ("Type de structure", "kind", "code")]),
    "practitioner": ("praticiens.csv", [
        ("N° praticien", "practitioner_id", "str"), ("Code cabinet", "practice_id", "str"),
        ("Nom", "last_name", "str"), ("Prénom", "first_name", "str"), ("Sexe", "sex", "sex"),
        ("Année de naissance", "birth_year", "int"), ("Fonction", "role", "code"),
        ("Maître de stage", "supervisor_id", "str"), ("Participation", "participation", "code"),
        ("RPPS", "rpps", "str")]),
    "patient": ("patients.csv", [
        ("N° patient", "patient_id", "str"), ("Code cabinet", "practice_id", "str"),
        ("Médecin traitant", "gp_id", "str"), ("Nom", "last_name", "str"),
        ("Nom de naissance", "birth_name", "str"), ("Prénom", "first_name", "str"),
        ("Date de naissance", "birth_date", "date"), ("Sexe", "sex", "sex"),
        ("NIR", "nir", "str"), ("Adresse", "address", "str"), ("Code postal", "postcode", "str"),
        ("Ville", "city", "str"), ("Département", "departement_code", "str"),
        ("Téléphone", "phone", "str"), ("Email", "email", "str"),
        ("Entourage", "relatives", "str"), ("Date création dossier", "registered_on", "date"),
        ("Date de décès", "death_date", "date"), ("Opposition", "opposition", "bool")]),
    "encounter": ("consultations.csv", [
        ("N° consultation", "encounter_id", "str"), ("N° patient", "patient_id", "str"),
        ("N° praticien", "practitioner_id", "str"), ("N° superviseur", "supervisor_id", "str"),
        ("Date", "date", "date"), ("Type", "kind", "code")]),
    "problem": ("problemes.csv", [
        ("N° problème", "problem_id", "str"), ("N° consultation", "encounter_id", "str"),
        ("N° patient", "patient_id", "str"), ("N° praticien", "practitioner_id", "str"),
        ("Date", "date", "date"), ("N° ordre", "rank", "int"),
        ("Motif", "reason_text", "str"), ("Code motif", "reason_code", "str"),
        ("Diagnostic", "result_text", "str"), ("Code diagnostic", "result_code", "str"),
        ("Procédure", "procedure_text", "str"), ("Code procédure", "procedure_code", "str")]),
    "lab_result": ("biologie.csv", [
        ("N° résultat", "lab_result_id", "str"), ("N° patient", "patient_id", "str"),
        ("Date prélèvement", "date", "date"), ("Examen", "raw_label", "str"),
        ("Résultat", "value", "number"), ("Unité", "raw_unit", "str"),
        ("Résultat texte", "text_value", "str")]),
    "antecedent": ("antecedents.csv", [
        ("N° antécédent", "antecedent_id", "str"), ("N° patient", "patient_id", "str"),
        ("Type", "kind", "code"), ("Date", "date", "date"), ("Libellé", "text", "str"),
        ("Code CISP", "code", "str")]),
    "history": ("habitus.csv", [
        ("N° habitus", "history_id", "str"), ("N° patient", "patient_id", "str"),
        ("Date", "date", "date"), ("Catégorie", "kind", "code"), ("Libellé", "label", "str"),
        ("Statut", "status", "code")]),
    "vaccination": ("vaccins.csv", [
        ("N° vaccination", "vaccination_id", "str"), ("N° patient", "patient_id", "str"),
        ("Date", "date", "date"), ("Vaccin", "raw_label", "str")]),
    "prescription": ("ordonnances.csv", [
        ("N° ligne", "prescription_id", "str"), ("N° patient", "patient_id", "str"),
        ("N° consultation", "encounter_id", "str"), ("N° prescripteur", "practitioner_id", "str"),
        ("Date", "date", "date"), ("Médicament", "drug_label", "str"),
        ("Code ATC", "atc", "str"), ("Code CIS", "cis_code", "str"), ("Posologie", "dose", "str"),
        ("Durée (j)", "duration_days", "int"), ("Traitement de fond", "chronic", "bool")]),
}

#: Biometrics, wide: one row per reading session (patient, encounter, date).
BIOMETRIC_FILE = "biometrie.csv"
BIOMETRIC_KEYS: list[tuple[str, str]] = [
    ("N° relevé", "reading_id"), ("N° patient", "patient_id"),
    ("N° consultation", "encounter_id"), ("Date", "date")]
#: header → (CDM kind, canonical unit); the unit is implied by the header in this format.
BIOMETRIC_COLUMNS: list[tuple[str, str, str]] = [
    ("Poids (kg)", "weight", "kg"), ("Taille (cm)", "height", "cm"), ("IMC", "bmi", "kg/m2"),
    ("TAS", "systolic_bp", "mmHg"), ("TAD", "diastolic_bp", "mmHg"),
    ("FC", "heart_rate", "/min"), ("Température", "temperature", "Cel"),
    ("Périmètre crânien (cm)", "head_circumference", "cm"),
    ("Tour de taille (cm)", "waist_circumference", "cm")]


def biometric_id(reading_id: pa.Array, kind: str) -> pa.Array:
    """Derived id of one measured quantity of a wide reading: ``<N° relevé>-<kind>``."""
    return pc.binary_join_element_wise(reading_id, pa.scalar(kind), "-")


# ── reading one file ─────────────────────────────────────────────────────────────────────────────

class CsvFile:
    """One CSV file parsed as strings, with the physical line number of every kept record."""

    def __init__(self, path: Path, quarantine: Quarantine, table_name: str):
        self.name = path.name
        data, self.encoding = to_utf8(path.read_bytes())
        self.rows = pa.table({})
        self.lines = np.zeros(0, dtype=np.int64)
        self._read(data, quarantine, table_name)

    def _read(self, data: bytes, quarantine: Quarantine, table_name: str) -> None:
        invalid: list[str] = []

        def on_invalid(row) -> str:
            invalid.append(row.text)
            return "skip"

        try:
            first = data[: data.find(b"\n") + 1 or len(data)].decode("utf-8")
            header = next(csv.reader(io.StringIO(first), delimiter=DELIMITER), [])
            self.rows = pcsv.read_csv(
                io.BytesIO(data),
                read_options=pcsv.ReadOptions(use_threads=False),
                parse_options=pcsv.ParseOptions(delimiter=DELIMITER, newlines_in_values=True,
                                                invalid_row_handler=on_invalid),
                convert_options=pcsv.ConvertOptions(
                    column_types={h: pa.string() for h in header}, strings_can_be_null=False,
                    quoted_strings_can_be_null=False),
            )
        except pa.ArrowInvalid:
            # Arrow gives up on an unbalanced quote (a file cut in the middle of a record): read it
            # again record by record so that everything before and after the damage is kept.
            self._read_slowly(data, quarantine, table_name)
            return
        # Physical line of each kept record = header + earlier records + their embedded newlines
        # + the lines of the rejected records that came before it.
        nl = np.zeros(self.rows.num_rows, dtype=np.int64)
        for col in self.rows.columns:
            nl += np.asarray(pc.fill_null(pc.count_substring(col, "\n"), 0), dtype=np.int64)
        lines = 2 + np.arange(self.rows.num_rows) + np.concatenate(([0], np.cumsum(nl)[:-1]))
        pos = 0
        for text in invalid:
            raw = text.encode("utf-8")
            at = data.find(raw, pos)
            line = data.count(b"\n", 0, at) + 1 if at >= 0 else None
            pos = at + len(raw) if at >= 0 else pos
            if line is not None:
                lines[lines >= line] += raw.count(b"\n") + 1
            fields = next(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITER), [""])
            where = f"{self.name}, ligne {line}" if line else self.name
            quarantine.add(
                table_name=table_name, check_id="reader.csv_bad_line",
                reason=f"{where} — ligne tronquée ou mal formée : {len(fields)} champs au lieu de "
                       f"{self.rows.num_columns} ; corriger l'export puis le renvoyer",
                location=where, record={"texte": text}, row_key=(fields or [""])[0] or None)
        self.lines = lines

    def _read_slowly(self, data: bytes, quarantine: Quarantine, table_name: str) -> None:
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=DELIMITER)
        header = next(reader, [])
        good: list[list[str]] = []
        lines: list[int] = []
        start = reader.line_num + 1
        for fields in reader:
            if len(fields) == len(header):
                good.append(fields)
                lines.append(start)
            elif fields:
                where = f"{self.name}, ligne {start}"
                quarantine.add(
                    table_name=table_name, check_id="reader.csv_bad_line",
                    reason=f"{where} — ligne tronquée ou mal formée (guillemet non fermé ?) : "
                           f"{len(fields)} champs au lieu de {len(header)} ; corriger l'export",
                    location=where, record={"champs": fields}, row_key=fields[0] or None)
            start = reader.line_num + 1
        cols = list(zip(*good)) if good else [[] for _ in header]
        self.rows = pa.table({h: pa.array(list(c), pa.string()) for h, c in zip(header, cols)})
        self.lines = np.asarray(lines, dtype=np.int64)

    def get(self, header: str) -> pa.Array | None:
        names = {n.strip().casefold(): n for n in self.rows.column_names}
        name = names.get(header.casefold())
        return None if name is None else self.rows[name].combine_chunks()

    def location(self, i: int) -> str:
        return f"{self.name}, ligne {int(self.lines[i])}"

    def record(self, i: int) -> dict:
        return {k: v[0] for k, v in self.rows.slice(i, 1).to_pydict().items()}


# ── conversions of the vendor conventions ────────────────────────────────────────────────────────

def _decode_code(cand: Candidate, arr: pa.Array, mapping: dict, label: str) -> pa.Array:
    """Vendor code → CDM value; an unknown code is rejected with the field's name."""
    s = blank_to_null(arr)
    vendor = [str(k).casefold() for k in mapping.values()]
    cdm = list(mapping.keys())
    idx = pc.index_in(pc.utf8_lower(s), pa.array(vendor))
    out = pc.take(pa.array(cdm), idx)
    unknown = np.asarray(pc.is_valid(s)) & ~np.asarray(pc.is_valid(idx))
    accepted = ", ".join(str(v) for v in mapping.values())
    cand.reject(unknown, label, "reader.unknown_code",
                "code inconnu « {value} » (codes admis : " + accepted + ")", s)
    return out


def _candidate(f: CsvFile, table_name: str, spec: list[tuple[str, str, str]]) -> Candidate:
    n = f.rows.num_rows
    cand = Candidate(table_name, {}, {}, f.location, f.record)
    for header, col, kind in spec:
        cand.labels[col] = header
        arr = f.get(header)
        if arr is None:
            continue
        if kind == "sex":
            arr = _decode_code(cand, arr, SEX, header)
        elif kind == "bool":
            arr = _decode_code(cand, arr, BOOL, header)
        elif kind == "code":
            arr = _decode_code(cand, arr, CODES[f"{table_name}.{col}"], header)
        elif kind == "number":
            value, raw = split_number(arr, NUMBER_PATTERN, ",")
            cand.columns["raw_value"] = raw
            cand.labels["raw_value"] = header
            arr = value
        cand.columns[col] = arr
    if table_name == "problem":
        for part in ("reason", "result", "procedure"):
            code = cand.columns.get(f"{part}_code")
            if code is not None:
                code = blank_to_null(code)
                cand.columns[f"{part}_code"] = code
                cand.columns[f"{part}_code_origin"] = pc.if_else(
                    pc.is_valid(code), pa.scalar("source"), pa.scalar("none"))
    elif table_name == "antecedent" and "code" in cand.columns:
        code = blank_to_null(cand.columns["code"])
        cand.columns["code_origin"] = pc.if_else(pc.is_valid(code), pa.scalar("source"),
                                                 pa.scalar("none"))
    elif table_name == "lab_result" and "raw_unit" in cand.columns:
        cand.columns["unit"] = cand.columns["raw_unit"]
    elif table_name == "practice":
        cand.columns["vendor_format"] = pa.array(np.full(n, FORMAT, dtype=object), pa.string())
    return cand


def _patient_birth(t: pa.Table) -> pa.Table:
    """Birth year and month come from the full birth date, the only form this export has."""
    bd = t["birth_date"]
    t = t.set_column(t.schema.get_field_index("birth_year"), t.schema.field("birth_year"),
                     pc.year(bd).cast(pa.int16()))
    return t.set_column(t.schema.get_field_index("birth_month"), t.schema.field("birth_month"),
                        pc.month(bd).cast(pa.int16()))


def _biometrics(f: CsvFile) -> Candidate:
    """Wide reading sessions → long rows, one per measured quantity present."""
    keys = {col: f.get(h) for h, col in BIOMETRIC_KEYS}
    n = f.rows.num_rows
    parts: list[dict[str, pa.Array]] = []
    origin: list[np.ndarray] = []
    labels: list[str] = []
    for header, kind, unit in BIOMETRIC_COLUMNS:
        arr = f.get(header)
        if arr is None:
            continue
        value, raw = split_number(arr, NUMBER_PATTERN, ",")
        present = np.asarray(pc.is_valid(blank_to_null(arr)))
        rows = np.flatnonzero(present)
        if not len(rows):
            continue
        take = pa.array(rows)
        reading = pc.take(blank_to_null(keys["reading_id"]) if keys["reading_id"] is not None
                          else pa.nulls(n, pa.string()), take)
        parts.append({
            "biometric_id": biometric_id(reading, kind),
            "patient_id": pc.take(keys["patient_id"], take) if keys["patient_id"] is not None
            else pa.nulls(len(rows), pa.string()),
            "encounter_id": pc.take(keys["encounter_id"], take)
            if keys["encounter_id"] is not None else pa.nulls(len(rows), pa.string()),
            "date": pc.take(keys["date"], take) if keys["date"] is not None
            else pa.nulls(len(rows), pa.string()),
            "kind": pa.array(np.full(len(rows), kind, dtype=object), pa.string()),
            "value": pc.take(value, take),
            "unit": pa.array(np.full(len(rows), unit, dtype=object), pa.string()),
            "raw_value": pc.take(raw, take),
        })
        origin.append(rows)
        labels.extend([header] * len(rows))
    src = np.concatenate(origin) if origin else np.zeros(0, dtype=np.int64)
    if parts:
        columns = {k: pa.concat_arrays([p[k].cast(parts[0][k].type) for p in parts])
                   for k in parts[0]}
    else:
        columns = {}
    # Order as the file: session by session, quantities in header order.
    order = np.argsort(src, kind="stable")
    columns = {k: pc.take(v, pa.array(order)) for k, v in columns.items()}
    src = src[order]
    ordered_labels = np.asarray(labels, dtype=object)[order]
    cand = Candidate(
        "biometric", columns,
        {"biometric_id": "N° relevé", "patient_id": "N° patient",
         "encounter_id": "N° consultation", "date": "Date"},
        lambda i: f"{f.location(int(src[i]))}, colonne « {ordered_labels[i]} »",
        lambda i: f.record(int(src[i])),
    )
    return cand


def read(folder: Path, source_id: str) -> tuple[dict[str, pa.Table], Quarantine]:
    quarantine = Quarantine(source_id)
    tables = empty_tables()
    for name, (filename, spec) in FILES.items():
        path = _find(folder, filename)
        if path is None:
            continue
        f = CsvFile(path, quarantine, name)
        t = conform(_candidate(f, name, spec), source_id, quarantine)
        if name == "patient":
            t = _patient_birth(t)
        tables[name] = t
    path = _find(folder, BIOMETRIC_FILE)
    if path is not None:
        f = CsvFile(path, quarantine, "biometric")
        tables["biometric"] = concat_or_empty(
            [conform(_biometrics(f), source_id, quarantine)], "biometric")
    return tables, quarantine


def _find(folder: Path, filename: str) -> Path | None:
    """Exact name first; vendors' exports differ in case (``Patients.CSV``)."""
    p = folder / filename
    if p.exists():
        return p
    for q in folder.iterdir():
        if q.name.casefold() == filename.casefold():
            return q
    return None


def looks_like(folder: Path) -> bool:
    return any(_find(folder, f) is not None for f, _ in FILES.values())
