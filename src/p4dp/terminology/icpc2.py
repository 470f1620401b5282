"""ICPC-2 (French: CISP-2) — the 726 codes, their French titles and the code-picker search.

Data (see `data/README.md` for sources and licence):

* `icpc2e_en_uk_icd10.json` — the WONCA ICPC-2e list: English titles, inclusion / exclusion /
  criteria notes, ICPC-2 → ICD-10 map (686 rubrics + 40 generic process codes `-30`…`-69`);
* `cisp2_fr.csv` — French titles written by the project (no public French file exists);
* `icpc2_chapters.csv` — the 17 chapters, French and English names;
* `synonyms_fr.csv` — GP words and abbreviations → codes, for the picker and the free-text coder.

Process codes (components 2–6, numbers 30–69) are shared by all chapters: the classification
stores them once as `-31`, records carry them with the chapter letter of the problem (`K31`
cardiovascular partial examination, `A62` administrative contact). `load()` therefore has one
row per *concrete* code — 686 rubrics + 40 × 17 chapter-prefixed process codes — and
`load_classification()` the 726 entries as published.
"""

from __future__ import annotations

import bisect
import csv
import json
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
from rapidfuzz import fuzz, process

from p4dp.terminology import data_path
from p4dp.terminology._text import normalise

NO_CODE = "_"
NO_CODE_TITLE_FR = "Pas de code attribué"  # as the seed shows it ("_ - Pas de code attribué")

# ICPC-2 chapters in the published order (WONCA ICPC-2, 1998; DOMAIN.md §2).
CHAPTERS = "ABDFHKLNPRSTUWXYZ"
# Process codes 30–69 are written with any chapter letter (ICPC-2 components 2–6).
PROCESS_FIRST, PROCESS_LAST = 30, 69

# Component of a code from its number: the rule stated with the source file (data/README.md,
# ICPC-2 component structure): (first number, last number, component).
_COMPONENT_RANGES = ((1, 29, 1), (30, 49, 2), (50, 59, 3), (60, 61, 4), (62, 62, 5), (63, 69, 6),
                     (70, 99, 7))
COMPONENT_TITLES_FR = {
    1: "Symptômes et plaintes",
    2: "Procédures diagnostiques et préventives",
    3: "Médication, traitements, procédures thérapeutiques",
    4: "Résultats",
    5: "Administratif",
    6: "Orientation et autres motifs de rencontre",
    7: "Diagnostics, maladies",
}

_CODE_RE = re.compile(r"^[A-Z][0-9]{2}$")


def component_of(number: int) -> int:
    """Component (1–7) of a code number 1–99."""
    for first, last, comp in _COMPONENT_RANGES:
        if first <= number <= last:
            return comp
    raise ValueError(f"ICPC-2 code number {number} is outside 1–99")


def is_process_number(number: int) -> bool:
    return PROCESS_FIRST <= number <= PROCESS_LAST


# --------------------------------------------------------------------------- loading


@lru_cache(maxsize=1)
def _chapters() -> dict[str, tuple[str, str]]:
    with data_path("icpc2_chapters.csv").open(encoding="utf-8", newline="") as f:
        rows = {r["chapter"]: (r["title_fr"], r["title_en"]) for r in csv.DictReader(f)}
    if "".join(rows) != CHAPTERS:
        raise ValueError(f"icpc2_chapters.csv must list the 17 chapters {CHAPTERS}, "
                         f"got {''.join(rows)}")
    return rows


@lru_cache(maxsize=1)
def _french_titles() -> dict[str, str]:
    path = data_path("cisp2_fr.csv")
    titles: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            if not r["title_fr"].strip():
                raise ValueError(f"{path}:{line}: code {r['code']!r} has an empty title_fr; "
                                 "write one")
            titles[r["code"]] = r["title_fr"].strip()
    return titles


