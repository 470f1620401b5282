"""Pre-aggregated tables (marts) that dashboards read, refreshed after each load.

Each mart is partitioned by `source_id`: a load of one practice recomputes that practice's rows
only (incremental where it pays: the rest of the network is untouched).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    select: str  # SELECT over the CDM tables, with a `{where}` placeholder on source_id


MARTS: tuple[Mart, ...] = (
    Mart(
        "mart_patient_summary",
        "One row per patient: demographics, practice, region and encounter span.",
        """
        SELECT p.source_id, p.patient_id, p.practice_id, pr.region_code, p.gp_id, p.sex,
               p.birth_year, p.birth_month,
               count(e.encounter_id) AS n_encounters,
               min(e.date) AS first_encounter, max(e.date) AS last_encounter
        FROM patient p
        LEFT JOIN practice pr USING (practice_id)
        LEFT JOIN encounter e ON e.patient_id = p.patient_id
        WHERE p.source_id {where}
        GROUP BY ALL
        """,
    ),
    Mart(
        "mart_activity_month",
        "Encounters and distinct patients per practitioner, month and kind of contact.",
        """
        SELECT source_id, practitioner_id, date_trunc('month', date)::DATE AS month, kind,
               count(*) AS n_encounters, count(DISTINCT patient_id) AS n_patients
        FROM encounter
        WHERE source_id {where}
        GROUP BY ALL
        """,
    ),
    Mart(
        "mart_result_code_year",
        "Problems per practitioner, year and result (diagnosis) code; `_` when none was assigned.",
        """
        SELECT source_id, practitioner_id, year(date) AS year,
               coalesce(result_code, '_') AS result_code, count(*) AS n
        FROM problem
        WHERE source_id {where}
        GROUP BY ALL
        """,
    ),
)


def refresh_marts(con: duckdb.DuckDBPyConnection, source_ids: Iterable[str] | None = None) -> None:
    """Recompute the marts for the given sources (all sources when None).

    Runs inside the caller's transaction when there is one, so a batch and its marts commit
    together.
    """
    ids = None if source_ids is None else sorted(set(source_ids))
    for mart in MARTS:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [mart.name]
        ).fetchone()[0]
        if not exists or ids is None:
            con.execute(f"CREATE OR REPLACE TABLE {mart.name} AS "
                        + mart.select.format(where="IS NOT NULL"))
            continue
        placeholders = ", ".join("?" for _ in ids)
        con.execute(f"DELETE FROM {mart.name} WHERE source_id IN ({placeholders})", ids)
        con.execute(f"INSERT INTO {mart.name} "
                    + mart.select.format(where=f"IN ({placeholders})"), ids)
