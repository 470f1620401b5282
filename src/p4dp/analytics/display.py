"""French display strings of payload values (the users are French GPs): dates as dd/mm/yyyy,
decimal commas, thin grouping of thousands as the seed's dashboards show them ("1 306 535").

Only for text shown to a person (the CLI's tables, exported sheets): JSON payloads keep numbers as
numbers and dates as ISO strings, so that programs never parse French text.
"""

from __future__ import annotations

import datetime as dt
import re

#: ISO dates as the payloads carry them ("2024-03-01"), optionally with a time.
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?)?$")
#: French typography groups thousands with a (narrow) no-break space.
THOUSANDS_SEP = "\u202f"


def format_number_fr(value: int | float, digits: int | None = None) -> str:
    """12345.6 → "12 345,6"; integers keep no decimals; `digits` fixes the decimals."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int) and digits is None:
        return f"{value:,}".replace(",", THOUSANDS_SEP)
    text = f"{value:,.{digits}f}" if digits is not None else f"{value:,}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", THOUSANDS_SEP)


def format_date_fr(value: dt.date | dt.datetime) -> str:
    """2024-03-01 → "01/03/2024" (with " HH:MM" for a datetime that has a time)."""
    if isinstance(value, dt.datetime) and value.time() != dt.time():
        return value.strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


#: French labels of the common data model's category codes (the `kind` columns of encounter,
#: history, biometric and antecedent in `cdm/tables.py`), as the seed's dashboards show them.
CATEGORY_LABELS_FR: dict[str, str] = {
    # encounter.kind
    "cabinet": "Cabinet", "visite": "Visite à domicile", "teleconsultation": "Téléconsultation",
    "telephone": "Téléphone", "autre": "Autre",
    # history.kind
    "tobacco": "Tabac", "alcohol": "Alcool", "drugs": "Drogues", "occupation": "Profession",
    "family_situation": "Situation familiale", "physical_activity": "Activité physique",
    # biometric.kind
    "weight": "Poids", "height": "Taille", "bmi": "IMC", "systolic_bp": "PA systolique",
    "diastolic_bp": "PA diastolique", "heart_rate": "Fréquence cardiaque",
    "temperature": "Température", "head_circumference": "Périmètre crânien",
    "waist_circumference": "Tour de taille",
    # antecedent.kind
    "medical": "Médical", "surgical": "Chirurgical", "family": "Familial", "allergy": "Allergie",
}


def category_fr(value: object) -> object:
    """The French label of a category code of the data model, or the value unchanged."""
    return CATEGORY_LABELS_FR.get(value, value) if isinstance(value, str) else value


def display_fr(value: object) -> str:
    """A payload value as shown to a French user ("" for null)."""
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return format_date_fr(value)
    if isinstance(value, (int, float)):
        return format_number_fr(value)
    if isinstance(value, str):
        m = _ISO_DATE.match(value)
        if m:
            text = f"{m[3]}/{m[2]}/{m[1]}"
            return f"{text} {m[4]}" if m[4] and m[4] != "00:00" else text
    return str(value)
