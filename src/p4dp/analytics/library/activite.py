"""Activité — the GP's individual dashboard ("pilotage de l'activité", DOMAIN.md §1):
consultations per week and month, active patients, age/sex pyramid beside the base, top
diagnoses, prescribing, and where the GP stands among GPs: activity, and each quality indicator
of the other dashboards."""

from __future__ import annotations

from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir

from p4dp.analytics import portable as P
from p4dp.analytics.compile import Warehouse, reference_date, within_period
from p4dp.analytics.library import frames as F
from p4dp.analytics.library.depistage import SCREENING
from p4dp.analytics.library.diabete import FOLLOW_UP
from p4dp.analytics.library.examen import INR_PATIENTS
from p4dp.analytics.library.motifs import INDICATORS as MOTIFS
from p4dp.analytics.library.polymedication import SUBSTANCES
from p4dp.analytics.library.vaccination import DTP_STATUS
from p4dp.analytics.model import Dim, Frame, Indicator, Measure, Period
from p4dp.privacy.disclosure import SMALL_CELL_MAX

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


def _percentile(window: ibis.expr.builders.LegacyWindowBuilder) -> ir.FloatingValue:
    """Percent rank × 100 over the window, rounded (0 = lowest, 100 = highest)."""
    return (ibis.percent_rank().over(window) * 100).round(0)


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
        consultations_pct=_percentile(ibis.window(order_by=t.consultations)),
        patients_pct=_percentile(ibis.window(order_by=t.patients_seen)),
        date=reference_date(period))


GP_RANK = Frame("gp_rank", "One row per GP with encounters in the date range: consultations, "
                "distinct patients and their percentile among GPs (computed before any scope), "
                "dated by the end of the range (else today).", _gp_rank,
                subject="practitioner")


@dataclass(frozen=True)
class Comparison:
    """One quality indicator a GP is compared on: among the rows of `frame` (where `eligible`,
    if given), the share of patients for whom `ok` holds."""

    label_fr: str
    frame: Frame
    ok: str
    eligible: str | None = None


#: The quality indicators of the other dashboards on which a GP sees where they stand, each over
#: the patients who declared them as treating GP (médecin traitant), as the Assurance Maladie's
#: ROSP indicators are computed. For the last two, a lower share is better.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison("Diabétiques : ≥ 2 HbA1c dans l'année", FOLLOW_UP, "hba1c_ok"),
    Comparison("Diabétiques : examen ophtalmologique < 2 ans", FOLLOW_UP, "eye_ok"),
    Comparison("Diabétiques : dépistage rénal dans l'année", FOLLOW_UP, "kidney_ok"),
    Comparison("Diabétiques : statine dans l'année", FOLLOW_UP, "statin"),
    Comparison("Dépistage du cancer du sein à jour", SCREENING, "breast_ok", "breast_eligible"),
    Comparison("Dépistage du cancer colorectal à jour", SCREENING, "colon_ok", "colon_eligible"),
    Comparison("Dépistage du cancer du col de l'utérus à jour", SCREENING, "cervix_ok",
               "cervix_eligible"),
    Comparison("> 25 ans : rappel dTP à jour", DTP_STATUS, "up_to_date"),
    Comparison("≥ 75 ans : ≥ 10 substances (polymédication excessive)", SUBSTANCES,
               "excessive"),
    Comparison("Patients sous AVK : ≥ 30 % des INR hors 2-3", INR_PATIENTS, "out30"),
)
#: A GP is ranked on an indicator only when at least this many of their patients are concerned
#: (a share of fewer patients is too unstable to rank); the same bound as disclosure control's
#: small cells.
MIN_PATIENTS_RANKED = SMALL_CELL_MAX


def gp_comparison_counts(wh: Warehouse, period: Period) -> ir.Table:
    """Per GP and compared indicator: the patients concerned and those for whom it holds, at
    the reference date (`as_of`), with the GP's patients' `source_id` (the mart's partition)."""
    parts = []
    for c in COMPARISONS:
        t = c.frame.build(wh, period)
        if c.eligible:
            t = t.filter(t[c.eligible])
        parts.append(t.select("patient_id", indicator=ibis.literal(c.label_fr, type="string"),
                              ok=t[c.ok].fill_null(False).cast("int64")))
    rows = ibis.union(*parts, distinct=False)
    p = wh.table("patient")
    p = p.filter(p.gp_id.notnull() & (p.opposition.fill_null(False) == False))  # noqa: E712
    rows = rows.inner_join(p.select("patient_id", "source_id", practitioner_id=p.gp_id),
                           "patient_id")
    per = rows.group_by("source_id", "practitioner_id", "indicator").aggregate(
        patients=rows.count(), numerator=rows.ok.sum())
    return per.mutate(as_of=reference_date(period))


