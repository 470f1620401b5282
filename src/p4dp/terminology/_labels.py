"""Shared machinery of the label normalisers: unique labels in, one result per label out.

GP exports repeat the same few hundred labels millions of times. Each normaliser therefore
matches every *distinct* label once (memoised across calls) and broadcasts the answers back with
an Arrow `take`, so the cost follows the vocabulary, not the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
from rapidfuzz import fuzz, process
import pyarrow.compute as pc

from p4dp.terminology._text import as_label_array

# Distinct labels remembered per normaliser; beyond this the memo is cleared (a stream of
# unrelated labels must not grow memory without bound).
MEMO_LIMIT = 200_000


class LabelMatcher:
    """Memoised `label -> tuple of column values` applied over unique labels of an Arrow array."""

    def __init__(self, match_one: Callable[[str], tuple], schema: pa.Schema, empty: tuple):
        self._match_one = match_one
        self._schema = schema  # columns after `label`
        self._empty = empty  # result for a null label
        self._memo: dict[str, tuple] = {}

    def match(self, label: str | None) -> tuple:
        if label is None:
            return self._empty
        hit = self._memo.get(label)
        if hit is None:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            hit = self._memo[label] = self._match_one(label)
        return hit

    def table(self, labels: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.Table:
        arr = as_label_array(labels)
        encoded = pc.dictionary_encode(arr)
        uniques = encoded.dictionary.to_pylist()
        results = [self.match(u) for u in uniques]
        results.append(self._empty)  # row for null labels
        indices = encoded.indices.fill_null(len(uniques))
        columns: dict[str, Any] = {"label": arr}
        for k, field in enumerate(self._schema):
            values = pa.array([r[k] for r in results], type=field.type)
            columns[field.name] = values.take(indices)
        return pa.table(columns, schema=pa.schema([pa.field("label", pa.string()), *self._schema]))




class AliasScanner:
    """Greedy longest-match scan of normalised words against aliases, with a typo fallback.

    Aliases are compared without spaces (`"hb a1c"` = `"hba1c"`, `"l thyroxine"` = `"lthyroxine"`),
    the longest run of words first. A word that starts no alias may be corrected to the closest
    one-word alias (rapidfuzz ratio ≥ `min_ratio`) unless it is a known noise word (forms, units).
    """

    def __init__(self, aliases: dict[str, Any], *, min_ratio: float, min_fuzzy_length: int = 5,
                 noise: frozenset[str] = frozenset()):
        self.keys = {a.replace(" ", ""): v for a, v in aliases.items()}
        self.max_words = max((len(a.split()) for a in aliases), default=1)
        self.fuzzy = [k for k in self.keys if len(k) >= min_fuzzy_length and k.isalpha()]
        self.min_ratio = min_ratio
        self.min_fuzzy_length = min_fuzzy_length
        self.noise = noise

    def scan(self, words: list[str], *, fuzzy: bool = True) -> list[tuple[Any, str]]:
        """(value, how) for every alias found, in label order; how = the alias or `≈alias`."""
        found: list[tuple[Any, str]] = []
        unmatched: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_words, len(words) - i), 0, -1):
                key = "".join(words[i:i + n])
                if key in self.keys:
                    found.append((self.keys[key], key))
                    i += n
                    break
            else:
                unmatched.append(words[i])
                i += 1
        if not found and fuzzy:
            found = self.correct(unmatched)
        return found

    def correct(self, words: list[str]) -> list[tuple[Any, str]]:
        out = []
        for w in words:
            if len(w) < self.min_fuzzy_length or not w.isalpha() or w in self.noise:
                continue
            best = process.extractOne(w, self.fuzzy, scorer=fuzz.ratio, score_cutoff=self.min_ratio)
            if best:
                out.append((self.keys[best[0]], "≈" + best[0]))
        return out
