"""The logbook's vocabulary: competences, levels, patients' age bands, statuses (French labels).

Every list here is the one source the service, the dashboard, the exports and the web pages use.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

#: Levels of acquisition of a competence, lowest first (CNGE; Compagnon et al., exercer 2013;
#: DOMAIN.md §6). Their rank (1, 2, 3) is the score averaged in the progression chart.
LEVELS: tuple[str, ...] = ("novice", "intermediaire", "competent")
LEVEL_LABELS_FR = {"novice": "Novice", "intermediaire": "Intermédiaire", "competent": "Compétent"}
LEVEL_SCORE = {level: i + 1 for i, level in enumerate(LEVELS)}

#: The seed's screen has three competence slots ("Compétence n°1 … n°3").
MAX_COMPETENCES = 3

#: Patients' age bands (lower bounds, years). P4DP convention: the infant (< 2 years) and the
#: child (2–15, paediatric age in France until 16) are kept apart so that a trainee's
#: paediatric exposure shows; adults follow the usual 25/45/65/75 cuts of French GP statistics.
AGE_BREAKS: tuple[int, ...] = (0, 2, 16, 25, 45, 65, 75)
AGE_BANDS: tuple[str, ...] = ("0-1", "2-15", "16-24", "25-44", "45-64", "65-74", "75+")
AGE_BAND_LABELS_FR = {"0-1": "Moins de 2 ans", "2-15": "2 à 15 ans", "16-24": "16 à 24 ans",
                      "25-44": "25 à 44 ans", "45-64": "45 à 64 ans", "65-74": "65 à 74 ans",
                      "75+": "75 ans et plus"}
#: Patient sex, as in the common data model (`cdm.tables.SEX`).
SEXES: tuple[str, ...] = ("F", "M")
SEX_LABELS_FR = {"F": "Femme", "M": "Homme"}

#: Life of an entry's version: the intern saves drafts, submits, the supervisor validates (the
#: version is then locked) or sends it back with a comment (draft again).
STATUSES: tuple[str, ...] = ("draft", "submitted", "validated")
STATUS_LABELS_FR = {"draft": "Brouillon", "submitted": "Soumise", "validated": "Validée"}

#: The three fields of a problem (seed screen: Motif / Résultat / Procédure), as named in the
#: common data model and by the coder.
FIELDS: tuple[str, ...] = ("reason", "result", "procedure")
FIELD_LABELS_FR = {"reason": "Motif", "result": "Résultat", "procedure": "Procédure"}


@dataclass(frozen=True)
class Competence:
    key: str
    number: int
    label_fr: str
    short_fr: str


@lru_cache(maxsize=1)
def competences() -> tuple[Competence, ...]:
    """The six CNGE competences, in order (`data/competences.csv`, sources in its README)."""
    path = files(__package__).joinpath("data", "competences.csv")
    with path.open(encoding="utf-8", newline="") as f:
        rows = [Competence(r["key"], int(r["number"]), r["label_fr"], r["short_fr"])
                for r in csv.DictReader(f)]
    return tuple(sorted(rows, key=lambda c: c.number))


def competence(key: str) -> Competence:
    for c in competences():
        if c.key == key:
            return c
    raise KeyError(key)


def age_band_of(age: int) -> str:
    """Band of an age in completed years (`age_band_of(1)` → "0-1")."""
    band = AGE_BANDS[0]
    for lo, label in zip(AGE_BREAKS, AGE_BANDS):
        if age >= lo:
            band = label
    return band
