"""French wording of rules (attrition table) and of the facts that made a patient match (GP's
list): dates dd/mm/yyyy, decimal commas."""

from __future__ import annotations

import datetime as dt

from p4dp.analytics.display import format_date_fr, format_number_fr
from p4dp.cohorts.criteria import (
    AllOf,
    AnyOf,
    Biometric,
    ChildWeight,
    Condition,
    Demographics,
    Drug,
    History,
    Lab,
    Not,
    Occurrences,
    Vaccination,
    exam_units,
    number_fr,
)

_SEX_FR = {"F": "femmes", "M": "hommes"}
_BIOMETRIC_FR = {"weight": "Poids", "height": "Taille", "bmi": "IMC", "systolic_bp": "PAS",
                 "diastolic_bp": "PAD", "heart_rate": "Fréquence cardiaque",
                 "temperature": "Température", "head_circumference": "Périmètre crânien",
                 "waist_circumference": "Tour de taille"}
_BIOMETRIC_UNITS = {"weight": "kg", "height": "cm", "bmi": "kg/m²", "systolic_bp": "mmHg",
                    "diastolic_bp": "mmHg", "heart_rate": "/min", "temperature": "°C",
                    "head_circumference": "cm", "waist_circumference": "cm"}
_HISTORY_FR = {"tobacco": "tabac", "alcohol": "alcool", "drugs": "drogues",
               "occupation": "profession", "family_situation": "situation familiale",
               "physical_activity": "activité physique"}
_ORIGINS_FR = {"reason": "motif", "result": "résultat", "procedure": "procédure",
               "antecedent": "antécédent"}


def _occ(o: Occurrences) -> str:
    if o.max == 0:
        return "aucune fois"
    if o.max is not None:
        return f"{o.min} à {o.max} fois"
    return f"au moins {o.min} fois" if o.min > 1 else ""


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def rule_label_fr(rule) -> str:
    """The rule's own label, else one generated from it."""
    if rule.label:
        return rule.label
    if isinstance(rule, Demographics):
        parts = []
        if rule.age_min is not None and rule.age_max is not None:
            parts.append(f"âge {rule.age_min}-{rule.age_max} ans")
        elif rule.age_min is not None:
            parts.append(f"âge ≥ {rule.age_min} ans")
        elif rule.age_max is not None:
            parts.append(f"âge ≤ {rule.age_max} ans")
        if rule.sex:
            parts.append(_SEX_FR[rule.sex])
        if rule.regions:
            parts.append("région " + ", ".join(rule.regions))
        return ", ".join(parts).capitalize()
    if isinstance(rule, Condition):
        what = [*rule.codes, *[f"chapitre {c}" for c in rule.chapters],
                *[f"{r.from_}-{r.to}" for r in rule.ranges]]
        where = "/".join(_ORIGINS_FR[o] for o in rule.origins)
        return _join("CISP-2", ", ".join(what), f"({where})", _occ(rule.occurrences),
                     rule.window.describe_fr() if rule.window else "")
    if isinstance(rule, Lab):
        unit = rule.unit or exam_units()[rule.exam]
        cmp = rule.compare.describe_fr(unit) if rule.compare else ""
        which = (f"(≥ {number_fr(rule.min_share_percent)} % des résultats)"
                 if rule.which == "share" else
                 "(dernier résultat)" if rule.which == "latest" else "")
        return _join(rule.exam, cmp, which, _occ(rule.occurrences),
                     rule.window.describe_fr() if rule.window else "")
    if isinstance(rule, Drug):
        days = f"≥ {rule.min_days} jours prescrits" if rule.min_days else ""
        return _join("Traitement ATC", ", ".join(rule.atc), days, _occ(rule.occurrences),
                     rule.window.describe_fr() if rule.window else "")
    if isinstance(rule, Biometric):
        latest = "(dernière mesure)" if rule.which == "latest" else ""
        return _join(_BIOMETRIC_FR[rule.kind], rule.compare.describe_fr(
            _BIOMETRIC_UNITS[rule.kind]), latest, rule.window.describe_fr() if rule.window else "")
    if isinstance(rule, ChildWeight):
        what = "Obésité (IOTF-30)" if rule.status == "obese" else "Surpoids (IOTF-25)"
        return _join(what, "à la dernière mesure" if rule.which == "latest" else "",
                     rule.window.describe_fr() if rule.window else "")
    if isinstance(rule, Vaccination):
        return _join("Vacciné", ", ".join(rule.valences), _occ(rule.occurrences),
                     rule.window.describe_fr() if rule.window else "")
    if isinstance(rule, History):
        extra = f"« {rule.label_contains} »" if rule.label_contains else ""
        return _join("Historique", _HISTORY_FR[rule.kind], "/".join(rule.statuses), extra,
                     rule.window.describe_fr() if rule.window else "")
    if isinstance(rule, AllOf):
        return "(" + " ET ".join(rule_label_fr(r) for r in rule.rules) + ")"
    if isinstance(rule, AnyOf):
        return "(" + " OU ".join(rule_label_fr(r) for r in rule.rules) + ")"
    if isinstance(rule, Not):
        return "NON " + rule_label_fr(rule.rule)
    raise TypeError(f"unknown rule {type(rule).__name__}")  # pragma: no cover


def _value(v: float | None, unit: str = "") -> str:
    if v is None:
        return ""
    u = f" {unit}" if unit and unit != "1" else ""
    return format_number_fr(round(v, 2)) + u


def _date(d: dt.date | None) -> str:
    return f"le {format_date_fr(d)}" if d else ""


def fact_fr(rule, n: int | None, last_date: dt.date | None, value: float | None,
            detail: str | None) -> str:
    """What made the patient match one rule, in French ("HbA1c 8,4 % le 12/03/2026")."""
    if isinstance(rule, Demographics):
        return _join(f"{int(value)} ans" if value is not None else "",
                     {"F": "femme", "M": "homme"}.get(detail or "", ""))
    if isinstance(rule, Condition):
        if rule.occurrences.max == 0:
            return "aucun code"
        times = f"{n} fois, " if n and n > 1 else ""
        return _join(detail or "", f"({times}dernier {_date(last_date)})" if last_date else
                     "(antécédent non daté)")
    if isinstance(rule, Lab):
        if rule.which == "share":
            return f"{rule.exam} : {_value(value)} % des {n} résultats, dernier {_date(last_date)}"
        if not n:
            return f"{rule.exam} : aucun résultat"
        return _join(rule.exam, _value(value, exam_units()[rule.exam]), _date(last_date))
    if isinstance(rule, Drug):
        if not n:
            return "aucune prescription"
        days = f", {int(value)} j prescrits" if rule.min_days and value is not None else ""
        return f"{detail} : {n} prescription(s){days}, dernière {_date(last_date)}"
    if isinstance(rule, Biometric):
        return _join(_BIOMETRIC_FR[rule.kind], _value(value, _BIOMETRIC_UNITS[rule.kind]),
                     _date(last_date))
    if isinstance(rule, ChildWeight):
        return _join("IMC", _value(value, "kg/m²"), _date(last_date))
    if isinstance(rule, Vaccination):
        return _join(detail or "", _date(last_date)) if n else "aucune dose"
    if isinstance(rule, History):
        return _join(f"« {detail} »" if detail else "", _date(last_date))
    return "oui"
