"""Examen — INR follow-up of patients on vitamin K antagonists (DOMAIN.md §3) and exams by type."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from p4dp.analytics import portable as P
from p4dp.analytics.codes import exam_codes
from p4dp.analytics.compile import Warehouse, within_period
from p4dp.analytics.library import frames as F
from p4dp.analytics.model import Frame, Indicator, Measure, Period

THEME = "examen"
#: The INR's exam code as the coder writes it (p4dp/terminology/data/labs_fr.csv), matched
#: exactly: an upper-case code never equals the lower-case spelling the rules once used.
INR_EXAM_CODES = exam_codes("INR")
#: Therapeutic range of VKA for most indications, both ends included (DOMAIN.md §3).
INR_LOW, INR_HIGH = 2.0, 3.0
#: The seed's rule: patients with at least 30 % of their INR outside 2–3.
OUT_OF_RANGE_SHARE = 30.0
#: Rosendaal: no linear interpolation across gaps longer than 56 days (DOMAIN.md §3).
TTR_MAX_GAP_DAYS = 56
#: Poor control: TTR < 65 % (NICE CG180); good control: TTR ≥ 70 % (ESC).
TTR_POOR_BELOW = 65.0
TTR_GOOD_FROM = 70.0
#: The seed's INR bands: 0-1, 1-2, 2-3, 3-4, 4-5, 5 et plus. Lower bound included; 3.0 belongs to
#: "2-3" so that the band matches the therapeutic range.
INR_BANDS = ("0-1", "1-2", "2-3", "3-4", "4-5", "5 et plus")
SOURCE_SEED = "Séminaire P4DP, onglet Examen (DOMAIN.md §1, §3)"
SOURCE_TTR = ("Rosendaal FR et al., Thromb Haemost 1993;69:236-9; NICE CG180 (TTR < 65 %); "
              "ESC (TTR ≥ 70 %)")


def inr_results(wh: Warehouse, period: Period) -> ir.Table:
    """INR results in the period (per-result values from the `mart_inr` mart)."""
    t = within_period(wh.mart("mart_inr"), period)
    return t.select("lab_result_id", "patient_id", "date", "value", "inr_band", "out_of_range",
                    "prev_date", "prev_value")


def _ttr_intervals(r: ir.Table, period: Period) -> ir.Table:
    """Rosendaal: between two consecutive INRs, the INR moves linearly; the days of the interval
    spent in 2–3 are the interval's length times the share of [v0, v1] inside [2, 3].

    The mart gives each result its predecessor over the whole history; an interval belongs to
    the period when both ends do (the results in a date range are a run of consecutive results,
    so this is the interval between consecutive results of the period)."""
    r = r.filter(r.prev_date.notnull())
    r = within_period(r, Period(period.start, None), column="prev_date")
    days = r.date.delta(r.prev_date, unit="day").cast("float64")
    lo = ibis.least(r.prev_value, r.value)
    hi = ibis.greatest(r.prev_value, r.value)
    overlap = ibis.greatest(ibis.least(hi, INR_HIGH) - ibis.greatest(lo, INR_LOW), 0.0)
    frac = ibis.ifelse(hi == lo, ((lo >= INR_LOW) & (lo <= INR_HIGH)).cast("float64"),
                       overlap / (hi - lo))
    valid = (days > 0) & (days <= TTR_MAX_GAP_DAYS)
    return r.mutate(days=ibis.ifelse(valid, days, 0.0),
                    in_range_days=ibis.ifelse(valid, frac * days, 0.0))


def inr_patients(wh: Warehouse, period: Period) -> ir.Table:
    """One row per patient with INR results in the period."""
    r = inr_results(wh, period)
    per = r.group_by("patient_id").aggregate(
        date=r.date.max(), n_inr=r.count(), n_out=r.out_of_range.sum().cast("int64"),
        mean_inr=r.value.mean().round(2))
    iv = _ttr_intervals(r, period)
    ttr = iv.group_by("patient_id").aggregate(ttr_days=iv.days.sum(),
                                              in_range=iv.in_range_days.sum())
    out = per.left_join(ttr, "patient_id")
    pct_out = P.percent(out.n_out, out.n_inr)
    ttr_pct = ibis.ifelse(out.ttr_days > 0, (out.in_range / out.ttr_days * 100).round(1),
                          ibis.null("float64"))
    return out.select(
        "patient_id", "date", "n_inr", "n_out", "mean_inr",
        pct_out=pct_out, out30=pct_out >= OUT_OF_RANGE_SHARE, ttr=ttr_pct,
        ttr_days=out.ttr_days.fill_null(0.0),
        poor_control=ttr_pct < TTR_POOR_BELOW, good_control=ttr_pct >= TTR_GOOD_FROM,
        has_ttr=ttr_pct.notnull())


INR_RESULTS = Frame("inr_results", "INR results (lab_result with exam code `inr`), one row each, "
                    "with their band and whether they lie outside 2–3.", inr_results)
INR_PATIENTS = Frame("inr_patients", "One row per patient with INR results in the date range: "
                     "number, share outside 2–3, mean INR, Rosendaal TTR; dated by the last INR.",
                     inr_patients, materialize=True)

INDICATORS = (
    Indicator(
        name="examen_inr_bands", theme=THEME, title_fr="Résultat INR par tranche",
        description="INR results by band (0-1, 1-2, 2-3, 3-4, 4-5, 5 et plus).",
        rule="Lower bound included; 3.0 is in 2-3 (the therapeutic range is 2–3 inclusive).",
        source=SOURCE_SEED, frame=INR_RESULTS, by=("inr_band",),
        measures=(Measure("n", "Nombre d'Examens INR", "count"),
                  Measure("patients", "Nombre de Patients", "patients")),
        column_labels_fr=(("inr_band", "Tranche d'INR"),)),
    Indicator(
        name="examen_inr_out_of_range", theme=THEME,
        title_fr="Patients dont 30 % des INR se situent en dehors de la zone thérapeutique",
        description="Patients with INR results, and those with ≥ 30 % of their INRs outside 2–3.",
        rule="Per patient: results < 2 or > 3 over all results in the date range; flagged at "
             "≥ 30 %.", source=SOURCE_SEED, frame=INR_PATIENTS,
        measures=(Measure("patients", "Nombre de Patients INR", "patients"),
                  Measure("out30", "Patients ≥ 30 % hors 2-3", "patients", where="out30"),
                  Measure("pct_out30", "% patients ≥ 30 % hors 2-3", "share",
                          numerator="out30", denominator="patients"),
                  Measure("n_inr", "Nombre d'Examens INR", "sum", column="n_inr"))),
    Indicator(
        name="examen_ttr", theme=THEME, title_fr="Temps passé dans la zone thérapeutique (TTR)",
        description="Patients with a computable TTR (two INRs ≤ 56 days apart), median and mean "
                    "TTR, poor (< 65 %) and good (≥ 70 %) control.",
        rule=f"Rosendaal linear interpolation between consecutive INRs, intervals longer than "
             f"{TTR_MAX_GAP_DAYS} days (or of 0 day) excluded; TTR = days in 2–3 / days "
             "interpolated. NICE CG180's other flags (2 INR ≤ 1.5 or ≥ 5 in 6 months, INR ≥ 8) "
             "are not computed here.",
        source=SOURCE_TTR, frame=INR_PATIENTS,
        measures=(Measure("patients", "Patients avec TTR", "patients", where="has_ttr"),
                  Measure("poor", "Contrôle insuffisant (TTR < 65 %)", "patients",
                          where="poor_control"),
                  Measure("good", "Bon contrôle (TTR ≥ 70 %)", "patients", where="good_control"),
                  Measure("pct_poor", "% contrôle insuffisant", "share", numerator="poor",
                          denominator="patients"),
                  Measure("pct_good", "% bon contrôle", "share", numerator="good",
                          denominator="patients"),
                  Measure("median_ttr", "TTR médian (%)", "median", column="ttr", digits=1),
                  Measure("mean_ttr", "TTR moyen (%)", "mean", column="ttr", digits=1))),
    Indicator(
        name="examen_inr_line_list", theme=THEME, title_fr="Résultat INR par patient",
        description="One row per patient with INRs (the GP's own patients only).",
        rule="As examen_inr_out_of_range and examen_ttr.", source=SOURCE_SEED,
        frame=INR_PATIENTS,
        line_list=("patient_id", "age", "n_inr", "pct_out", "mean_inr", "ttr", "out30",
                   "poor_control"),
        column_labels_fr=(("patient_id", "Patient"), ("age", "Âge"), ("n_inr", "Nb INR"),
                          ("pct_out", "% hors 2-3"), ("mean_inr", "Moyenne INR"),
                          ("ttr", "TTR (%)"), ("out30", "≥ 30 % hors 2-3"),
                          ("poor_control", "TTR < 65 %"))),
    Indicator(
        name="examen_top_exams", theme=THEME, title_fr="Top des examens",
        description="The 20 most frequent exams (canonical exam code).",
        rule="Results grouped by exam code, ranked by count, ties by code.",
        source=SOURCE_SEED, frame=F.LABS, by=("exam",), top=20, rank_by="n",
        measures=(Measure("n", "Nombre d'Examens", "count"),
                  Measure("patients", "Nombre de Patients", "patients")),
        column_labels_fr=(("exam", "Examen"),)),
)
