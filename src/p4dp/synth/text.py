"""Free French GP text from the phrase bank: variants with typos, case and accent noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import unicodedata

from p4dp.synth._data import phrase_bank

#: How often each form of a phrase is typed: as written in the bank, in lower case, without
#: accents, with one typo, capitalised. GP free text is mostly typed correctly; typos are a
#: minority but real (PRIMEGE's coder had to cope with them).
VARIANT_WEIGHTS = {"as_is": 6, "lower": 2, "no_accents": 2, "typo": 1, "upper": 1}
#: Clauses appended to some reason/result texts that must not change their code: negations and
#: family context (what edsnlp's negation and family pipes are for).
NEGATIONS = ("pas de fièvre", "apyrétique", "pas de dyspnée", "pas de signe de gravité",
             "pas de DT", "sans fièvre", "pas de vomissement", "pas d'otalgie", "afébrile",
             "pas de douleur thoracique", "pas de sang dans les selles")
FAMILY_CONTEXT = ("ATCD familial de diabète", "père HTA", "mère décédée d'un AVC",
                  "ATCD familial de cancer du sein", "frère asthmatique", "ATCD fam de dépression")
NEGATION_SHARE = 0.08
FAMILY_CONTEXT_SHARE = 0.02
#: Texts no code should be given for (vu, RAS, cf courrier…): ground truth `_`.
UNCODABLE_SHARE = 0.03
UNCODABLE = "_"


def _strip(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def _typo(s: str, rng: np.random.Generator) -> str:
    words = s.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not long:
        return s
    i = long[int(rng.integers(len(long)))]
    w = words[i]
    j = int(rng.integers(1, len(w) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif kind == 1:
        w = w[:j] + w[j + 1:]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


@dataclass
class Pool:
    """All typed variants of every code's phrases, in one Arrow array with per-code ranges."""

    codes: list[str]
    index: dict[str, int]
    strings: pa.Array
    start: np.ndarray
    count: np.ndarray

    def sample(self, code_idx: np.ndarray, rng: np.random.Generator) -> pa.Array:
        offset = (rng.random(len(code_idx)) * self.count[code_idx]).astype(np.int64)
        k = self.start[code_idx] + offset
        return self.strings.take(pa.array(k))


def build_pool(seed: int) -> Pool:
    rng = np.random.default_rng([seed, 7001])
    bank = phrase_bank()
    codes = sorted(bank)
    strings: list[str] = []
    start = np.zeros(len(codes), dtype=np.int64)
    count = np.zeros(len(codes), dtype=np.int64)
    for i, code in enumerate(codes):
        start[i] = len(strings)
        for p in bank[code]:
            forms = {
                "as_is": p,
                "lower": p.lower(),
                "no_accents": _strip(p),
                "typo": _typo(p, rng),
                "upper": p[:1].upper() + p[1:],
            }
            for name, w in VARIANT_WEIGHTS.items():
                strings.extend([forms[name]] * w)
        count[i] = len(strings) - start[i]
    return Pool(codes, {c: i for i, c in enumerate(codes)}, pa.array(strings, pa.string()),
                start, count)
