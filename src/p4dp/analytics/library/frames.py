"""Frames shared by several themes: the warehouse tables, read as they are (quality-checked rows
only: what failed a check is in `quarantine`, never here).

The event frames carry no event identifier: indicators count rows, never ids, and their marts
(`p4dp.analytics.marts.frame_with_context`) would store one unique string per event — more than
half of the marts' bytes, written at every load (benchmarks/README.md, ingestion)."""

from __future__ import annotations

import ibis.expr.types as ir

from p4dp.analytics.compile import Warehouse
from p4dp.analytics.model import Frame, Period

#: Shown for a problem whose result or reason has no ICPC-2 code (the seed's "_" row).
NO_CODE = "_"


def partition(wh: Warehouse) -> tuple[str, ...]:
    """`source_id` when the frame is built for its mart (`marts.frame_with_context`), which is
    partitioned by the event's own source: a per-source refresh then reads that source's rows
    only. Queries never see it."""
    return ("source_id",) if getattr(wh, "partitioned", False) else ()


def _encounters(wh: Warehouse, period: Period) -> ir.Table:
    e = wh.table("encounter")
    return e.select(*partition(wh), "patient_id", "practitioner_id", "date",
                    kind=e.kind.fill_null("autre"))


def _problems(wh: Warehouse, period: Period) -> ir.Table:
    p = wh.table("problem")
    return p.select(
        *partition(wh), "patient_id", "practitioner_id", "date",
        result_code=p.result_code.nullif("").fill_null(NO_CODE),
        reason_code=p.reason_code.nullif("").fill_null(NO_CODE),
        has_reason=(p.reason_code.nullif("").notnull() | p.reason_text.nullif("").notnull()),
    )


def _patients(wh: Warehouse, period: Period) -> ir.Table:
    return wh.table("patient").select("patient_id")


def _practitioners(wh: Warehouse, period: Period) -> ir.Table:
    p = wh.table("practitioner")
    return p.select("practitioner_id", "role", doctor_sex=p.sex.fill_null("inconnu"))


def _biometrics(wh: Warehouse, period: Period) -> ir.Table:
    return wh.table("biometric").select(*partition(wh), "patient_id", "date",
                                        "kind", "value")


def _labs(wh: Warehouse, period: Period) -> ir.Table:
    t = wh.table("lab_result")
    return t.select(*partition(wh), "patient_id", "date", "value",
                    exam=t.exam_code.nullif("").fill_null("non reconnu"))


def _antecedents(wh: Warehouse, period: Period) -> ir.Table:
    t = wh.table("antecedent")
    return t.select("antecedent_id", "patient_id", "date", kind=t.kind.fill_null("inconnu"))


def _history(wh: Warehouse, period: Period) -> ir.Table:
    t = wh.table("history")
    return t.select("history_id", "patient_id", "date", "label", "status",
                    kind=t.kind.fill_null("inconnu"))


def _vaccinations(wh: Warehouse, period: Period) -> ir.Table:
    t = wh.table("vaccination")
    return t.select(*partition(wh), "patient_id", "date", "raw_label",
                    "valences", product=t.product.nullif("").fill_null("non reconnu"))


ENCOUNTERS = Frame("encounters", "Consultations (table `encounter`), one row each.", _encounters,
                   mart="mart_frame_encounters")
PROBLEMS = Frame("problems", "Problems handled in consultations (table `problem`), one row each; "
                 "missing codes shown as `_`.", _problems, mart="mart_frame_problems")
PATIENTS = Frame("patients", "Patient records (table `patient`), undated.", _patients,
                 dated=False)
PRACTITIONERS = Frame("practitioners", "Practitioners (table `practitioner`), undated.",
                      _practitioners, subject="practitioner", dated=False)
BIOMETRICS = Frame("biometrics", "Biometric readings (table `biometric`), one row each.",
                   _biometrics, mart="mart_frame_biometrics")
LABS = Frame("lab_results", "Laboratory results (table `lab_result`), one row each.", _labs,
             mart="mart_frame_lab_results")
ANTECEDENTS = Frame("antecedents", "Antecedents (table `antecedent`); undated items are counted "
                    "only when no date range is asked.", _antecedents)
HISTORY = Frame("history", "History items (table `history`).", _history)
VACCINATIONS = Frame("vaccinations", "Vaccine doses (table `vaccination`).", _vaccinations,
                     mart="mart_frame_vaccinations")
