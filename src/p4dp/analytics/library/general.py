"""Général — the seed's "Données Générales des Consultations" (DOMAIN.md §1): counts of
consultations, patients, doctors, biometrics, antecedents, exams, history items, reasons and
vaccinations, and their distributions."""

from __future__ import annotations

from p4dp.analytics.library import frames as F
from p4dp.analytics.model import Dim, Indicator, Measure

THEME = "general"
SOURCE = "Séminaire P4DP, tableau « Données Générales des Consultations » (DOMAIN.md §1)"
# Titles and column labels are the seed dashboard's own wording, capitals included (seed talk,
# "Données Générales des Consultations"), with its typos fixed ("Nombre de Antécédent" →
# "Nombre d'Antécédents", "Evolution" → "Évolution").


def _count(name: str, title: str, frame, label: str, rule: str, by: tuple[str, ...] = (),
           where: str | None = None, patients: bool = True) -> Indicator:
    measures = [Measure("n", label, "count", where=where)]
    if patients and frame.subject == "patient":
        measures.append(Measure("patients", "Nombre de Patients", "patients", where=where))
    return Indicator(
        name=name, theme=THEME, title_fr=title,
        description=(f"Rows of the `{frame.name}` frame"
                     + (" and distinct patients" if len(measures) > 1 else "")
                     + (f", by {', '.join(f'`{b}`' for b in by)}" if by else "") + "."),
        rule=rule, source=SOURCE, frame=frame, measures=tuple(measures), by=by)


INDICATORS = (
    _count("general_consultations", "Nombre de Consultations", F.ENCOUNTERS,
           "Nombre de Consultations",
           "One row of `encounter` = one consultation; the date filter applies to its date."),
    Indicator(
        name="general_patients", theme=THEME, title_fr="Nombre de Patients",
        description="Patient records of the scope (the date filter does not apply: a record has "
                    "no date; use `general_consultations` for patients seen in a period).",
        rule="Distinct `patient` rows, patients who objected excluded.", source=SOURCE,
        frame=F.PATIENTS, measures=(Measure("patients", "Nombre de Patients", "patients"),)),
    Indicator(
        name="general_doctors", theme=THEME, title_fr="Nombre de Médecins",
        description="Practitioners (GPs and interns) of the scope.",
        rule="Distinct `practitioner` rows; patient filters (sex, age, patient) do not apply.",
        source=SOURCE, frame=F.PRACTITIONERS,
        measures=(Measure("n", "Nombre de Médecins", "patients"),)),
    _count("general_biometrics", "Nombre de Biométries", F.BIOMETRICS, "Nombre de Biométries",
           "One row of `biometric` = one measured quantity (weight and height taken together "
           "count twice), as the seed counts."),
    _count("general_antecedents", "Nombre d'Antécédents", F.ANTECEDENTS, "Nombre d'Antécédents",
           "One row of `antecedent`."),
    _count("general_exams", "Nombre d'Examens Complémentaires", F.LABS,
           "Nombre d'Examens Complémentaires",
           "One row of `lab_result` = one result."),
    _count("general_history", "Nombre d'Historiques", F.HISTORY, "Nombre d'Historiques",
           "One row of `history`."),
    _count("general_reasons", "Nombre de Motifs", F.PROBLEMS, "Nombre de Motifs",
           "Problems with a reason for encounter (coded or typed).", where="has_reason"),
    _count("general_vaccinations", "Nombre de Vaccinations", F.VACCINATIONS,
           "Nombre de Vaccinations",
           "One row of `vaccination` = one dose."),
    _count("general_consultations_per_year", "Évolution des Consultations par An", F.ENCOUNTERS,
           "Nombre de Consultations", "Consultations grouped by calendar year of their date.",
           by=(Dim.YEAR,)),
    _count("general_consultations_per_type", "Nombre de Consultations par Type", F.ENCOUNTERS,
           "Nombre de Consultations", "Consultations grouped by kind of contact (cabinet, visite, "
           "téléconsultation …; `autre` when not given).", by=("kind",)),
    _count("general_doctors_by_sex", "Répartitions des Médecins par Sexe", F.PRACTITIONERS,
           "Nombre de Médecins", "Practitioners grouped by sex (`inconnu` when not given).",
           by=("doctor_sex",)),
    _count("general_history_by_type", "Répartitions des Historiques par Type", F.HISTORY,
           "Nombre d'Historiques", "History items grouped by kind (tabac, alcool, drogues …).",
           by=("kind",)),
    _count("general_biometrics_by_kind", "Nombre des Relevés Biométriques", F.BIOMETRICS,
           "Nombre de Relevés", "Biometric readings grouped by measured quantity.", by=("kind",)),
    _count("general_exams_by_type", "Nombre des Examens Complémentaires par Type", F.LABS,
           "Nombre d'Examens", "Results grouped by canonical exam code (`non reconnu` when the "
           "coder found none).", by=("exam",)),
    _count("general_vaccinations_by_type", "NB de Vaccinations par Type", F.VACCINATIONS,
           "Nombre de Vaccinations", "Doses grouped by normalised product (`non reconnu` when the "
           "label was not recognised).", by=("product",)),
)
