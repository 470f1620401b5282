"""Keyed pseudonyms (HMAC-SHA256) computed over columns, and the NIR linkage hash.

A pseudonym is ``f"{source_id}_{hex}"`` where ``hex`` is HMAC-SHA256(practice key,
``f"{kind}:{local_id}"``) truncated to :data:`PSEUDONYM_HEX_CHARS` characters. The kind
(``patient``, ``practitioner``, or a table name for other row ids) keeps a patient ``12`` and an
encounter ``12`` apart. Hashing runs over the distinct values of a column only (dictionary
encoding), then the result is taken back to the rows, so a column of millions of rows costs one
HMAC per distinct id.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes, hmac

#: 20 hex characters = 80 bits. For n ids of one kind in one source the probability of any
#: collision is about n² / 2^81 (birthday bound): 4e-12 for n = 3.5 million, the size of the
#: largest French GP-record network (PRIMEGE order of magnitude). See docs/privacy.md.
PSEUDONYM_HEX_CHARS = 20

#: Length of a pseudonymisation or linkage key: 32 bytes = the output size of SHA-256, the key
#: length RFC 2104 §3 recommends for HMAC (a longer key adds nothing, a shorter one weakens it).
KEY_BYTES = 32

#: Which kind each id column is pseudonymised as. Foreign keys take the kind of the row they
#: point to so that relations survive (problem.encounter_id = encounter.encounter_id).
ID_COLUMN_KINDS: dict[str, str] = {
    "patient_id": "patient",
    "practitioner_id": "practitioner",
    "supervisor_id": "practitioner",
    "gp_id": "practitioner",
    "encounter_id": "encounter",
    "problem_id": "problem",
    "biometric_id": "biometric",
    "lab_result_id": "lab_result",
    "antecedent_id": "antecedent",
    "history_id": "history",
    "vaccination_id": "vaccination",
    "prescription_id": "prescription",
    "quarantine_id": "quarantine",
}

#: Id columns that are not personal data and keep their value: the network's own codes.
KEPT_ID_COLUMNS = frozenset({"source_id", "practice_id", "batch_id"})


class _Hasher:
    """HMAC-SHA256 with one key; the keyed state is prepared once and copied per message."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"clé de {len(key)} octets : {KEY_BYTES} attendus")
        self._base = hmac.HMAC(key, hashes.SHA256())

    def copy(self) -> hmac.HMAC:
        return self._base.copy()


def _as_string_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    if not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    return values


def hash_unique(
    values: pa.Array | pa.ChunkedArray, key: bytes, prefix: str, n_hex: int
) -> pa.Array:
    """HMAC-SHA256(key, prefix + value) in hex, truncated to ``n_hex``; one HMAC per distinct value.

    Nulls stay null. Returns a string array aligned with ``values``.
    """
    values = _as_string_array(values)
    encoded = pc.dictionary_encode(values)
    new = _Hasher(key).copy  # the keyed state is prepared once; this loop is the hot path
    macs = []
    for v in encoded.dictionary.to_pylist():
        h = new()
        h.update((prefix + v).encode("utf-8"))
        macs.append(h.finalize())
    digests = [m.hex()[:n_hex] for m in macs]
    return pc.take(pa.array(digests, pa.string()), encoded.indices)


def pseudonymise(
    values: pa.Array | pa.ChunkedArray, key: bytes, source_id: str, kind: str
) -> pa.Array:
    """Local ids → ``f"{source_id}_{hex}"`` pseudonyms of the given kind (nulls stay null)."""
    digests = hash_unique(values, key, f"{kind}:", PSEUDONYM_HEX_CHARS)
    return pc.binary_join_element_wise(pa.scalar(f"{source_id}_"), digests, "")


def pseudonym_of(local_id: str, key: bytes, source_id: str, kind: str) -> str:
    """One pseudonym, e.g. to tell a GP the pseudonym of a patient who objects."""
    return pseudonymise(pa.array([local_id]), key, source_id, kind)[0].as_py()


def pseudonymise_keyed(
    values: pa.Array | pa.ChunkedArray, kinds: pa.Array | pa.ChunkedArray, key: bytes,
    source_id: str,
) -> pa.Array:
    """Like :func:`pseudonymise`, with a kind per row (e.g. quarantine ``row_key`` by table).

    Null where the value or its kind is null.
    """
    messages = pc.binary_join_element_wise(_as_string_array(kinds), _as_string_array(values), ":")
    digests = hash_unique(messages, key, "", PSEUDONYM_HEX_CHARS)
    return pc.binary_join_element_wise(pa.scalar(f"{source_id}_"), digests, "")


# --- NIR linkage hash ------------------------------------------------------------------------

#: NIR (numéro d'inscription au répertoire): sex (1, 2, or 3/7/8 for provisional numbers), year
#: (2), month (2; 20–42 and 50–99 occur for unknown months), département (2 digits or 2A/2B),
#: commune (3), order (3), then an optional 2-digit key = 97 − (number mod 97), with 2A → 19 and
#: 2B → 18 for the computation. Source: INSEE, « Le numéro d'inscription au répertoire » and
#: décret n° 82-103 du 22 janvier 1982.
NIR_RE = re.compile(r"^([1-478])(\d{2})(\d{2})(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})?$")
NIR_KEY_MODULUS = 97
_CORSICA = {"2A": "19", "2B": "18"}


def normalise_nir(raw: str | None) -> str | None:
    """The 13 significant characters of a NIR, or None when it is malformed or its key is wrong.

    Spaces, dots and dashes are ignored. The key is checked when present and then dropped, so an
    export that writes the key and one that does not give the same linkage hash.
    """
    if raw is None:
        return None
    s = re.sub(r"[\s.\-]", "", raw).upper()
    m = NIR_RE.match(s)
    if not m:
        return None
    body = s[:13]
    if m.group(7) is not None:
        numeric = body[:5] + _CORSICA.get(body[5:7], body[5:7]) + body[7:]
        if int(m.group(7)) != NIR_KEY_MODULUS - int(numeric) % NIR_KEY_MODULUS:
            return None
    return body


def nir_linkage_hash(
    nirs: pa.Array | pa.ChunkedArray, linkage_key: bytes, *, second_key: bytes | None = None
) -> pa.Array:
    """Full-length hex HMAC-SHA256 of the normalised NIR (null where the NIR is absent or invalid).

    ``second_key``: the SNDS hashes the NIR twice, the second time by a different organisation with
    its own secret, so that neither holder alone can go back to the NIR. Applying the *same* key
    twice would add nothing; pass the trusted third party's key here when it is available.
    """
    normalised = pa.array([normalise_nir(v) for v in _as_string_array(nirs).to_pylist()],
                          pa.string())
    first = hash_unique(normalised, linkage_key, "nir:", 64)
    if second_key is None:
        return first
    return hash_unique(first, second_key, "nir2:", 64)
