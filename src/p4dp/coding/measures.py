"""Numbers a GP writes as the finding itself: "IMC 33" is obesity, "HbA1c 8,2 %" a diabetic's
control, "température 38,5" fever.

Used in the reason and result fields when the words alone name only the measurement (the
lexicon's T31 "IMC", T34 "HbA1c") or nothing: the value then decides the problem. A value
below the threshold says nothing to code and leaves the word-based answer as it is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: WHO body-mass-index classes (WHO Technical Report Series 894, 2000): obesity ≥ 30 kg/m²
#: (ICPC-2 T82), overweight 25-29.9 kg/m² (T83).
BMI_OBESITY = 30.0
BMI_OVERWEIGHT = 25.0
#: WHO 2011 ("Use of glycated haemoglobin (HbA1c) in the diagnosis of diabetes mellitus"):
#: HbA1c ≥ 6.5 % is diabetes (T90, the type GPs see most; T89 stays acceptable).
HBA1C_DIABETES = 6.5
#: The same threshold in IFCC units (WHO 2011: 6.5 % = 48 mmol/mol).
HBA1C_DIABETES_MMOL = 48.0
#: HAS (fièvre de l'enfant, 2016) and general use: fever is a temperature ≥ 38.0 °C (A03).
FEVER = 38.0
#: Plausible ranges, so that "IMC 3" or "HbA1c 65" (mmol/mol) is not read as a percentage.
BMI_RANGE = (10.0, 80.0)
HBA1C_RANGE = (3.0, 20.0)
HBA1C_MMOL_RANGE = (20.0, 200.0)
TEMPERATURE_RANGE = (34.0, 43.0)

_NUMBER = r"(\d{1,2}(?:[.,]\d{1,2})?)"
_BMI = re.compile(r"\b(?:imc|bmi|indice de masse corporelle)\s*(?:[:=a]|de|est)?\s*" + _NUMBER)
_HBA1C_WORDS = r"\b(?:hba1c|hb a1c|hemoglobine glyquee|hbg)\s*(?:[:=a]|de|est)?\s*"
_HBA1C = re.compile(_HBA1C_WORDS + _NUMBER + r"(?!\d)(?!\s*mmol)")
_HBA1C_MMOL = re.compile(_HBA1C_WORDS + r"(\d{2,3})\s*mmol")
_TEMPERATURE = re.compile(r"(?:\bt\s*°|\btemp\b|\btemperature\b|\bt\b)\s*(?:[:=a]|de|est)?\s*"
                          + _NUMBER + r"\s*(?:°|c\b|$|\s|,|;)")


@dataclass(frozen=True)
class Finding:
    code: str
    explanation: str


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _fr(value: float) -> str:
    """French decimal comma: 27.5 -> "27,5", 30.0 -> "30"."""
    return f"{value:g}".replace(".", ",")


def _value(match: re.Match[str], bounds: tuple[float, float]) -> float | None:
    value = float(match.group(1).replace(",", "."))
    return value if bounds[0] <= value <= bounds[1] else None


def finding(text: str) -> Finding | None:
    """The problem a measured value written in ``text`` shows, or None."""
    folded = _fold(text)
    if (m := _BMI.search(folded)) and (v := _value(m, BMI_RANGE)) is not None:
        if v >= BMI_OBESITY:
            return Finding("T82", f"IMC {_fr(v)} ≥ {_fr(BMI_OBESITY)} : obésité")
        if v >= BMI_OVERWEIGHT:
            return Finding("T83", f"IMC {_fr(v)} ≥ {_fr(BMI_OVERWEIGHT)} : surpoids")
    if (m := _HBA1C.search(folded)) and (v := _value(m, HBA1C_RANGE)) is not None:
        if v >= HBA1C_DIABETES:
            return Finding("T90", f"HbA1c {_fr(v)} % ≥ {_fr(HBA1C_DIABETES)} % : diabète")
    if (m := _HBA1C_MMOL.search(folded)) and (v := _value(m, HBA1C_MMOL_RANGE)) is not None:
        if v >= HBA1C_DIABETES_MMOL:
            return Finding("T90", f"HbA1c {_fr(v)} mmol/mol ≥ {_fr(HBA1C_DIABETES_MMOL)} : diabète")
    if (m := _TEMPERATURE.search(folded)) and (v := _value(m, TEMPERATURE_RANGE)) is not None:
        if v >= FEVER:
            return Finding("A03", f"température {_fr(v)} °C ≥ {_fr(FEVER)} °C : fièvre")
    return None
