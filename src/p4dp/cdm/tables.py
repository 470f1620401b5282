"""Every table of the common data model, defined once (DESIGN.md, "The common data model").

The same definitions describe two layers:

* **staging** (practice side): what a reader of a vendor export produces, with local identifiers
  and the direct identifiers found in the export (columns of layer ``PRACTICE``);
* **central** (warehouse): what is loaded after pseudonymisation and coding. ``patient_id`` and
  ``practitioner_id`` there are keyed pseudonyms prefixed by the source id (``arm_…``); other row
  ids are prefixed by the source id so that they are unique across the network.
"""

from __future__ import annotations

from p4dp.cdm.model import Column, Layer, Table, Type

SEX = ("F", "M")
CODE_ORIGINS = ("source", "auto", "none")
ENCOUNTER_KINDS = ("cabinet", "visite", "teleconsultation", "telephone", "autre")
PRACTICE_KINDS = ("cabinet", "msp", "centre_sante")
VENDOR_FORMATS = ("csv-fr", "jsonl", "fhir")
PRACTITIONER_ROLES = ("gp", "intern")
PARTICIPATION = ("active", "withdrawn")
BIOMETRIC_KINDS = (
    "weight",
    "height",
    "bmi",
    "systolic_bp",
    "diastolic_bp",
    "heart_rate",
    "temperature",
    "head_circumference",
    "waist_circumference",
)
ANTECEDENT_KINDS = ("medical", "surgical", "family", "allergy")
HISTORY_KINDS = ("tobacco", "alcohol", "drugs", "occupation", "family_situation", "physical_activity")
HISTORY_STATUSES = ("yes", "no", "former", "unknown")
BATCH_STATUSES = ("running", "loaded", "failed", "duplicate")
WITHDRAWAL_KINDS = ("patient", "practitioner")


def _common() -> tuple[Column, ...]:
    return (
        Column("source_id", Type.STRING, "EHR source of the row: the practice's short source code "
               "(`arm`, `med`, `car` …), prefix of every pseudonym it sends.", nullable=False),
        Column("batch_id", Type.STRING, "Load batch that brought the row (`load_batch.batch_id`).",
               layer=Layer.CENTRAL),
    )


def _code_columns(prefix: str, what: str) -> tuple[Column, ...]:
    return (
        Column(f"{prefix}_text", Type.STRING, f"{what} as typed by the GP (scrubbed free text)."),
        Column(f"{prefix}_code", Type.STRING, f"ICPC-2 code of the {what.lower()} (`_` = no code "
               "assigned)."),
        Column(f"{prefix}_code_origin", Type.STRING, "Who gave the code: `source` (the GP, in the "
               "EHR), `auto` (the platform's coder) or `none`.", allowed=CODE_ORIGINS),
        Column(f"{prefix}_code_confidence", Type.FLOAT64, "Coder confidence in [0, 1] (1 for source "
               "codes).", layer=Layer.CENTRAL),
        Column(f"{prefix}_code_explanation", Type.STRING, "Why the coder chose the code: matched "
               "term or model.", layer=Layer.CENTRAL),
    )


PRACTICE = Table(
    "practice",
    "A GP practice (cabinet, maison de santé pluriprofessionnelle or centre de santé) that exports "
    "its EHR to P4DP. One EHR source per practice.",
    (
        *_common(),
        Column("practice_id", Type.STRING, "Practice identifier in the network.", nullable=False),
        Column("name", Type.STRING, "Practice name as written in the EHR.", layer=Layer.PRACTICE),
        Column("region_code", Type.STRING, "INSEE region code (2 digits, e.g. `93` PACA).",
               nullable=False),
        Column("departement_code", Type.STRING, "INSEE département code (`06`, `2A`, `76` …).",
               nullable=False),
        Column("kind", Type.STRING, "Kind of practice.", nullable=False, allowed=PRACTICE_KINDS),
        Column("vendor_format", Type.STRING, "Export format of the practice's EHR software.",
               allowed=VENDOR_FORMATS),
    ),
    primary_key=("practice_id",),
    patient_column=None,
)

PRACTITIONER = Table(
    "practitioner",
    "A GP or an intern (interne de médecine générale) working in a practice.",
    (
        *_common(),
        Column("practitioner_id", Type.STRING, "Practitioner pseudonym (local id at the practice).",
               nullable=False),
        Column("practice_id", Type.STRING, "Practice the practitioner works in.", nullable=False),
        Column("sex", Type.STRING, "Sex.", allowed=SEX),
        Column("birth_year", Type.INT16, "Year of birth."),
        Column("role", Type.STRING, "GP or intern.", nullable=False, allowed=PRACTITIONER_ROLES),
        Column("supervisor_id", Type.STRING, "For an intern: the supervising GP (maître de stage)."),
        Column("participation", Type.STRING, "Participation status in P4DP.",
               allowed=PARTICIPATION),
        Column("last_name", Type.STRING, "Family name.", layer=Layer.PRACTICE),
        Column("first_name", Type.STRING, "Given name.", layer=Layer.PRACTICE),
        Column("rpps", Type.STRING, "RPPS professional number (11 digits).", layer=Layer.PRACTICE),
    ),
    primary_key=("practitioner_id",),
    patient_column=None,
    practitioner_columns=("practitioner_id",),
)