def _gp_comparison(wh: Warehouse, period: Period) -> ir.Table:
    """Per GP and compared indicator (`mart_gp_comparison`): the share, and — among the GPs
    with at least `MIN_PATIENTS_RANKED` patients concerned — the GP's percentile, the median
    share and the number of GPs ranked."""
    per = wh.mart("mart_gp_comparison")
    per = per.mutate(share=P.percent(per.numerator, per.patients))
    ranked = per.filter(per.patients >= MIN_PATIENTS_RANKED)
    w = ibis.window(group_by=ranked.indicator, order_by=ranked.share)
    dist = ranked.group_by("indicator").aggregate(
        gps_ranked=ranked.count(), median_share=P.percentile(ranked.share, 0.5).round(1))
    ranked = ranked.select("practitioner_id", "indicator",
                           percentile=_percentile(w))
    out = per.left_join(ranked, ["practitioner_id", "indicator"]).left_join(dist, "indicator")
    return out.select("practitioner_id", "indicator", "patients", "numerator", "share",
                      "percentile", "median_share", "gps_ranked", "as_of")


GP_COMPARISON = Frame(
    "gp_comparison", "One row per GP and compared quality indicator (`COMPARISONS`) over the "
    "patients who declared the GP as treating GP, as of each practice's last load (the mart "
    "`mart_gp_comparison`; the date range does not apply): patients concerned, share for whom "
    "it holds, and the GP's percentile among the GPs ranked (computed before any scope).",
    _gp_comparison, subject="practitioner", dated=False)


TOP_DIAGNOSES_PERSONAL = next(i for i in MOTIFS if i.name == "motifs_top_diagnoses_personal")

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
    replace(TOP_DIAGNOSES_PERSONAL, name="activite_top_diagnoses", theme=THEME,
            description="The 20 most frequent diagnoses (result codes) of the GP's own "
                        "problems: the Motifs tab's personal top, on the GP's own dashboard."),
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
    Indicator(
        name="activite_indicators_among_gps", theme=THEME,
        title_fr="Mes indicateurs parmi les médecins",
        description="The GP's value of each quality indicator of the other dashboards "
                    "(diabetes follow-up, cancer screening, dTP booster, polymedication, INR "
                    "control) over the patients who declared them as treating GP, beside the "
                    "median of the GPs and the GP's percentile among them.",
        rule="Each patient counts for their declared treating GP (`patient.gp_id`), as in the "
             "ROSP. Share = patients for whom the indicator holds / patients concerned, with "
             "each dashboard's own rule, at the date of the practice's last load (`as_of`; "
             "stored at each load, so the date range does not apply). GPs with fewer than "
             f"{MIN_PATIENTS_RANKED} patients concerned are not ranked. Percentile = percent "
             "rank of the share among the GPs ranked (0 = lowest, "
             "100 = highest; for polymedication and INR out of range, lower is better).",
        source=SOURCE + "; Assurance Maladie, ROSP du médecin traitant (indicateurs de "
               "qualité de la pratique clinique)",
        frame=GP_COMPARISON, scope_policy="practitioner", by=("indicator",),
        measures=(Measure("gps", "Médecins", "patients"),
                  Measure("patients", "Patients concernés", "sum", column="patients"),
                  Measure("numerator", "Patients conformes", "sum", column="numerator"),
                  Measure("share", "Ma valeur (%)", "max", column="share", digits=1),
                  Measure("median_share", "Médiane des médecins (%)", "max",
                          column="median_share", digits=1),
                  Measure("percentile", "Mon percentile", "max", column="percentile"),
                  Measure("gps_ranked", "Médecins classés", "max", column="gps_ranked"),
                  Measure("as_of", "Calculé au", "max", column="as_of")),
        column_labels_fr=(("indicator", "Indicateur"),)),
)
