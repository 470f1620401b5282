"""French word knowledge from simplemma's dictionary (≈ 250,000 inflected forms, offline).

Two uses: a word that is ordinary French ("palpite", "lâche", "licencié") is never "corrected"
into a lexicon word it merely resembles ("pulpite", "tache", "licence"); and an inflected verb
reaches the noun the lexicon uses through its lemma ("palpite" -> "palpiter" -> "palpitation",
see ``data/word_forms.tsv``).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in word if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def lemmas() -> dict[str, str]:
    """Folded French word form -> folded lemma (empty when simplemma is unavailable).

    Folding 250,000 forms takes ~4 s; the result is cached next to the coder's model."""
    import pickle

    try:
        import simplemma
    except ImportError:  # pragma: no cover - simplemma is a declared dependency
        return {}
    from p4dp.coding.model import _cache_dir

    path = _cache_dir() / f"lemmas-fr-{getattr(simplemma, '__version__', 'x')}.pickle"
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError):
        pass
    table = _build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(table, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass  # read-only home: rebuilt once per process
    return table


def _build() -> dict[str, str]:
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    table = DefaultDictionaryFactory().get_dictionary("fr")
    out: dict[str, str] = {}
    for form, lemma in table.items():
        if form[:1].isalpha():
            lemma_s = lemma.decode("utf-8") if isinstance(lemma, bytes) else str(lemma)
            form_s = form.decode("utf-8") if isinstance(form, bytes) else str(form)
            out.setdefault(_fold(form_s), _fold(lemma_s))
    return out


def is_french(word: str) -> bool:
    """``word`` (folded) is a known French word form."""
    return word in lemmas()


def lemma(word: str) -> str | None:
    return lemmas().get(word)
