"""Activité — the GP's individual dashboard ("pilotage de l'activité", DOMAIN.md §1):
consultations per week and month, active patients, age/sex pyramid beside the base, prescribing,
and where the GP stands among GPs."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from p4dp.analytics.compile import Warehouse, within_period
from p4dp.analytics.library import frames as F
from p4dp.analytics.model import Dim, Frame, Indicator, Measure, Period

THEME = "activite"
SOURCE = "Séminaire P4DP, « Tableau de bord individuel – le pilotage de l'activité »"
#: Ten-year bands for the age pyramid (INSEE presentation).
PYRAMID_BREAKS = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90)


def _seen(wh: Warehouse, period: Period, practitioner: str | None) -> ir.Table:
    e = within_period(wh.table("encounter"), period)
    if practitioner is not None:
        e = e.filter(e.practitioner_id == practitioner)
    return e.group_by("patient_id").aggregate(
        date=e.date.max(), first_visit=e.date.min(), n_visits=e.count())


SEEN = Frame("patients_seen", "One row per patient with encounters in the date range (under a "
             "GP's scope: encounters with that GP): number of encounters, first and last "
             "(`date`) of them.", _seen, materialize=True, gp_scoped=True)


def _prescriptions(wh: Warehouse, period: Period) -> ir.Table:
    rx = wh.table("prescription")
    return rx.select(*F.partition(wh), "patient_id", "practitioner_id", "date",
                     atc=rx.atc.nullif("").upper().fill_null("non codé"))


PRESCRIPTIONS = Frame("prescriptions", "Prescription lines (table `prescription`).",
                      _prescriptions, mart="mart_frame_prescriptions")


def _gp_rank(wh: Warehouse, period: Period) -> ir.Table:
    """Every GP's consultations and patients in the date range, with their percentile among all
    GPs of the network (percent rank × 100: 0 = fewest, 100 = most)."""
    e = within_period(wh.table("encounter"), period)
    per = e.group_by("practitioner_id").aggregate(consultations=e.count(),
                                                  patients_seen=e.patient_id.nunique())
    gps = wh.table("practitioner")
    gps = gps.filter(gps.role == "gp").select("practitioner_id")
    t = gps.inner_join(per, "practitioner_id")
    return t.mutate(
        consultations_pct=(ibis.percent_rank().over(order_by=t.consultations) * 100).round(0),
        patients_pct=(ibis.percent_rank().over(order_by=t.patients_seen) * 100).round(0))


GP_RANK = Frame("gp_rank", "One row per GP with encounters in the date range: consultations, "
                "distinct patients and their percentile among GPs (computed before any scope).",
                _gp_rank, subject="practitioner", dated=False)

_PYRAMID_MEASURES = (Measure("patients", "Patients vus", "patients"),)

INDICATORS = (
    Indicator(
        name="activite_consultations_per_week", theme=THEME,
        title_fr="Consultations par semaine", description="Consultations per ISO week.",
        rule="Encounters grouped by ISO-8601 week of their date (\"2024-W05\").", source=SOURCE,
        frame=F.ENCOUNTERS, by=(Dim.WEEK,),
        measures=(Measure("n", "Consultations", "count"),
                  Measure("patients", "Patients", "patients"))),
    Indicator(
        name="activite_consultations_per_month", theme=THEME,
        title_fr="Consultations par mois", description="Consultations per calendar month.",
        rule="Encounters grouped by month of their date (\"2024-03\").", source=SOURCE,
        frame=F.ENCOUNTERS, by=(Dim.MONTH,),
        measures=(Measure("n", "Consultations", "count"),
                  Measure("patients", "Patients", "patients"))),
    Indicator(
        name="activite_active_patients", theme=THEME, title_fr="File active",
        description="Line list of the patients the GP saw in the date range.",
        rule="Patients with at least one encounter with the GP in the date range; age at the "
             "last of them.", source=SOURCE, frame=SEEN,
        line_list=("patient_id", "age", "n_visits", "first_visit", "date"),
        column_labels_fr=(("patient_id", "Patient"), ("age", "Âge"),
                          ("n_visits", "Consultations"), ("first_visit", "Première"),
                          ("date", "Dernière"))),
    Indicator(
        name="activite_pyramid", theme=THEME, title_fr="Pyramide des âges : personnel",
        description="Patients seen in the date range by ten-year age band and sex.",
        rule="Age at the last encounter in the range (with the GP, for a GP's own pyramid); "
             "each patient counts once.", source=SOURCE, frame=SEEN,
        by=(Dim.AGE_BAND, Dim.SEX), age_breaks=PYRAMID_BREAKS, age_labels=None,
        measures=_PYRAMID_MEASURES),
    Indicator(
        name="activite_pyramid_base", theme=THEME,
        title_fr="Pyramide des âges : ensemble de la base",
        description="The same pyramid for the whole base (the scope is ignored).",
        rule="Age at the last encounter in the range, with any GP; each patient counts once.",
        source=SOURCE, frame=SEEN, by=(Dim.AGE_BAND, Dim.SEX),
        age_breaks=PYRAMID_BREAKS, age_labels=None, scope_policy="base",
        measures=_PYRAMID_MEASURES),
    Indicator(
        name="activite_top_prescriptions", theme=THEME,
        title_fr="Top 20 des substances prescrites",
        description="The 20 most prescribed ATC codes (prescription lines).",
        rule="Prescription lines in the date range grouped by ATC code, ranked by count.",
        source=SOURCE, frame=PRESCRIPTIONS, by=("atc",), top=20, rank_by="n",
        measures=(Measure("n", "Lignes de prescription", "count"),
                  Measure("patients", "Patients", "patients")),
        column_labels_fr=(("atc", "ATC"),)),
    Indicator(
        name="activite_rank_among_gps", theme=THEME, title_fr="Mon activité parmi les médecins",
        description="The GP's consultations and patients seen in the date range, with their "
                    "percentile among all GPs of the network.",
        rule="Percent rank (0–100) of the GP's value among GPs with encounters in the range.",
        source=SOURCE, frame=GP_RANK, scope_policy="practitioner",
        measures=(Measure("gps", "Médecins", "patients"),
                  Measure("consultations", "Consultations", "sum", column="consultations"),
                  Measure("consultations_pct", "Percentile (consultations)", "max",
                          column="consultations_pct"),
                  Measure("patients_seen", "Patients vus", "sum", column="patients_seen"),
                  Measure("patients_pct", "Percentile (patients)", "max",
                          column="patients_pct"))),
)
