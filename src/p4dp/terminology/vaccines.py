"""Vaccines: free-text vaccination labels → product and valences (French notation).

Data (sources in `data/README.md`):

* `vaccines_fr.csv` — French vaccine products (brand names) with their valences, label aliases
  and kind (`vaccin`, or `anticorps monoclonal` for nirsevimab / palivizumab, which GPs record
  with vaccinations but which are not vaccines);
* `vaccine_shorthand_fr.csv` — GP shorthand (`DTP`, `ROR`, `hep b`, `méningo C`, `pneumo` …) →
  valences, with no product.

Valence notation is the French one: `D` full-dose diphtheria, `d` reduced; `Ca` acellular pertussis,
`ca` reduced; `T` tetanus; `P` inactivated polio; `Hib`; `HepB`; `HepA`; `ROR` (measles, mumps,
rubella); `grippe`; `COVID-19`; `HPV`; `pneumocoque`; `méningocoque C` / `ACWY` / `B`; `zona`;
`varicelle`; `rotavirus`; `BCG`; `fièvre jaune`; `typhoïde`; `encéphalite japonaise`;
`encéphalite à tiques`; `VRS`; `rage`; `choléra`; `dengue`; `mpox`.

Case carries meaning in the notation: `DTCaP` (full dose) ≠ `dTcaP` (booster). A label written in
mixed case is read as written; an all-caps or all-lower `DTP` / `DTCP` is read as the adult booster
(`d T P` / `d T ca P`), which is what it means in GP records of adults (DOMAIN.md §3).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from functools import lru_cache

import pyarrow as pa
from rapidfuzz import fuzz, process

from p4dp.terminology import data_path
from p4dp.terminology._labels import LabelMatcher
from p4dp.terminology._text import normalise

# Output order of valences (diphtheria-tetanus-pertussis-polio first, as written in French).
VALENCES = ("D", "d", "T", "Ca", "ca", "P", "Hib", "HepB", "HepA", "ROR", "varicelle", "grippe",
            "COVID-19", "HPV", "pneumocoque", "méningocoque C", "méningocoque ACWY",
            "méningocoque B", "zona", "rotavirus", "BCG", "fièvre jaune", "typhoïde",
            "encéphalite japonaise", "encéphalite à tiques", "VRS", "rage", "choléra", "dengue",
            "mpox")
_ORDER = {v: i for i, v in enumerate(VALENCES)}
KIND_VACCINE = "vaccin"

# Brand typos: a label word is corrected to a product alias at this rapidfuzz ratio (0–100) or
# more — one wrong, missing or extra letter in a 7-letter brand ("revaxsis", "priorics").
FUZZY_MIN_RATIO = 85
_FUZZY_MIN_LENGTH = 5
# Words of vaccination labels that name no valence (never corrected towards a brand).
_NOISE = frozenset("vaccin vaccination vaccine rappel injection inj dose doses ans an mois fait "
                   "faite faits et a le la les de du des en avec ml seringue pre remplie "
                   "adulte enfant nourrisson booster primo".split())

# Mixed-case French notation (`dTcaP`, `DTCaP-Hib`, `dTP`): read exactly as written.
_NOTATION = re.compile(r"^(?P<d>[Dd])T(?:(?P<c1>[Cc]a)(?P<p1>P)?|(?P<p2>P)(?P<c2>[Cc]a)?)?$")

_SCHEMA = pa.schema([("product", pa.string()), ("valences", pa.list_(pa.string())),
                     ("matched", pa.bool_())])


def _split(cell: str, path, line: int) -> tuple[str, ...]:
    vals = tuple(v.strip() for v in cell.split("|") if v.strip())
    bad = [v for v in vals if v not in _ORDER]
    if bad:
        raise ValueError(f"{path}:{line}: unknown valence {bad[0]!r}; "
                         f"use one of {', '.join(VALENCES)}")
    return vals


@lru_cache(maxsize=1)
def products() -> pa.Table:
    """The product table: product, kind, valences (list), aliases (list), note."""
    path = data_path("vaccines_fr.csv")
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            rows.append({"product": r["product"], "kind": r["kind"],
                         "valences": list(_split(r["valences"], path, line)),
                         "aliases": [normalise(a) for a in r["aliases"].split("|") if a.strip()],
                         "note": r["note"]})
    return pa.Table.from_pylist(rows)


def is_vaccine(product: str) -> bool:
    """False for products recorded with vaccines that are not vaccines (nirsevimab …)."""
    kinds = dict(zip(products()["product"].to_pylist(), products()["kind"].to_pylist()))
    try:
        return kinds[product] == KIND_VACCINE
    except KeyError:
        raise KeyError(f"unknown vaccine product {product!r}; see vaccines_fr.csv") from None


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, tuple[str | None, tuple[str, ...]]], int, dict[str, str]]:
    """Compact key (spaces removed) → (product or None, valences); longest key in words;
    one-word brand keys for typo correction."""
    lex: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    max_words = 1
    path = data_path("vaccine_shorthand_fr.csv")
    with path.open(encoding="utf-8", newline="") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            term = normalise(r["term"])
            lex[term.replace(" ", "")] = (None, _split(r["valences"], path, line))
            max_words = max(max_words, len(term.split()))
    fuzzy: dict[str, str] = {}
    for r in products().to_pylist():
        for alias in r["aliases"]:
            key = alias.replace(" ", "")
            lex[key] = (r["product"], tuple(r["valences"]))
            max_words = max(max_words, len(alias.split()))
            if len(key) >= _FUZZY_MIN_LENGTH and key.isalpha():
                fuzzy[key] = key
    return lex, max_words, fuzzy


@lru_cache(maxsize=1)
def _product_valences() -> dict[str, list[str]]:
    return dict(zip(products()["product"].to_pylist(), products()["valences"].to_pylist()))


def _sorted(valences) -> list[str]:
    return sorted(set(valences), key=_ORDER.__getitem__)


def _match_one(label: str) -> tuple[str | None, list[str], bool]:
    lex, max_words, fuzzy = _lexicon()
    products_found: list[str] = []
    shorthand_valences: set[str] = set()  # valences named without a product
    valences: list[str] = []

    # Mixed-case notation first, on the raw words (case is lost by `normalise`).
    raw_words = re.split(r"[^0-9A-Za-z]+", label)
    for w in raw_words:
        m = _NOTATION.match(w)
        if m and not (w.isupper() or w.islower()):
            pertussis = m["c1"] or m["c2"]
            valences += [m["d"], "T"] + ([pertussis] if pertussis else []) + (
                ["P"] if m["p1"] or m["p2"] else [])
            shorthand_valences.update(valences)

    words = normalise(label).split()
    i = 0
    while i < len(words):
        for n in range(min(max_words, len(words) - i), 0, -1):
            key = "".join(words[i:i + n])
            if key in lex:
                product, vals = lex[key]
                already = any(_NOTATION.match(w) and not (w.isupper() or w.islower())
                              and w.lower() == key for w in raw_words)
                if not already:
                    valences += vals
                if product:
                    products_found.append(product)
                else:
                    shorthand_valences.update(vals)
                i += n
                break
        else:
            w = words[i]
            if len(w) >= _FUZZY_MIN_LENGTH and w.isalpha() and w not in _NOISE:
                best = process.extractOne(w, fuzzy, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_RATIO)
                if best:
                    product, vals = lex[best[0]]
                    valences += vals
                    products_found.append(product)
            i += 1

    # A product is named only when the label names exactly one and nothing beyond it: "covid
    # pfizer" and "Repevax (dTcaP)" keep their product, "3 covid et dtp à 25 ans" has none.
    distinct = list(dict.fromkeys(products_found))
    product = None
    if len(distinct) == 1 and shorthand_valences <= set(_product_valences()[distinct[0]]):
        product = distinct[0]
    return product, _sorted(valences), bool(valences)


_MATCHER = LabelMatcher(_match_one, _SCHEMA, (None, [], False))


def normalise_labels(labels: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.Table:
    """One row per input label: label, product (None unless exactly one product is named),
    valences (list, French notation, in `VALENCES` order), matched (at least one valence found).

    `"REVAXIS"` → REVAXIS, [d, T, P]; `"3 covid et dtp à 25 ans"` → None, [d, T, P, COVID-19].
    Distinct labels are matched once and remembered.
    """
    return _MATCHER.table(labels)