@lru_cache(maxsize=1)
def load_classification() -> pa.Table:
    """The 726 published entries (686 rubrics + generic process codes `-30`…`-69`)."""
    path = data_path("icpc2e_en_uk_icd10.json")
    entries = json.loads(path.read_text(encoding="utf-8"))
    fr = _french_titles()
    missing = [e["code"] for e in entries if e["code"] not in fr]
    if missing:
        raise ValueError(f"cisp2_fr.csv has no French title for {missing[:10]}: add them")
    extra = sorted(set(fr) - {e["code"] for e in entries})
    if extra:
        raise ValueError(f"cisp2_fr.csv has codes absent from ICPC-2e: {extra[:10]}; remove them")
    chapters = _chapters()
    cols: dict[str, list] = {k: [] for k in (
        "code", "title_fr", "title_en", "chapter", "chapter_title_fr", "component", "inclusion",
        "exclusion", "criteria", "icd10")}
    for e in entries:
        code = e["code"]
        generic = code.startswith("-")
        cols["code"].append(code)
        cols["title_fr"].append(fr[code])
        cols["title_en"].append(e["preferred"].strip())
        cols["chapter"].append(None if generic else code[0])
        cols["chapter_title_fr"].append(None if generic else chapters[code[0]][0])
        cols["component"].append(component_of(int(code[1:])))
        for k in ("inclusion", "exclusion", "criteria"):
            cols[k].append(e[k].strip() or None)
        cols["icd10"].append([c.strip() for c in e["icd10"].split(";") if c.strip()])
    return pa.table(cols, schema=_SCHEMA)


_SCHEMA = pa.schema([
    ("code", pa.string()), ("title_fr", pa.string()), ("title_en", pa.string()),
    ("chapter", pa.string()), ("chapter_title_fr", pa.string()), ("component", pa.int8()),
    ("inclusion", pa.string()), ("exclusion", pa.string()), ("criteria", pa.string()),
    ("icd10", pa.list_(pa.string())),
])


@lru_cache(maxsize=1)
def load() -> pa.Table:
    """One row per concrete code: 686 rubrics + 17 × 40 chapter-prefixed process codes (1,366).

    Columns: code, title_fr, title_en, chapter, chapter_title_fr, component, inclusion, exclusion,
    criteria, icd10 (list of ICD-10 codes; empty for process codes, which have no ICD-10 map).
    Sorted by chapter then number.
    """
    cls = load_classification().to_pylist()
    chapters = _chapters()
    rows = [r for r in cls if r["chapter"] is not None]
    for r in cls:
        if r["chapter"] is None:
            for ch in CHAPTERS:
                rows.append({**r, "code": ch + r["code"][1:], "chapter": ch,
                             "chapter_title_fr": chapters[ch][0]})
    rows.sort(key=lambda r: r["code"])
    return pa.Table.from_pylist(rows, schema=_SCHEMA)


@lru_cache(maxsize=1)
def _by_code() -> dict[str, dict]:
    return {r["code"]: r for r in load().to_pylist()}


# --------------------------------------------------------------------------- single-code API


def canonical(code: str) -> str | None:
    """Tidy a typed code (`" r 74 "`, `"r-74"`, `"K.31"`) to its canonical form, or None."""
    text = re.sub(r"[\s.\-]+", "", code or "").upper()
    if text == NO_CODE:
        return NO_CODE
    return text if text in _by_code() else None


def is_valid(code: str) -> bool:
    """True for a concrete ICPC-2 code in canonical form (`R74`, `K31`) or `_` (no code assigned).

    Generic process codes (`-31`) are not valid in records: a record always carries the chapter.
    """
    return isinstance(code, str) and (code == NO_CODE or code in _by_code())


def _row(code: str) -> dict:
    try:
        return _by_code()[code]
    except (KeyError, TypeError):
        hint = canonical(code) if isinstance(code, str) else None
        tip = (f" — did you mean {hint!r}?" if hint and hint != NO_CODE else
               " — an ICPC-2 code is a chapter letter and two digits, e.g. 'R74' or 'K31'")
        raise KeyError(f"unknown ICPC-2 code {code!r}{tip}") from None


def title_fr(code: str) -> str:
    """French (CISP-2) title. `_` gives "Pas de code attribué"; unknown codes raise KeyError."""
    if code == NO_CODE:
        return NO_CODE_TITLE_FR
    return _row(code)["title_fr"]


def title_fr_in_context(code: str) -> str:
    """French title with the chapter for process codes, which share one title across chapters:
    `K31` → "Examen médical partiel (Circulation, système cardiovasculaire)"; `R74` → its title."""
    if code == NO_CODE or not is_process(code):
        return title_fr(code)
    row = _row(code)
    return f"{row['title_fr']} ({row['chapter_title_fr']})"