PATIENT = Table(
    "patient",
    "A patient of a participating practice. Centrally: pseudonym, sex, birth year and month only.",
    (
        *_common(),
        Column("patient_id", Type.STRING, "Patient pseudonym (local id at the practice).",
               nullable=False),
        Column("practice_id", Type.STRING, "Practice holding the record.", nullable=False),
        Column("gp_id", Type.STRING, "Declared treating GP (médecin traitant), if any."),
        Column("sex", Type.STRING, "Sex.", allowed=SEX),
        Column("birth_year", Type.INT16, "Year of birth."),
        Column("birth_month", Type.INT16, "Month of birth (1–12); the day is never kept centrally."),
        Column("death_date", Type.DATE, "Date of death, if known."),
        Column("departement_code", Type.STRING, "INSEE département of residence."),
        Column("registered_on", Type.DATE, "Date the record was opened at the practice."),
        Column("opposition", Type.BOOL, "The patient objected to the use of their data (rows of an "
               "opposed patient are never loaded).", nullable=False),
        Column("last_name", Type.STRING, "Family name.", layer=Layer.PRACTICE),
        Column("first_name", Type.STRING, "Given name.", layer=Layer.PRACTICE),
        Column("birth_name", Type.STRING, "Birth name, if different.", layer=Layer.PRACTICE),
        Column("birth_date", Type.DATE, "Full date of birth.", layer=Layer.PRACTICE),
        Column("nir", Type.STRING, "Social-security number (NIR, 13 digits + 2-digit key).",
               layer=Layer.PRACTICE),
        Column("address", Type.STRING, "Street address.", layer=Layer.PRACTICE),
        Column("postcode", Type.STRING, "Postcode.", layer=Layer.PRACTICE),
        Column("city", Type.STRING, "City.", layer=Layer.PRACTICE),
        Column("phone", Type.STRING, "Phone number.", layer=Layer.PRACTICE),
        Column("email", Type.STRING, "E-mail address.", layer=Layer.PRACTICE),
        Column("relatives", Type.STRING, "Names of relatives known to the record (`;`-separated), "
               "used to scrub free text.", layer=Layer.PRACTICE),
    ),
    primary_key=("patient_id",),
)

ENCOUNTER = Table(
    "encounter",
    "A consultation (séance): one patient, one practitioner, one date.",
    (
        *_common(),
        Column("encounter_id", Type.STRING, "Encounter identifier.", nullable=False),
        Column("patient_id", Type.STRING, "Patient.", nullable=False),
        Column("practitioner_id", Type.STRING, "Practitioner who saw the patient (an intern for "
               "interns' consultations).", nullable=False),
        Column("supervisor_id", Type.STRING, "Supervising GP when an intern saw the patient."),
        Column("date", Type.DATE, "Date of the encounter.", nullable=False),
        Column("kind", Type.STRING, "Kind of contact.", allowed=ENCOUNTER_KINDS),
    ),
    primary_key=("encounter_id",),
    practitioner_columns=("practitioner_id", "supervisor_id"),
)

PROBLEM = Table(
    "problem",
    "One health problem handled in an encounter: reason for encounter (motif), result "
    "(diagnosis) and procedure, each as text and ICPC-2 code (the seed's Motif / Résultat / "
    "Procédure).",
    (
        *_common(),
        Column("problem_id", Type.STRING, "Problem identifier.", nullable=False),
        Column("encounter_id", Type.STRING, "Encounter.", nullable=False),
        Column("patient_id", Type.STRING, "Patient.", nullable=False),
        Column("practitioner_id", Type.STRING, "Practitioner.", nullable=False),
        Column("date", Type.DATE, "Date of the encounter.", nullable=False),
        Column("rank", Type.INT16, "Problem number within the encounter (Problème n°1, n°2 …)."),
        *_code_columns("reason", "Reason for encounter"),
        *_code_columns("result", "Result"),
        *_code_columns("procedure", "Procedure"),
    ),
    primary_key=("problem_id",),
    practitioner_columns=("practitioner_id",),
)

