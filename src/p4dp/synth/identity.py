"""Direct identifiers written into free text, as GPs do ("rappeler au 06 …", "vu avec sa fille
Marie Dupont"), so that the practice-side scrubber has real work to do. Every injected token is
recorded in the ground truth (``identity_tokens``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.synth import _columns as C
from p4dp.synth.population import Patients

#: Shares of free-text fields that mention an identifier (PRIMEGE scrubbed names and phone numbers
#: in a minority of texts; tuned so every kind appears even in the tiny network).
IDENTITY_IN_PROBLEM_SHARE = 0.004
IDENTITY_IN_ANTECEDENT_SHARE = 0.03
TOKEN_KINDS = ("last_name", "first_name", "relative_name", "phone", "nir", "email", "birth_date")
TOKEN_KIND_P = (0.22, 0.12, 0.22, 0.22, 0.06, 0.06, 0.10)
TEMPLATES = {
    "last_name": ("vu avec Mme {}", "M. {} absent au RDV", "courrier pour {}"),
    "first_name": ("{} dit aller mieux", "appeler {} demain"),
    "relative_name": ("accompagné(e) de {}", "appel de {}", "vu avec {} (famille)"),
    "phone": ("rappeler au {}", "tel {}", "joignable au {}"),
    "nir": ("NIR {}", "n° SS {}"),
    "email": ("résultats à envoyer à {}", "mail : {}"),
    "birth_date": ("né(e) le {}", "DDN {}"),
}


def tokens_for(pat: Patients, patient: np.ndarray, kind: str) -> pa.Array:
    idx = pa.array(patient)
    if kind == "last_name":
        return pat.last_name.take(idx)
    if kind == "first_name":
        return pat.first_name.take(idx)
    if kind == "relative_name":
        return C.where(pc.is_null(pat.relatives.take(idx)).to_numpy(zero_copy_only=False),
                       pa.nulls(len(patient), pa.string()), pat.relative_first.take(idx))
    if kind == "phone":
        return pat.phone.take(idx)
    if kind == "nir":
        return pat.nir.take(idx)
    if kind == "email":
        return pat.email.take(idx)
    if kind == "birth_date":
        return pc.strftime(C.to_date32(pat.birth[patient]), format="%d/%m/%Y")
    raise ValueError(kind)


def inject(text: pa.Array, patient: np.ndarray, pat: Patients, share: float,
           rng: np.random.Generator) -> tuple[pa.Array, dict[str, np.ndarray]]:
    """Append identifier mentions to a share of non-null texts; return the new texts and the
    injected tokens (row index, token, kind)."""
    n = len(text)
    candidate = np.flatnonzero(pc.is_valid(text).to_numpy(zero_copy_only=False)
                               & (rng.random(n) < share))
    kinds = np.array(TOKEN_KINDS)[C.choice_index(rng, np.array(TOKEN_KIND_P), len(candidate))]
    rows, toks, kinds_out, new_txt = [], [], [], []
    for kind in TOKEN_KINDS:
        sel = candidate[kinds == kind]
        if not len(sel):
            continue
        tok = tokens_for(pat, patient[sel], kind)
        ok = pc.is_valid(tok).to_numpy(zero_copy_only=False)
        sel, tok = sel[ok], tok.filter(pa.array(ok))
        tmpl = TEMPLATES[kind]
        ti = rng.integers(len(tmpl), size=len(sel))
        pre = C.take([t.split("{}")[0] for t in tmpl], ti)
        post = C.take([t.split("{}")[1] for t in tmpl], ti)
        seps = C.take([", ", " - ", ". "], rng.integers(3, size=len(sel)))
        new = C.join(text.take(pa.array(sel)), seps, pre, tok, post)
        rows.append(sel)
        toks.append(tok)
        kinds_out.append(np.full(len(sel), kind, dtype=object))
        new_txt.append(new)
    if not rows:
        return text, {"row": np.zeros(0, np.int64), "token": pa.array([], pa.string()),
                      "kind": np.zeros(0, dtype=object)}
    row = np.concatenate(rows)
    replaced = pa.concat_arrays(new_txt)
    # Scatter the new texts back in place.
    pos = np.full(n, -1, dtype=np.int64)
    pos[row] = np.arange(len(row))
    src = np.where(pos >= 0, n + pos, np.arange(n))
    out = pa.concat_arrays([text, replaced]).take(pa.array(src))
    return out, {"row": row, "token": pa.concat_arrays(toks), "kind": np.concatenate(kinds_out)}