def title_en(code: str) -> str:
    return _row(code)["title_en"]


def chapter(code: str) -> str:
    """Chapter letter of a code (`K31` → `K`); `_` is its own bucket for per-chapter counts."""
    if code == NO_CODE:
        return NO_CODE
    return _row(code)["chapter"]


def chapter_title_fr(letter: str) -> str:
    try:
        return _chapters()[letter][0]
    except KeyError:
        raise KeyError(f"unknown ICPC-2 chapter {letter!r}; "
                       f"chapters are {', '.join(CHAPTERS)}") from None


def component(code: str) -> int:
    return _row(code)["component"]


def icd10(code: str) -> list[str]:
    return list(_row(code)["icd10"])


def is_process(code: str) -> bool:
    """True for a chapter-prefixed process code (`A62`, `K31`)."""
    return is_valid(code) and code != NO_CODE and is_process_number(int(code[1:]))


def generic_process(code: str) -> str | None:
    """`K31` → `-31` (the classification entry behind a process code); None for rubrics."""
    return "-" + code[1:] if is_process(code) else None


def expand_process(generic: str) -> list[str]:
    """`-31` (or `31`) → `["A31", "B31", …, "Z31"]`, one per chapter."""
    text = generic.strip().lstrip("-")
    if not text.isdigit() or not is_process_number(int(text)):
        raise ValueError(f"{generic!r} is not an ICPC-2 process code "
                         f"(-{PROCESS_FIRST} … -{PROCESS_LAST})")
    return [f"{ch}{int(text):02d}" for ch in CHAPTERS]


# --------------------------------------------------------------------------- synonyms


@lru_cache(maxsize=1)
def synonyms() -> pa.Table:
    """French GP synonyms and abbreviations → code (`rhume` → R74, `HTA` → K86).

    Several rows for one term list its codes in order of preference."""
    path = data_path("synonyms_fr.csv")
    terms, codes = [], []
    with path.open(encoding="utf-8", newline="") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            if not is_valid(r["code"]) or r["code"] == NO_CODE:
                raise ValueError(f"{path}:{line}: term {r['term']!r} maps to unknown code "
                                 f"{r['code']!r}; use a concrete code such as 'R74' or 'K31'")
            terms.append(r["term"])
            codes.append(r["code"])
    return pa.table({"term": terms, "code": codes})


# --------------------------------------------------------------------------- search

# Query words that carry no meaning in a title ("douleur *de la* hanche"). They are not indexed and
# are dropped from queries, unless the query is nothing else.
_STOPWORDS = frozenset("a au aux d de des du en et l la le les ou par sur un une chez avec".split())

# Weights of where a query word is found. A word of the French title counts most; a synonym word
# slightly less (the GP's word is as good as the title, but the title is the definition); the
# chapter name only orients (`vaccination respiratoire` → R44). An exact word beats a word prefix.
_W_TITLE, _W_SYNONYM, _W_CHAPTER = 1.0, 0.9, 0.35
_W_PREFIX = 0.75
# Score bands (0–100) so that the kinds of match always rank in this order.
_S_CODE, _S_TITLE_EXACT, _S_SYNONYM_EXACT = 100, 99, 98
_S_CODE_PREFIX, _S_WORDS, _S_FUZZY = 90, 85, 60
# rapidfuzz ratio (0–100) under which a word is not corrected: one typo in 5–6 letters passes.
_FUZZY_CUTOFF = 80
_MAX_QUERY_CHARS = 200  # a picker query is a few words; anything longer is cut, not searched whole
_PROCESS_OTHER_CHAPTER_PENALTY = 0.5  # "vaccination" lists A44 before B44 … Z44


@dataclass(frozen=True, slots=True)
class SearchHit:
    code: str
    title_fr: str
    score: float
    matched: str  # what matched: "code", "code prefix R7", "synonyme: rhume", "titre: infec resp" …
    # Context for process codes, which share one title across chapters (K31 → Circulation …).
    chapter_title_fr: str = ""


