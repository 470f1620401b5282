"""Vaccination — adults over 25 up to date for the dTP booster (calendrier vaccinal since 2013,
DOMAIN.md §3), overdue list, coverage by age; vaccinations by valence."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from p4dp.analytics import portable as P
from p4dp.analytics.codes import valences as known_valences
from p4dp.analytics.compile import Warehouse, alive_patients, reference_date
from p4dp.analytics.library import frames as F
from p4dp.analytics.model import Frame, Indicator, Measure, Period

THEME = "vaccination"
#: The seed's population: patients older than 25 ("> 25 ans"), i.e. 26 and over in completed
#: years.
ADULT_OLDER_THAN = 25
#: Fixed ages of the adult dTP booster: 25, 45, 65, then every 10 years (calendrier vaccinal
#: 2013, DOMAIN.md §3).
BOOSTER_AGES = (25, 45, 65)
BOOSTER_EVERY_AFTER_65 = 10
#: A dose in the 5 years before a fixed age counts for that age (DOMAIN.md §3).
BOOSTER_WINDOW_YEARS = 5
SOURCE = ("Calendrier des vaccinations 2013 (HCSP), rappels dTP à 25, 45, 65 ans puis tous les "
          "10 ans")


#: Valences as `p4dp.terminology.vaccines` writes them: diphtheria at adult (d) or child (D)
#: strength, tetanus, polio. Pertussis (ca / Ca) is not required for the dTP booster.
DIPHTHERIA, TETANUS, POLIO = known_valences("d", "D"), known_valences("T"), known_valences("P")


def is_dtp(valences: ir.ArrayValue) -> ir.BooleanValue:
    """A dose protects against diphtheria (d or D), tetanus (T) and polio (P)."""
    return (ibis.or_(*[valences.contains(v) for v in DIPHTHERIA])
            & ibis.and_(*[valences.contains(v) for v in TETANUS + POLIO]))


def last_due_age(age: ir.IntegerValue) -> ir.IntegerValue:
    """The latest fixed booster age reached at `age` (null before 25)."""
    later = BOOSTER_AGES[-1] + ((age - BOOSTER_AGES[-1]) // BOOSTER_EVERY_AFTER_65) \
        * BOOSTER_EVERY_AFTER_65
    return ibis.cases((age < BOOSTER_AGES[0], ibis.null("int32")),
                      (age < BOOSTER_AGES[1], BOOSTER_AGES[0]),
                      (age < BOOSTER_AGES[2], BOOSTER_AGES[1]),
                      else_=later).cast("int32")


def dtp_status(wh: Warehouse, period: Period) -> ir.Table:
    ref = reference_date(period)
    v = wh.mart("mart_dtp_dose")
    v = v.filter(v.date <= ref)
    last = P.latest_per_patient(v, ["date"], ["vaccination_id"]).select(
        "patient_id", last_dose=v.date, last_label=v.raw_label)
    p = alive_patients(wh, ref)
    p = p.mutate(current_age=P.age_at(p.birth_year, p.birth_month, ref))
    p = p.filter(p.current_age > ADULT_OLDER_THAN)
    t = p.left_join(last, "patient_id")
    dose_age = P.age_at(t.birth_year, t.birth_month, t.last_dose)
    due = last_due_age(t.current_age)
    return t.select(
        "patient_id", "current_age", "last_dose", "last_label", date=ref, dose_age=dose_age,
        due_age=due, vaccinated=t.last_dose.notnull(),
        up_to_date=(dose_age >= due - BOOSTER_WINDOW_YEARS).fill_null(False),
        overdue=~(dose_age >= due - BOOSTER_WINDOW_YEARS).fill_null(False))


DTP_STATUS = Frame(
    "dtp_status",
    "One row per living patient older than 25 at the reference date (end of the date range, else "
    "today): their latest dTP dose (any dose with d/D, T and P valences) and booster status.",
    dtp_status, materialize=True,
)


def _valences(wh: Warehouse, period: Period) -> ir.Table:
    v = wh.table("vaccination")
    v = v.filter(v.valences.notnull())
    return v.select("vaccination_id", "patient_id", "date", valence=v.valences.unnest())


VALENCES = Frame("vaccination_valences", "One row per dose and valence covered.", _valences)

_RULE = (f"Up to date when the latest dTP dose was given at an age ≥ (latest fixed booster age "
         f"reached − {BOOSTER_WINDOW_YEARS}); fixed ages 25, 45, 65 then every 10 years; ages in "
         "completed years (birth on the 15th of the month).")

INDICATORS = (
    Indicator(
        name="vaccination_dtp_up_to_date", theme=THEME,
        title_fr="Nb de Patients > 25 ans à jour dans la vaccination dTP",
        description="Patients older than 25, those with a recorded dTP dose, and those up to "
                    "date for the adult booster.",
        rule=_RULE, source=SOURCE, frame=DTP_STATUS,
        measures=(Measure("patients", "Patients > 25 ans", "patients"),
                  Measure("vaccinated", "Nb de Vaccinés DTP-DTCP", "patients", where="vaccinated"),
                  Measure("up_to_date", "À jour dTP", "patients", where="up_to_date"),
                  Measure("pct_up_to_date", "% à jour dTP", "share", numerator="up_to_date",
                          denominator="patients"))),
    Indicator(
        name="vaccination_dtp_by_age", theme=THEME, title_fr="Couverture dTP par âge",
        description="dTP booster coverage by age band at the reference date.",
        rule=_RULE, source=SOURCE, frame=DTP_STATUS, by=("age_band",),
        age_breaks=(26, 45, 65, 75), age_labels=None,
        measures=(Measure("patients", "Patients", "patients"),
                  Measure("up_to_date", "À jour dTP", "patients", where="up_to_date"),
                  Measure("pct_up_to_date", "% à jour dTP", "share", numerator="up_to_date",
                          denominator="patients"))),
    Indicator(
        name="vaccination_dtp_overdue", theme=THEME,
        title_fr="Patients en retard pour le rappel dTP",
        description="Line list of the GP's patients older than 25 who are not up to date.",
        rule=_RULE, source=SOURCE, frame=DTP_STATUS, where="overdue",
        line_list=("patient_id", "current_age", "last_dose", "last_label", "dose_age",
                   "due_age"),
        column_labels_fr=(("patient_id", "Patient"), ("current_age", "Âge actuel"),
                          ("last_dose", "Dernière dose dTP"), ("last_label", "Libellé"),
                          ("dose_age", "Âge à la vaccination"), ("due_age", "Rappel dû à"))),
    Indicator(
        name="vaccination_by_valence", theme=THEME, title_fr="Vaccinations par valence",
        description="Doses by valence covered (a DTCaP dose counts for D, T, Ca and P).",
        rule="Doses in the date range, one row per valence of the normalised label.",
        source="p4dp.terminology.vaccines (valences)", frame=VALENCES, by=("valence",),
        measures=(Measure("n", "Nb de Vaccinations", "count"),
                  Measure("patients", "Nb de Patients Vaccinés", "patients")),
        column_labels_fr=(("valence", "Valence"),)),
    Indicator(
        name="vaccination_top_labels", theme=THEME, title_fr="Top des « libellés » vaccinations",
        description="The 20 most frequent vaccination labels as typed.",
        rule="Doses in the date range grouped by raw label, ranked by count.",
        source="Séminaire P4DP, onglet Vaccination (DOMAIN.md §1)", frame=F.VACCINATIONS,
        by=("raw_label",), top=20, rank_by="n",
        measures=(Measure("n", "Nombre de doses", "count"),),
        column_labels_fr=(("raw_label", "Libellé"),)),
)
