"""Diabète — follow-up of diabetic patients (national GP quality programme, ROSP; DOMAIN.md §3):
HbA1c ≥ 2 a year, eye examination within 2 years, yearly kidney screening, statin; HbA1c
distribution."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from p4dp.analytics import portable as P
from p4dp.analytics.codes import exam_codes, icpc2_codes
from p4dp.analytics.compile import Warehouse, alive_patients, reference_date
from p4dp.analytics.library.depistage import last_procedure
from p4dp.analytics.model import Frame, Indicator, Measure, Period

THEME = "diabete"
SOURCE = "ROSP (Rémunération sur objectifs de santé publique), indicateurs diabète; DOMAIN.md §3"
#: ICPC-2 T89 insulin-dependent diabetes, T90 non-insulin-dependent diabetes.
DIABETES_CODES = icpc2_codes("T89", "T90")
#: Follow-up window of the yearly indicators.
YEAR_DAYS = 365
#: ≥ 2 HbA1c a year (ROSP).
HBA1C_MIN_PER_YEAR = 2
#: Exam codes as the coder writes them (p4dp/terminology/data/labs_fr.csv), matched exactly:
#: HbA1c; blood creatinine or eGFR (CKD-EPI, MDRD, Cockcroft-Gault clearance) for the kidney
#: function; urine albumin/creatinine ratio or (micro)albuminuria for the albuminuria, the two
#: halves of the yearly kidney screening of a diabetic (HAS 2014, « Guide du parcours de soins
#: diabète de type 2 » : créatininémie avec DFG, et albuminurie/créatininurie).
HBA1C_CODES = exam_codes("HBA1C")
CREATININE_CODES = exam_codes("CREAT", "DFG", "DFG_MDRD", "CLCR_CG")
UACR_CODES = exam_codes("RAC", "ALBU")
#: Eye examination within 2 years (ROSP). Recorded in the GP's file as an eye-exam procedure
#: (ICPC-2 F30 complete / F31 partial examination, F41 imaging such as retinography) or a
#: referral to an ophthalmologist (F67): a P4DP proxy, the ophthalmologist's own visit is not in
#: the GP's record.
EYE_EXAM_CODES, EYE_EXAM_DAYS = icpc2_codes("F30", "F31", "F41", "F67"), 730
#: Statins: ATC C10AA (plain) and C10B (combinations).
STATIN_ATC_PREFIXES = ("C10AA", "C10B")
#: HbA1c bands (%): HAS 2013 sets ≤ 7 % as the target for most type 2 diabetics.
HBA1C_BANDS = ("< 7 %", "7-8 %", "8-9 %", "≥ 9 %")


def diabetics(wh: Warehouse, on: ir.DateValue) -> ir.Table:
    """Patients with a diabetes code (problem result or antecedent) recorded by `on`."""
    c = wh.mart("mart_patient_code")
    c = c.filter(c.code.isin(DIABETES_CODES) & c.origin.isin(("result", "antecedent"))
                 & (c.first_date.isnull() | (c.first_date <= on)))
    return c.select("patient_id").distinct()


def _labs_in_year(wh: Warehouse, codes: tuple[str, ...], on: ir.DateValue) -> ir.Table:
    t = wh.table("lab_result")
    start = on - ibis.interval(days=YEAR_DAYS)
    return t.filter(t.exam_code.isin(codes) & (t.date > start) & (t.date <= on))


def follow_up(wh: Warehouse, period: Period) -> ir.Table:
    ref = reference_date(period)
    d = alive_patients(wh, ref).select("patient_id").semi_join(diabetics(wh, ref), "patient_id")
    h = _labs_in_year(wh, HBA1C_CODES, ref)
    h = h.filter(h.value.notnull())
    n_h = h.group_by("patient_id").aggregate(n_hba1c=h.count())
    last_h = P.latest_per_patient(h, ["date"], ["lab_result_id"]).select(
        "patient_id", last_hba1c=h.value)
    cr = _labs_in_year(wh, CREATININE_CODES, ref).select("patient_id").distinct()
    ua = _labs_in_year(wh, UACR_CODES, ref).select("patient_id").distinct()
    rx = wh.table("prescription")
    start = ref - ibis.interval(days=YEAR_DAYS)
    atc = rx.atc.upper()
    statin = rx.filter((rx.date > start) & (rx.date <= ref)
                       & ibis.or_(*[atc.startswith(s) for s in STATIN_ATC_PREFIXES]))
    statin = statin.select("patient_id").distinct()
    eye = last_procedure(wh, EYE_EXAM_CODES, ref, "last_eye")
    t = d
    for other in (n_h, last_h, eye):
        t = t.left_join(other, "patient_id")
        # a left join keeps the right key (null when unmatched): drop it before the next join
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    t = t.mutate(
        creat=t.patient_id.isin(cr.patient_id), uacr=t.patient_id.isin(ua.patient_id),
        statin=t.patient_id.isin(statin.patient_id))
    v = t.last_hba1c
    band = ibis.cases((v < 7, HBA1C_BANDS[0]), (v < 8, HBA1C_BANDS[1]), (v < 9, HBA1C_BANDS[2]),
                      (v >= 9, HBA1C_BANDS[3]), else_=ibis.null("string"))
    eye_ok = (t.last_eye.notnull() & (ref.delta(t.last_eye, unit="day") <= EYE_EXAM_DAYS))
    return t.select(
        "patient_id", "last_hba1c", date=ref,
        hba1c_ok=t.n_hba1c.fill_null(0) >= HBA1C_MIN_PER_YEAR,
        eye_ok=eye_ok.fill_null(False), kidney_ok=t.creat & t.uacr, statin=t.statin,
        hba1c_band=band, has_hba1c=t.last_hba1c.notnull())


FOLLOW_UP = Frame(
    "diabetes_follow_up",
    "One row per living diabetic patient (T89/T90 in a problem result or an antecedent) at the "
    "reference date (end of the date range, else today), with their follow-up over the year "
    "before it.",
    follow_up, materialize=True,
)

INDICATORS = (
    Indicator(
        name="diabete_suivi", theme=THEME, title_fr="Suivi des patients diabétiques",
        description="Diabetic patients with ≥ 2 HbA1c in the year, an eye examination in 2 "
                    "years, kidney screening (creatinine/eGFR and urine albumin/creatinine) in "
                    "the year, and a statin in the year.",
        rule="Windows end at the reference date: 365 days for HbA1c (exam HBA1C), kidney tests "
             "(CREAT, DFG, DFG_MDRD or CLCR_CG, and RAC or ALBU) and statin (ATC C10AA, C10B); "
             "730 days for the eye examination (procedure F30, F31, F41 or referral F67, a "
             "proxy). Exam codes are the terminology's (labs_fr.csv), matched exactly.",
        source=SOURCE, frame=FOLLOW_UP,
        measures=(Measure("patients", "Patients diabétiques", "patients"),
                  Measure("hba1c", "≥ 2 HbA1c / an", "patients", where="hba1c_ok"),
                  Measure("eye", "Examen ophtalmologique < 2 ans", "patients", where="eye_ok"),
                  Measure("kidney", "Dépistage rénal / an", "patients", where="kidney_ok"),
                  Measure("statin", "Statine", "patients", where="statin"),
                  Measure("pct_hba1c", "% ≥ 2 HbA1c", "share", numerator="hba1c",
                          denominator="patients"),
                  Measure("pct_eye", "% examen ophtalmologique", "share", numerator="eye",
                          denominator="patients"),
                  Measure("pct_kidney", "% dépistage rénal", "share", numerator="kidney",
                          denominator="patients"),
                  Measure("pct_statin", "% statine", "share", numerator="statin",
                          denominator="patients"))),
    Indicator(
        name="diabete_hba1c_distribution", theme=THEME,
        title_fr="Distribution de la dernière HbA1c",
        description="Diabetic patients by their latest HbA1c of the year (%).",
        rule="Latest HbA1c (by date, then id) in the 365 days up to the reference date, in % "
             "(canonical unit); bands < 7, 7-8, 8-9, ≥ 9 %. Patients without one are not shown.",
        source=SOURCE + "; HAS 2013 (cible HbA1c ≤ 7 %)", frame=FOLLOW_UP,
        where="has_hba1c", by=("hba1c_band",),
        measures=(Measure("patients", "Patients", "patients"),),
        column_labels_fr=(("hba1c_band", "HbA1c"),)),
)
