"""Dépistage cancer — organised screening up to date among eligible patients (INCa / HAS,
DOMAIN.md §3): breast, colorectal and cervical.

In GP records a screening test shows as a problem's **procedure** code (ICPC-2 process codes,
chapter letter + component): X41 imaging of the breast (mammography), D36 faeces test (faecal
immunochemical test), D40 diagnostic endoscopy (colonoscopy), X37 cervical cytology / HPV
sample. A test done but never recorded in the GP's file is not seen: the indicators are a lower
bound of real coverage.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from p4dp.analytics import portable as P
from p4dp.analytics.codes import icpc2_codes
from p4dp.analytics.compile import Warehouse, alive_patients, reference_date
from p4dp.analytics.model import Frame, Indicator, Measure, Period

THEME = "depistage"
SOURCE = "INCa / HAS, programmes de dépistage organisé (DOMAIN.md §3); codes de procédure CISP-2"
DAYS_PER_YEAR = 365.25

#: Breast: women 50–74, mammography every 2 years.
BREAST_AGES, BREAST_CODES, BREAST_YEARS = (50, 74), icpc2_codes("X41"), 2
#: Colorectal: 50–74, FIT every 2 years; a colonoscopy covers 5 years (INCa: no FIT in the 5
#: years after a normal colonoscopy).
COLON_AGES, FIT_CODES, FIT_YEARS = (50, 74), icpc2_codes("D36"), 2
COLONOSCOPY_CODES, COLONOSCOPY_YEARS = icpc2_codes("D40"), 5
#: Cervix: women 25–65; cytology every 3 years at 25–29, HPV test every 5 years from 30.
CERVIX_AGES, CERVIX_CODES = (25, 65), icpc2_codes("X37")
CERVIX_CYTOLOGY_UNTIL, CERVIX_CYTOLOGY_YEARS, CERVIX_HPV_YEARS = 29, 3, 5


def dated_procedure_codes() -> tuple[str, ...]:
    """The procedures `last_procedure` may be asked for (stored in `mart_dated_procedure`)."""
    from p4dp.analytics.library.diabete import EYE_EXAM_CODES

    return tuple(dict.fromkeys(BREAST_CODES + FIT_CODES + COLONOSCOPY_CODES + CERVIX_CODES
                               + EYE_EXAM_CODES))


def last_procedure(wh: Warehouse, codes: tuple[str, ...], on: ir.DateValue,
                   name: str) -> ir.Table:
    """Per patient, the date of the latest problem with one of the procedure codes (among
    `dated_procedure_codes()`), up to `on`."""
    missing = set(codes) - set(dated_procedure_codes())
    if missing:
        raise ValueError(f"procedure codes {sorted(missing)} are not in dated_procedure_codes()")
    p = wh.mart("mart_dated_procedure")
    p = p.filter(p.procedure_code.isin(codes) & (p.date <= on))
    return p.group_by("patient_id").aggregate(**{name: p.date.max()})


def _years_since(d: ir.DateValue, on: ir.DateValue) -> ir.FloatingValue:
    return on.delta(d, unit="day").cast("float64") / DAYS_PER_YEAR


def screening(wh: Warehouse, period: Period) -> ir.Table:
    ref = reference_date(period)
    pat = wh.table("patient").select("patient_id", "sex")
    p = alive_patients(wh, ref).inner_join(pat, "patient_id")
    p = p.mutate(age_ref=P.age_at(p.birth_year, p.birth_month, ref))
    for codes, name in ((BREAST_CODES, "last_mammo"), (FIT_CODES, "last_fit"),
                        (COLONOSCOPY_CODES, "last_colo"), (CERVIX_CODES, "last_cervix")):
        p = p.left_join(last_procedure(wh, codes, ref, name), "patient_id")

    def within(col: str, years: float) -> ir.BooleanValue:
        return (p[col].notnull() & (_years_since(p[col], ref) <= years)).fill_null(False)

    def between(lo: int, hi: int) -> ir.BooleanValue:
        return ((p.age_ref >= lo) & (p.age_ref <= hi)).fill_null(False)

    cervix_years = ibis.ifelse(p.age_ref <= CERVIX_CYTOLOGY_UNTIL, CERVIX_CYTOLOGY_YEARS,
                               CERVIX_HPV_YEARS)
    return p.select(
        "patient_id", date=ref,
        breast_eligible=(p.sex == "F") & between(*BREAST_AGES),
        breast_ok=(p.sex == "F") & between(*BREAST_AGES) & within("last_mammo", BREAST_YEARS),
        colon_eligible=between(*COLON_AGES),
        colon_ok=between(*COLON_AGES) & (within("last_fit", FIT_YEARS)
                                         | within("last_colo", COLONOSCOPY_YEARS)),
        cervix_eligible=(p.sex == "F") & between(*CERVIX_AGES),
        cervix_ok=(p.sex == "F") & between(*CERVIX_AGES) & (
            p.last_cervix.notnull() & (_years_since(p.last_cervix, ref) <= cervix_years)
        ).fill_null(False),
    )


SCREENING = Frame(
    "screening",
    "One row per living patient at the reference date (end of the date range, else today) with "
    "eligibility and up-to-date status for each organised screening.",
    screening, materialize=True,
)


def _screen(name: str, what: str, what_en: str, key: str, rule: str) -> Indicator:
    return Indicator(
        name=name, theme=THEME, title_fr=f"Dépistage du cancer {what} à jour",
        description=f"Eligible patients and those up to date for {what_en} cancer screening.",
        rule=rule, source=SOURCE, frame=SCREENING, where=f"{key}_eligible",
        measures=(Measure("eligible", "Patients éligibles", "patients"),
                  Measure("up_to_date", "À jour", "patients", where=f"{key}_ok"),
                  Measure("pct", "% à jour", "share", numerator="up_to_date",
                          denominator="eligible")))


INDICATORS = (
    _screen("depistage_sein", "du sein", "breast", "breast",
            "Women 50–74 at the reference date; up to date with a mammography (procedure X41) "
            "in the last 2 years."),
    _screen("depistage_colorectal", "colorectal", "colorectal", "colon",
            "Patients 50–74; up to date with a faecal test (D36) in the last 2 years or a "
            "colonoscopy (D40) in the last 5 years."),
    _screen("depistage_col_uterus", "du col de l'utérus", "cervical", "cervix",
            "Women 25–65; up to date with a cervical sample (X37) in the last 3 years at 25–29, "
            "5 years from 30 (HPV test)."),
)
