"""Drugs: prescription labels (brand or INN, with dose and form noise) → substance and ATC code.

Data: `data/drugs_fr.csv` — substance (French INN; fixed combinations as "A + B"; a route in
brackets when the same INN has several ATC codes), ATC code (level 5, except the two ATC groups
that have no level-5 split: A12AX calcium + vitamin D, B03AC parenteral iron), and aliases
(French brand names, generic spellings). Sources in `data/README.md`.

`"DOLIPRANE 1000MG CPR"`, `"amlodipine 5 mg gél"`, `"Metformine 850mg x3/j"` all resolve: the
label is normalised, then scanned for the longest alias; a misspelt brand or INN is corrected to
the closest alias when nothing matches as typed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from functools import lru_cache

import pyarrow as pa

from p4dp.terminology import data_path
from p4dp.terminology._labels import AliasScanner, LabelMatcher
from p4dp.terminology._text import normalise

# A misspelt drug name is corrected at this rapidfuzz ratio (0–100) or more: one wrong letter in
# an 8-letter name ("levotyrox" → "levothyrox") passes; two different short names do not.
FUZZY_MIN_RATIO = 88
# Form, route, unit and posology words that appear around drug names (never corrected to a drug).
NOISE_WORDS = frozenset("""
    mg g ug mcg ml ui u cp cpr comp comprime comprimes gel gelule gelules sachet sachets sol
    solution buv buvable inj injectable amp ampoule ampoules sirop susp suspension pdre poudre
    lp sr lm retard orodispersible oro effervescent secable pellicule enrobe gastro resistant
    creme pommade collyre flacon stylo seringue boite bte fois par jour jours matin midi soir
    semaine mois cuillere dose doses bouffee bouffees pulverisation inhalation nasal nasale
    si besoin douleur fievre renouv renouvellement qsp traitement unite unites arrow biogaran
    mylan teva sandoz zentiva eg viatris cristers almus ratiopharm zydus accord sun bgr
""".split())
_ATC5 = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")
_ATC4_WITHOUT_LEVEL5 = frozenset({"A12AX", "B03AC"})  # WHO ATC groups with no level-5 codes

_SCHEMA = pa.schema([("substance", pa.string()), ("atc", pa.string()), ("matched", pa.bool_())])


@lru_cache(maxsize=1)
def substances() -> pa.Table:
    """The substance table: substance, atc, aliases (list of normalised aliases)."""
    path = data_path("drugs_fr.csv")
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            if not (_ATC5.match(r["atc"]) or r["atc"] in _ATC4_WITHOUT_LEVEL5):
                raise ValueError(f"{path}:{line}: ATC code {r['atc']!r} of {r['substance']!r} "
                                 "is not a level-5 code (letter, 2 digits, 2 letters, 2 digits)")
            aliases = [normalise(r["substance"])] + [normalise(a) for a in r["aliases"].split("|")
                                                      if a.strip()]
            rows.append({"substance": r["substance"], "atc": r["atc"],
                         "aliases": list(dict.fromkeys(aliases))})
    return pa.Table.from_pylist(rows)


@lru_cache(maxsize=1)
def _scanner() -> AliasScanner:
    path = data_path("drugs_fr.csv")
    aliases: dict[str, tuple[str, str]] = {}
    for r in substances().to_pylist():
        for a in r["aliases"]:
            other = aliases.get(a)
            if other and other[0] != r["substance"]:
                raise ValueError(f"{path}: alias {a!r} names both {other[0]!r} and "
                                 f"{r['substance']!r}; keep it on one substance only")
            aliases[a] = (r["substance"], r["atc"])
    return AliasScanner(aliases, min_ratio=FUZZY_MIN_RATIO, noise=NOISE_WORDS)


def _match_one(label: str) -> tuple[str | None, str | None, bool]:
    # Doses glued to words ("1000mg", "x3") are split off so that they cannot hide a name.
    words = [w for w in normalise(label).split() if not w[:1].isdigit()]
    found = _scanner().scan(words)
    if not found:
        return None, None, False
    substance, atc = found[0][0]
    return substance, atc, True


_MATCHER = LabelMatcher(_match_one, _SCHEMA, (None, None, False))


def normalise_labels(labels: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.Table:
    """One row per input label: label, substance (French INN), atc, matched.

    The first drug named in the label wins (a fixed combination is one alias: "DAFALGAN CODEINE").
    Distinct labels are matched once and remembered.
    """
    return _MATCHER.table(labels)