BIOMETRIC = Table(
    "biometric",
    "One biometric reading (long format: one row per measured quantity).",
    (
        *_common(),
        Column("biometric_id", Type.STRING, "Reading identifier.", nullable=False),
        Column("patient_id", Type.STRING, "Patient.", nullable=False),
        Column("encounter_id", Type.STRING, "Encounter, when recorded during one."),
        Column("date", Type.DATE, "Date of the reading.", nullable=False),
        Column("kind", Type.STRING, "Measured quantity.", nullable=False, allowed=BIOMETRIC_KINDS),
        Column("value", Type.FLOAT64, "Value in the canonical unit of its kind (kg, cm, kg/m², "
               "mmHg, /min, °C)."),
        Column("unit", Type.STRING, "Canonical unit."),
        Column("raw_value", Type.STRING, "Value as exported, before any repair."),
        Column("repair_rule", Type.STRING, "Named repair rule that changed the value, if any.",
               layer=Layer.CENTRAL),
    ),
    primary_key=("biometric_id",),
)

LAB_RESULT = Table(
    "lab_result",
    "A laboratory result (examen complémentaire) received by the practice.",
    (
        *_common(),
        Column("lab_result_id", Type.STRING, "Result identifier.", nullable=False),
        Column("patient_id", Type.STRING, "Patient.", nullable=False),
        Column("date", Type.DATE, "Date of the sample.", nullable=False),
        Column("raw_label", Type.STRING, "Exam label as written (`INR`, `I.N.R.`, `inr (AVK)` …).",
               nullable=False),
        Column("exam_code", Type.STRING, "Canonical exam code (terminology), if recognised.",
               layer=Layer.CENTRAL),
        Column("loinc", Type.STRING, "LOINC code of the canonical exam, where one exists.",
               layer=Layer.CENTRAL),
        Column("value", Type.FLOAT64, "Numeric value in the exam's canonical unit."),
        Column("unit", Type.STRING, "Unit of `value`."),
        Column("raw_value", Type.STRING, "Value as exported."),
        Column("raw_unit", Type.STRING, "Unit as exported."),
        Column("text_value", Type.STRING, "Textual result when not numeric."),
        Column("repair_rule", Type.STRING, "Named rule that converted or repaired the value.",
               layer=Layer.CENTRAL),
    ),
    primary_key=("lab_result_id",),
)

ANTECEDENT = Table(
    "antecedent",
    "Medical, surgical or family history item, or allergy.",
    (
        *_common(),
        Column("antecedent_id", Type.STRING, "Identifier.", nullable=False),
        Column("patient_id", Type.STRING, "Patient.", nullable=False),
        Column("kind", Type.STRING, "Kind of antecedent.", allowed=ANTECEDENT_KINDS),
        Column("date", Type.DATE, "Date recorded or start date."),
        Column("text", Type.STRING, "Text as typed (scrubbed)."),
        Column("code", Type.STRING, "ICPC-2 code."),
        Column("code_origin", Type.STRING, "`source`, `auto` or `none`.", allowed=CODE_ORIGINS),
        Column("code_confidence", Type.FLOAT64, "Coder confidence.", layer=Layer.CENTRAL),
    ),
    primary_key=("antecedent_id",),
)

HISTORY = Table(
    "history",
    "The seed's *Historique*: lifestyle and social history (tobacco, alcohol, drug use, "
    "occupation, family situation).",
    (
        *_common(),
        Column("history_id", Type.STRING, "Identifier.", nullable=False),
        Column("patient_id", Type.STRING, "Patient.", nullable=False),
        Column("date", Type.DATE, "Date recorded."),
        Column("kind", Type.STRING, "Kind of history item.", allowed=HISTORY_KINDS),
        Column("label", Type.STRING, "Label as typed (scrubbed).", nullable=False),
        Column("status", Type.STRING, "Present, absent, former or unknown.",
               allowed=HISTORY_STATUSES),
    ),
    primary_key=("history_id",),
)

VACCINATION = Table(
    "vaccination",
    "A vaccine dose given or recorded.",
    (
        *_common(),
        Column("vaccination_id", Type.STRING, "Identifier.", nullable=False),
        Column("patient_id", Type.STRING, "Patient.", nullable=False),
        Column("date", Type.DATE, "Date of the dose.", nullable=False),
        Column("raw_label", Type.STRING, "Label as typed (`DTCP`, `REVAXIS`, `3 covid et dtp à 25 "
               "ans`).", nullable=False),
        Column("product", Type.STRING, "Normalised vaccine product, if recognised.",
               layer=Layer.CENTRAL),
        Column("valences", Type.STRING_LIST, "Valences covered (`d`, `T`, `P`, `ca`, `Hib` …).",
               layer=Layer.CENTRAL),
    ),
    primary_key=("vaccination_id",),
)

