"""Logbook entries copied into the warehouse for analysis (teaching research, the department).

Three tables, declared here with the common data model's `Table` (candidates for
`cdm/tables.py`): the current version of each entry, its problems, its competences. Only codes and
categories go to the warehouse — never the free text the intern typed centrally (it was not
scrubbed at a practice), never account names: interns and supervisors appear by their
practitioner pseudonym. Each load replaces the three tables in one transaction.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from p4dp.cdm.model import Column, Table, Type
from p4dp.governance.models import User
from p4dp.governance.store import Store
from p4dp.logbook import reference as R
from p4dp.logbook.frames import load_all_frames

LOGBOOK_ENTRY = Table(
    "logbook_entry",
    "An intern's logbook entry (current version): the consultation's date, patient age band and "
    "sex, the supervisor's review.",
    (
        Column("entry_id", Type.INT64, "Entry number in the operational store.", nullable=False),
        Column("version", Type.INT32, "Current version (1 + changes after a validation).",
               nullable=False),
        Column("status", Type.STRING, "draft, submitted or validated.", nullable=False,
               allowed=R.STATUSES),
        Column("intern_practitioner_id", Type.STRING, "The intern's practitioner pseudonym."),
        Column("supervisor_practitioner_id", Type.STRING, "The supervisor's pseudonym."),
        Column("department", Type.STRING, "The intern's teaching department (DMG)."),
        Column("consultation_date", Type.DATE, "Date of the consultation.", nullable=False),
        Column("age_band", Type.STRING, "Patient's age band.", nullable=False,
               allowed=R.AGE_BANDS),
        Column("patient_sex", Type.STRING, "Patient's sex.", nullable=False, allowed=R.SEXES),
    ),
    primary_key=("entry_id",), patient_column=None,
    practitioner_columns=("intern_practitioner_id", "supervisor_practitioner_id"),
)
LOGBOOK_PROBLEM = Table(
    "logbook_problem",
    "A problem of a logbook entry: CISP-2 codes of Motif / Résultat / Procédure, and whether each "
    "is the automatic coder's suggestion.",
    (
        Column("entry_id", Type.INT64, "Entry.", nullable=False),
        Column("position", Type.INT32, "Problème n°.", nullable=False),
        *[c for f in R.FIELDS for c in (
            Column(f"{f}_code", Type.STRING, f"ICPC-2 code of the {f} (`_` = no code)."),
            Column(f"{f}_suggested", Type.BOOL, f"The {f} code is the coder's suggestion."))],
    ),
    primary_key=("entry_id", "position"), patient_column=None,
)
LOGBOOK_COMPETENCE = Table(
    "logbook_competence",
    "A competence used in a logbook entry, with the level the intern reached.",
    (
        Column("entry_id", Type.INT64, "Entry.", nullable=False),
        Column("position", Type.INT32, "Compétence n°.", nullable=False),
        Column("competence", Type.STRING, "CNGE competence key.", nullable=False,
               allowed=tuple(c.key for c in R.competences())),
        Column("level", Type.STRING, "Level.", nullable=False, allowed=R.LEVELS),
    ),
    primary_key=("entry_id", "position"), patient_column=None,
)
TABLES = (LOGBOOK_ENTRY, LOGBOOK_PROBLEM, LOGBOOK_COMPETENCE)


def warehouse_tables(store: Store) -> dict[str, pa.Table]:
    """The three tables as Arrow, in their declared schemas."""
    f = load_all_frames(store)
    with store.sessions() as s:
        pseudonym = dict(s.execute(select(User.id, User.practitioner_id)).all())
    e = f.entries
    entries = pa.table({
        "entry_id": e["entry_id"], "version": e["version"], "status": e["status"],
        "intern_practitioner_id": pa.array([pseudonym.get(i) for i in
                                            e["intern_id"].to_pylist()], pa.string()),
        "supervisor_practitioner_id": pa.array([pseudonym.get(i) for i in
                                                e["supervisor_id"].to_pylist()], pa.string()),
        "department": e["department"], "consultation_date": e["consultation_date"],
        "age_band": e["age_band"], "patient_sex": e["patient_sex"],
    })
    p = f.problems
    cols = {"entry_id": p["entry_id"], "position": p["position"]}
    for field in R.FIELDS:
        code, suggested = p[f"{field}_code"], p[f"{field}_suggested"]
        cols[f"{field}_code"] = code
        cols[f"{field}_suggested"] = pc.and_kleene(
            pc.is_valid(code), pc.equal(code, suggested).fill_null(False))
    c = f.competences
    out = {"logbook_entry": entries, "logbook_problem": pa.table(cols),
           "logbook_competence": c.select(["entry_id", "position", "competence", "level"])}
    return {t.name: out[t.name].cast(t.arrow_schema()) for t in TABLES}


def load_logbook(store: Store, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Replace the warehouse's logbook tables with the store's current entries; rows per table."""
    tables = warehouse_tables(store)
    con.execute("BEGIN TRANSACTION")
    try:
        for t in TABLES:
            con.execute(f"DROP TABLE IF EXISTS {t.name}")
            con.execute(t.duckdb_ddl())
            con.register("_incoming", tables[t.name])
            con.execute(f"INSERT INTO {t.name} SELECT * FROM _incoming")
            con.unregister("_incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {name: t.num_rows for name, t in tables.items()}
