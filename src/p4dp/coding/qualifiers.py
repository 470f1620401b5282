"""Negation, hypothesis and family context of matched terms, by edsnlp's rule-based pipes.

Only texts that contain a cue word (``normalise.QUALIFIER_CUES``) come here: edsnlp costs about
0.2 ms a text, the plain stream must not pay it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: Test words after which "négatif"/"positif" qualifies the test, not the disease
#: ("angine TDR négatif" is an angina whose rapid strep test is negative).
_TEST_RESULT = re.compile(
    r"\b(test diagnostic rapide|tdr|test|bandelette urinaire|ecbu|pcr|serologie|streptotest|autotest"
    r"|antigenique|hemoccult|examen cytobacteriologique urines)( [a-z]+){0,2} (negatif|negative|neg|positif|positive|pos)\b"
)


@dataclass(frozen=True)
class Qualifier:
    negated: bool = False
    hypothesis: bool = False
    family: bool = False


NONE = Qualifier()


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    # DESIGN.md, known trap: spaCy must be imported (and any model loaded) before edsnlp.
    import spacy  # noqa: F401
    import edsnlp

    nlp = edsnlp.blank("eds")
    nlp.add_pipe("eds.normalizer")
    nlp.add_pipe("eds.sentences")
    nlp.add_pipe("eds.negation")
    nlp.add_pipe("eds.hypothesis")
    nlp.add_pipe("eds.family", config={"use_sections": False})
    return nlp


#: "non" before a word negates that word ("HTA non contrôlée", "diabète non insulinodépendant"),
#: not the problem named before it.
_NON_ADJECTIVE = re.compile(r"\bnon(?= [a-z])")


def _mask_test_results(text: str) -> str:
    """Blank the result word of a test so that edsnlp does not negate the disease beside it."""
    text = _TEST_RESULT.sub(lambda m: m.group(0)[: m.start(3) - m.start(0)] + " " * len(m.group(3)), text)
    return _NON_ADJECTIVE.sub("   ", text)


def qualify(text: str, spans: list[tuple[int, int]]) -> list[Qualifier]:
    """Qualify each character span of ``text`` (folded French, see ``normalise.Normalised.clean``)."""
    if not spans:
        return []
    nlp = _pipeline()
    text = _mask_test_results(text)
    doc = nlp.make_doc(text)
    ents = []
    keep: list[int] = []
    for i, (start, end) in enumerate(spans):
        span = doc.char_span(start, end, label="problem", alignment_mode="expand")
        if span is not None and not any(span.start < e.end and e.start < span.end for e in ents):
            ents.append(span)
            keep.append(i)
    for name, proc in nlp.pipeline:
        if name == "negation":
            doc.ents = ents
        doc = proc(doc)
    found = {(e.start, e.end): e for e in doc.ents}
    out = [NONE] * len(spans)
    for i, span in zip(keep, ents):
        ent = found.get((span.start, span.end))
        if ent is not None:
            out[i] = Qualifier(bool(ent._.negation), bool(ent._.hypothesis), bool(ent._.family))
    return out