PRESCRIPTION = Table(
    "prescription",
    "A drug prescription line.",
    (
        *_common(),
        Column("prescription_id", Type.STRING, "Identifier.", nullable=False),
        Column("patient_id", Type.STRING, "Patient.", nullable=False),
        Column("encounter_id", Type.STRING, "Encounter, when prescribed during one."),
        Column("practitioner_id", Type.STRING, "Prescriber."),
        Column("date", Type.DATE, "Date of the prescription.", nullable=False),
        Column("drug_label", Type.STRING, "Drug label as written (brand or INN, dose, form).",
               nullable=False),
        Column("atc", Type.STRING, "ATC code (level 5 when known)."),
        Column("cis_code", Type.STRING, "CIS code of the French drug database, when known."),
        Column("dose", Type.STRING, "Dosage instructions."),
        Column("duration_days", Type.INT32, "Duration of the prescription in days."),
        Column("chronic", Type.BOOL, "Part of a long-term (renewed) treatment."),
    ),
    primary_key=("prescription_id",),
    practitioner_columns=("practitioner_id",),
)

QUARANTINE = Table(
    "quarantine",
    "Rows rejected by a reader or a quality check, with the reason; never silently dropped.",
    (
        *_common(),
        Column("quarantine_id", Type.STRING, "Identifier.", nullable=False),
        Column("table_name", Type.STRING, "Target table of the rejected row.", nullable=False),
        Column("row_key", Type.STRING, "Key of the rejected row, when it has one."),
        Column("patient_id", Type.STRING, "Patient of the rejected row, when known (for "
               "withdrawal)."),
        Column("check_id", Type.STRING, "Check or reader rule that rejected the row.",
               nullable=False),
        Column("reason", Type.STRING, "Human-readable reason, naming file, line and field.",
               nullable=False),
        Column("location", Type.STRING, "File and line, JSON pointer or FHIR resource id."),
        Column("record", Type.STRING, "The rejected record as JSON."),
    ),
    primary_key=("quarantine_id",),
)

LOAD_BATCH = Table(
    "load_batch",
    "One load of one bundle into the warehouse.",
    (
        Column("batch_id", Type.STRING, "Batch identifier.", nullable=False),
        Column("source_id", Type.STRING, "Source of the bundle.", nullable=False),
        Column("bundle_sha256", Type.STRING, "SHA-256 of the bundle manifest (idempotence key).",
               nullable=False),
        Column("manifest", Type.STRING, "The bundle's manifest as JSON."),
        Column("status", Type.STRING, "Outcome.", allowed=BATCH_STATUSES),
        Column("started_at", Type.TIMESTAMP, "Start of the load."),
        Column("finished_at", Type.TIMESTAMP, "End of the load."),
        Column("rows_in", Type.INT64, "Rows received."),
        Column("rows_loaded", Type.INT64, "Rows loaded."),
        Column("rows_repaired", Type.INT64, "Rows loaded after a named repair."),
        Column("rows_quarantined", Type.INT64, "Rows sent to quarantine."),
        Column("duration_s", Type.FLOAT64, "Duration of the load in seconds."),
    ),
    primary_key=("batch_id",),
    patient_column=None,
)

WITHDRAWAL = Table(
    "withdrawal",
    "A patient's objection or a GP's withdrawal: every row that came from them was purged, and "
    "future loads of their data are blocked.",
    (
        Column("pseudonym", Type.STRING, "Pseudonym of the patient or practitioner.",
               nullable=False),
        Column("kind", Type.STRING, "Who withdrew.", nullable=False, allowed=WITHDRAWAL_KINDS),
        Column("requested_by", Type.STRING, "Who asked (user or agent).", nullable=False),
        Column("requested_at", Type.TIMESTAMP, "When the request was carried out.",
               nullable=False),
        Column("rows_deleted", Type.INT64, "Rows purged, all tables together."),
        Column("detail", Type.STRING, "Rows purged per table, as JSON."),
    ),
    primary_key=("pseudonym",),
    patient_column=None,
)

#: Clinical tables in load order (parents before children).
CLINICAL_TABLES: tuple[Table, ...] = (
    PRACTICE,
    PRACTITIONER,
    PATIENT,
    ENCOUNTER,
    PROBLEM,
    BIOMETRIC,
    LAB_RESULT,
    ANTECEDENT,
    HISTORY,
    VACCINATION,
    PRESCRIPTION,
)
ALL_TABLES: tuple[Table, ...] = (*CLINICAL_TABLES, QUARANTINE, LOAD_BATCH, WITHDRAWAL)
TABLES: dict[str, Table] = {t.name: t for t in ALL_TABLES}


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}") from None
