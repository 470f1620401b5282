"""French display strings: dd/mm/yyyy dates, decimal commas, grouped thousands; JSON untouched."""

from __future__ import annotations

import datetime as dt

from p4dp.analytics.display import THOUSANDS_SEP, display_fr, format_number_fr
from p4dp.analytics.library import get


def test_dates_are_shown_day_month_year():
    assert display_fr(dt.date(2024, 3, 1)) == "01/03/2024"
    assert display_fr("2024-03-01") == "01/03/2024"
    assert display_fr("2024-03-01T14:05:00") == "01/03/2024 14:05"
    assert display_fr(dt.datetime(2024, 3, 1)) == "01/03/2024"


def test_numbers_use_a_decimal_comma_and_grouped_thousands():
    assert display_fr(1306535) == f"1{THOUSANDS_SEP}306{THOUSANDS_SEP}535"
    assert display_fr(12.5) == "12,5"
    assert format_number_fr(1234.5, 2) == f"1{THOUSANDS_SEP}234,50"
    assert display_fr(None) == ""
    # week and month labels are not dates and stay as they are
    assert display_fr("2024-W05") == "2024-W05" and display_fr("2024-03") == "2024-03"


def test_general_dashboard_titles_and_labels_are_the_seed_wording():
    assert get("general_consultations_per_year").title_fr == "Évolution des Consultations par An"
    assert get("general_doctors_by_sex").title_fr == "Répartitions des Médecins par Sexe"
    assert get("general_vaccinations_by_type").title_fr == "NB de Vaccinations par Type"
    assert get("general_antecedents").title_fr == "Nombre d'Antécédents"
    labels = {m.name: m.label_fr for m in get("general_exams").measures}
    assert labels == {"n": "Nombre d'Examens Complémentaires", "patients": "Nombre de Patients"}
