"""Every number the quality step uses, named once with its source.

Thresholds are the % of checked rows allowed to violate a check before the check is reported as
failed (as in OHDSI's Data Quality Dashboard). Rows that violate a ``quarantine`` check are
quarantined whatever the threshold: the threshold only decides whether the batch's report shows
the check as passed.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Children: WHO growth references -------------------------------------------------------------

#: The WHO 2007 reference ends at 19 years (228 months); from then on adult ranges apply.
#: Source: de Onis M et al., Bull World Health Organ 2007;85:660-7 (WHO Reference 2007, 5–19 y).
ADULT_AGE_MONTHS = 228
#: WHO publishes weight-for-age only up to 10 years (120 months): beyond, weight varies with
#: puberty and BMI-for-age is used instead. Source: WHO Reference 2007 (de Onis 2007).
WHO_WEIGHT_FOR_AGE_MAX_MONTHS = 120

#: Biologically implausible values (BIV), WHO cleaning rule (DOMAIN.md §5): z-score cut-offs
#: (low, high) per indicator. Source: WHO Anthro / AnthroPlus software manuals (flag limits for
#: height-for-age, weight-for-age up to 10 y, BMI-for-age), WHO 2006 and 2007.
WHO_BIV_Z = {
    "height_for_age": (-6.0, 6.0),
    "weight_for_age": (-6.0, 5.0),
    "bmi_for_age": (-5.0, 5.0),
}

#: Mid-month approximation of the birth day: only birth year and month are kept centrally
#: (DOMAIN.md §4), so the reading's age is computed from the 15th of the birth month.
BIRTH_DAY_OF_MONTH = 15
#: Average month length in days, the WHO convention for converting ages (365.25 / 12).
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class Range:
    """A closed plausibility interval in the canonical unit of a quantity."""

    low: float
    high: float
    unit: str
    source: str

    def label(self) -> str:
        return f"{self.low:g}–{self.high:g} {self.unit}"


_CHAN = ("Chan & Raffa, 2017 (VA cohort; EHR weights < 22.7 kg or > 340.2 kg and BMI ≤ 10 or "
         "≥ 100 kg/m² treated as implausible)")
_P4DP = ("P4DP bound, chosen well outside the extremes seen in French primary care so that "
         "only recording errors fall outside; to be reviewed by the data steward (docs/quality.md)")

#: Adults (from ADULT_AGE_MONTHS): weight, height and BMI.
ADULT_RANGES: dict[str, Range] = {
    "weight": Range(22.7, 340.2, "kg", _CHAN),
    "height": Range(100.0, 230.0, "cm", _P4DP),
    "bmi": Range(10.0, 100.0, "kg/m²", _CHAN),
}

#: Children of 10–19 years have no WHO weight-for-age: a wide absolute bound, completed by the
#: BMI-for-age check of the same-day weight/height pair.
CHILD_WEIGHT_AFTER_10Y = Range(10.0, 250.0, "kg", _P4DP)

#: Used when the patient's age is unknown (no birth year): bounds valid at every age.
ANY_AGE_RANGES: dict[str, Range] = {
    "weight": Range(0.3, 340.2, "kg", _P4DP + "; upper bound from " + _CHAN),
    "height": Range(20.0, 230.0, "cm", _P4DP),
    "bmi": Range(7.0, 100.0, "kg/m²", _P4DP + "; upper bound from " + _CHAN),
}

#: Vital signs, all ages, in French units (mmHg, /min, °C, cm).
VITAL_RANGES: dict[str, Range] = {
    "systolic_bp": Range(50.0, 300.0, "mmHg", _P4DP),
    "diastolic_bp": Range(20.0, 200.0, "mmHg", _P4DP),
    "heart_rate": Range(20.0, 250.0, "/min", _P4DP),
    "temperature": Range(30.0, 45.0, "°C", _P4DP),
    "head_circumference": Range(20.0, 70.0, "cm", _P4DP),
    "waist_circumference": Range(30.0, 250.0, "cm", _P4DP),
}

#: Canonical unit of each biometric kind (CDM `biometric.value`).
BIOMETRIC_UNITS = {
    "weight": "kg", "height": "cm", "bmi": "kg/m²", "systolic_bp": "mmHg",
    "diastolic_bp": "mmHg", "heart_rate": "/min", "temperature": "°C",
    "head_circumference": "cm", "waist_circumference": "cm",
}

# --- Repairs ---------------------------------------------------------------------------------------

#: A height written in metres lies in this interval (a newborn's 0.45 m to a very tall 2.5 m).
HEIGHT_IN_METRES = (0.3, 2.5)
#: A weight written in grams is at least this many (a 500 g preterm newborn); below, /1000 makes
#: no sense. Source: WHO definition of extremely low birth weight (< 1000 g) includes 500 g babies.
WEIGHT_IN_GRAMS_MIN = 500.0
#: Swapping weight and height is a guess, so it needs more than possible values: the swapped height
#: must be typical — a child's WHO height-for-age |z| ≤ 4, an adult's 130–210 cm (below 130 cm lie
#: only rare skeletal dysplasias, e.g. achondroplasia, adult mean ≈ 124–131 cm: Horton WA et al.,
#: J Pediatr 1978;93:435-8). P4DP choice.
SWAP_TYPICAL_HEIGHT_Z = 4.0
SWAP_TYPICAL_ADULT_HEIGHT = (130.0, 210.0)
#: A recorded BMI that differs from weight/height² by more than this is replaced. Rounding the
#: weight to 0.1 kg and the height to 0.5 cm moves an infant's BMI by up to ≈ 0.35 kg/m²; 0.5 keeps
#: correct but rounded records. P4DP choice (DOMAIN.md §3: never trust a recorded BMI).
BMI_AGREEMENT_TOLERANCE = 0.5

# --- Laboratory ------------------------------------------------------------------------------------

#: Plausible value ranges per canonical exam and unit.
LAB_RANGES: dict[tuple[str, str], Range] = {
    # INR 0.5–15: issue 3 brief; an INR above 15 is not reported by French laboratories' analysers
    # as a number.
    ("inr", ""): Range(0.5, 15.0, "", "P4DP issue 3 (INR 0.5–15)"),
    ("hba1c", "%"): Range(3.0, 20.0, "%", "P4DP issue 3 (HbA1c 3–20 %)"),
    # Same bounds in IFCC units: mmol/mol = 10.929 × (% − 2.15), the IFCC–NGSP master equation
    # (Hoelzel W et al., Clin Chem 2004;50:166-74): 3 % → 9.3, 20 % → 195.1.
    ("hba1c", "mmol/mol"): Range(9.3, 195.1, "mmol/mol", "IFCC–NGSP master equation (Hoelzel 2004) "
                                 "applied to HbA1c 3–20 %"),
}
#: Regular expressions that recognise an exam from its label when the coder gave no exam_code.
LAB_LABEL_PATTERNS = {
    "inr": r"^\s*i\.?\s*n\.?\s*r\b",
    "hba1c": r"hba1c|h[ée]moglobine\s+glyqu[ée]e|\ba1c\b",
}

# --- Dates and people -------------------------------------------------------------------------------

#: Oldest plausible birth year: the oldest documented French person was born in 1875; 1900 leaves
#: room for nobody living today beyond 126 years. Source: INSEE (supercentenarians), P4DP choice.
MIN_BIRTH_YEAR = 1900

# --- Check thresholds (% of rows tolerated) ---------------------------------------------------------
#: DQD-style defaults: structure must be perfect; clinical plausibility tolerates a little noise.
#: P4DP defaults, in the spirit of OHDSI DQD (which ships 0 % for most conformance checks and a few %
#: for plausibility checks); a data steward tunes them per source.
THRESHOLD_CONFORMANCE = 0.0
THRESHOLD_DUPLICATES = 1.0
THRESHOLD_DATES = 0.5
THRESHOLD_PLAUSIBILITY = 1.0
THRESHOLD_COMPLETENESS_RECOMMENDED = 5.0

#: Examples kept per check in the report.
MAX_EXAMPLES = 5