@dataclass(frozen=True)
class _Index:
    codes: list[str]
    titles: list[str]
    chapter_titles: list[str]
    penalty: np.ndarray  # per doc
    vocab: list[str]  # sorted
    # Per vocabulary word: doc ids, weights, whether the word is in the doc's title.
    postings: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    n_title_words: np.ndarray
    exact_title: dict[str, list[int]]
    exact_synonym: dict[str, list[tuple[int, str]]]
    code_pos: dict[str, int]


def _words(text: str) -> list[str]:
    # Single letters are chapter marks ("incapacité (R)") or elisions, never a meaning.
    return [w for w in normalise(text).split() if w not in _STOPWORDS and len(w) > 1]


@lru_cache(maxsize=1)
def _index() -> _Index:
    table = load()
    codes = table["code"].to_pylist()
    titles = table["title_fr"].to_pylist()
    chapter_titles = table["chapter_title_fr"].to_pylist()
    pos = {c: i for i, c in enumerate(codes)}
    weight: dict[str, dict[int, float]] = {}
    in_title: dict[str, set[int]] = {}

    def add(word: str, doc: int, w: float) -> None:
        d = weight.setdefault(word, {})
        d[doc] = max(d.get(doc, 0.0), w)
        if w == _W_TITLE:
            in_title.setdefault(word, set()).add(doc)

    n_title = np.zeros(len(codes), dtype=np.float32)
    exact_title: dict[str, list[int]] = {}
    for i, (t, ct) in enumerate(zip(titles, chapter_titles)):
        tw = _words(t)
        n_title[i] = max(len(set(tw)), 1)
        for w in tw:
            add(w, i, _W_TITLE)
        for w in _words(ct):
            add(w, i, _W_CHAPTER)
        exact_title.setdefault(normalise(t), []).append(i)

    exact_syn: dict[str, list[tuple[int, str]]] = {}
    syn = synonyms()
    for term, code in zip(syn["term"].to_pylist(), syn["code"].to_pylist()):
        i = pos[code]
        exact_syn.setdefault(normalise(term), []).append((i, term))
        for w in _words(term):
            add(w, i, _W_SYNONYM)

    vocab = sorted(weight)
    postings = []
    for w in vocab:
        docs = np.fromiter(weight[w].keys(), dtype=np.int32, count=len(weight[w]))
        wts = np.fromiter(weight[w].values(), dtype=np.float32, count=len(weight[w]))
        title = np.isin(docs, np.fromiter(in_title.get(w, ()), dtype=np.int32))
        postings.append((docs, wts, title))
    penalty = np.array([_PROCESS_OTHER_CHAPTER_PENALTY
                        if is_process_number(int(c[1:])) and c[0] != "A" else 0.0 for c in codes],
                       dtype=np.float32)

    return _Index(codes, titles, chapter_titles, penalty, vocab, postings, n_title, exact_title,
                  exact_syn, pos)


def _hit(ix: _Index, i: int, score: float, matched: str) -> SearchHit:
    return SearchHit(ix.codes[i], ix.titles[i], round(float(score), 3), matched,
                     ix.chapter_titles[i])


_NO_CODE_QUERIES = frozenset({"pas de code", "pas de code attribue", "aucun code", "sans code"})


def _has_prefix(ix: _Index, word: str) -> bool:
    k = bisect.bisect_left(ix.vocab, word)
    return k < len(ix.vocab) and ix.vocab[k].startswith(word)


