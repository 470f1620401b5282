"""Text normalisation shared by the terminology matchers.

One rule everywhere, so that a label normalised for a lookup table and a label typed by a GP meet:
lower case, accents removed, ligatures expanded, every run of non-alphanumeric characters turned
into one space. The vectorised form works on Arrow arrays (used over unique labels); the scalar
form is used to build the lookup tables and for the code picker.
"""

from __future__ import annotations

import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

# French ligatures are not decomposed by NFKD (œ, æ are letters of their own in Unicode).
_LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """`"Œdème  des M.I."` → `"oedeme des m i"`."""
    for lig, rep in _LIGATURES.items():
        text = text.replace(lig, rep)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def normalise_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorised `normalise` over a string array (nulls stay null)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    arr = pc.cast(arr, pa.large_string()) if arr.type != pa.large_string() else arr
    for lig, rep in _LIGATURES.items():
        arr = pc.replace_substring(arr, lig, rep)
    arr = pc.utf8_normalize(arr, form="NFKD")
    arr = pc.replace_substring_regex(arr, r"\p{Mn}+", "")
    arr = pc.utf8_lower(arr)
    arr = pc.replace_substring_regex(arr, r"[^a-z0-9]+", " ")
    return pc.cast(pc.utf8_trim_whitespace(arr), pa.string())


def as_label_array(labels) -> pa.Array:
    """A Python sequence, Arrow array or chunked array of labels → an Arrow string array."""
    if isinstance(labels, pa.ChunkedArray):
        labels = labels.combine_chunks()
    if not isinstance(labels, pa.Array):
        values = list(labels)
        try:
            labels = pa.array(values, type=pa.string())
        except UnicodeEncodeError:
            # Lone surrogates (bytes decoded with errors="surrogateescape") cannot be UTF-8:
            # replace them rather than fail on one bad label.
            labels = pa.array([v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str)
                               else v for v in values], type=pa.string())
    if not (pa.types.is_string(labels.type) or pa.types.is_large_string(labels.type)
            or pa.types.is_null(labels.type)):
        raise TypeError(f"labels must be strings, got Arrow type {labels.type}")
    return pc.cast(labels, pa.string())