def _correct(ix: _Index, word: str) -> str | None:
    if _has_prefix(ix, word):
        return word
    if len(word) < 4:
        return None
    best = process.extractOne(word, ix.vocab, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    return best[0] if best else None


def _word_search(ix: _Index, words: list[str], scale: float, matched: str, offer) -> bool:
    """Every word must match a title, synonym or chapter word (exactly or as its prefix)."""
    n = len(ix.codes)
    total = np.zeros(n, dtype=np.float32)
    titled = np.zeros(n, dtype=np.float32)
    alive = np.ones(n, dtype=bool)
    for w in words:
        token = np.zeros(n, dtype=np.float32)
        in_title = np.zeros(n, dtype=bool)
        lo = bisect.bisect_left(ix.vocab, w)
        hi = bisect.bisect_left(ix.vocab, w + "\x7f")
        for k in range(lo, hi):
            docs, wts, title = ix.postings[k]
            factor = 1.0 if ix.vocab[k] == w else _W_PREFIX
            np.maximum.at(token, docs, wts * factor)
            in_title[docs[title]] = True
        alive &= token > 0
        if not alive.any():
            return False
        total += token
        titled += in_title
    found = np.flatnonzero(alive)
    # Mean strength of the query words, plus how much of the title they cover (a short title
    # fully matched beats a long one that merely contains the words).
    strength = total[found] / len(words)
    cover = np.minimum(titled[found] / ix.n_title_words[found], 1.0)
    scores = scale * _S_WORDS * (0.8 * strength + 0.2 * cover)
    for i, s in zip(found.tolist(), scores.tolist()):
        offer(i, s, matched)
    return True


def search(query: str, limit: int = 20) -> list[SearchHit]:
    """Find codes for the CISP-2 picker, best first.

    Accent- and case-insensitive. Understands an exact code (`r74`, `R 74`, `k-31`), a code prefix
    (`R7`, or a chapter letter `R`), a generic process number (`-31`, all chapters), French title
    words and word prefixes (`infec resp`: every word must match; chapter names count, so
    `vaccination respiratoire` finds R44), French GP synonyms and abbreviations (`rhume`, `HTA`,
    `lombalgie`) and `_` / "pas de code". When nothing matches, each unknown word is corrected to
    the closest indexed word (`bronchitte`).
    """
    if limit <= 0 or not isinstance(query, str):
        return []
    query = query[:_MAX_QUERY_CHARS]
    ix = _index()
    if query.strip() == NO_CODE:
        return [SearchHit(NO_CODE, NO_CODE_TITLE_FR, _S_CODE, "code")]
    norm = normalise(query)
    if not norm:
        return []
    best: dict[int, SearchHit] = {}

    def offer(i: int, score: float, matched: str) -> None:  # keeps each code's best match
        score -= float(ix.penalty[i])
        if i not in best or best[i].score < score:
            best[i] = _hit(ix, i, score, matched)

    compact = norm.replace(" ", "")
    if re.fullmatch(r"[a-z][0-9]{2}", compact) and compact.upper() in ix.code_pos:
        i = ix.code_pos[compact.upper()]
        offer(i, _S_CODE + float(ix.penalty[i]), "code")  # an exact code is never penalised
    elif (re.fullmatch(r"[0-9]{2}", compact) and is_process_number(int(compact))
          and query.strip().startswith("-")):
        for c in expand_process(compact):
            offer(ix.code_pos[c], _S_CODE, f"code -{compact}")
    elif re.fullmatch(r"[a-z][0-9]?", compact):
        prefix = compact.upper()
        lo = bisect.bisect_left(ix.codes, prefix)
        hi = bisect.bisect_left(ix.codes, prefix + "\x7f")
        # A bare chapter letter lists the chapter (single letters are never searched as words).
        base = _S_CODE_PREFIX
        for i in range(lo, hi):
            offer(i, base - (i - lo) * 1e-3 + float(ix.penalty[i]), f"préfixe de code {prefix}")

    for rank, i in enumerate(ix.exact_title.get(norm, [])):
        offer(i, _S_TITLE_EXACT - rank * 1e-3, "titre")
    for rank, (i, term) in enumerate(ix.exact_synonym.get(norm, [])):
        offer(i, _S_SYNONYM_EXACT - rank * 0.1, f"synonyme: {term}")

    if norm in _NO_CODE_QUERIES:
        best[-1] = SearchHit(NO_CODE, NO_CODE_TITLE_FR, _S_CODE, "code")

    words = list(dict.fromkeys(w for w in norm.split() if w not in _STOPWORDS))
    if len(compact) > 1 and words:
        found = _word_search(ix, words, 1.0, "mots: " + " ".join(words), offer)
        if not found and not best:
            # Typo tolerance, only when nothing matched as typed: correct each unknown word to the
            # closest indexed word ("bronchitte aigue" → "bronchite aigue").
            fixed = [_correct(ix, w) for w in words]
            if all(fixed) and fixed != words:
                _word_search(ix, fixed, _S_FUZZY / _S_WORDS,
                             "approché: " + " ".join(fixed), offer)

    hits = sorted(best.values(), key=lambda h: (-h.score, h.code))
    return hits[:limit]
