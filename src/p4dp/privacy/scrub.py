"""Free-text scrubbing at the practice: identities in clinical text → placeholders.

What is removed, per patient: their own last, first and birth names, the names of relatives known
to the record, their birth date written in any usual way, their street address; for every text:
the practice's practitioners' names, NIR, French phone numbers, e-mail addresses and dates
introduced as birth dates ("né le …").

How it stays fast: most texts hold none of this. A vectorised pass in Arrow folds every text
(lower case, no accents), splits it into words and joins the words against the table of each
patient's own name words; an Arrow (RE2) regex spots e-mails, long digit runs and date shapes.
Only the texts flagged by either pass reach Python, where the patient's scrubber (a dictionary of
name phrases and the birth date, built once per patient, no regex compiled per patient) and a few
shared patterns do the replacing.

Names that are also words (a patient named Toux, Rose, Petit, Rein …, see
``data/clinical_words_fr.txt``) are removed only where they stand in name position: capitalised
mid-sentence, in capitals, after a civility or a family word, or next to another of the patient's
names. "Toux grasse depuis 3 jours" keeps its cough; "Mme TOUX revue ce jour" loses its name.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# --- placeholders ------------------------------------------------------------------------------

LAST_NAME = "[NOM]"
FIRST_NAME = "[PRENOM]"
RELATIVE = "[PROCHE]"
PHONE = "[TEL]"
NIR = "[NIR]"
EMAIL = "[EMAIL]"
BIRTH_DATE = "[DATE_NAISSANCE]"
ADDRESS = "[ADRESSE]"
#: A value of an identifying field of a rejected record, quoted elsewhere (e.g. in the reason).
IDENTIFIER = "[IDENTIFIANT]"
#: A practitioner of the practice named in a text ("courrier du Dr Grimaud"): GPs' identities
#: stay at the practice too.
PRACTITIONER = "[SOIGNANT]"
PLACEHOLDERS = (LAST_NAME, FIRST_NAME, RELATIVE, PHONE, NIR, EMAIL, BIRTH_DATE, ADDRESS,
                IDENTIFIER, PRACTITIONER)
_PLACEHOLDER_WORDS = frozenset(p.strip("[]").lower() for p in PLACEHOLDERS)

#: Free-text columns of the staging tables, scrubbed before anything leaves the practice. The raw
#: value columns are not meant to hold text but do in real exports ("cf courrier", "voir Dr X").
FREE_TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "problem": ("reason_text", "result_text", "procedure_text"),
    "antecedent": ("text",),
    "history": ("label",),
    "vaccination": ("raw_label",),
    "prescription": ("drug_label", "dose"),
    "lab_result": ("raw_label", "text_value", "raw_value"),
    "biometric": ("raw_value",),
}

# --- folding: case and accents, one character for one so that spans carry over -----------------


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {0x130: "i", 0x2019: "'", 0x2018: "'", 0x02BC: "'", 0xA0: " ",
                             0x202F: " "}
    for cp in range(0xC0, 0x250):
        decomposed = unicodedata.normalize("NFD", chr(cp))
        if len(decomposed) > 1 and all(unicodedata.combining(c) for c in decomposed[1:]):
            table[cp] = decomposed[0]
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower case without accents, same length as ``text`` (a span in one is one in the other)."""
    return text.translate(_FOLD).lower()


def fold_array(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Arrow twin of :func:`fold` for the prefilter (lengths may differ: only words are used)."""
    decomposed = pc.utf8_normalize(texts, "NFD")
    return pc.utf8_lower(pc.replace_substring_regex(decomposed, r"\p{Mn}+", ""))


_ARROW_WORD_SEPARATOR = r"[^\pL\pN]+"
_WORD_RE = re.compile(r"[^\W_]+")

#: Name particles: never matched alone (a patient named Le Goff does not remove every "le").
PARTICLES = frozenset(
    "d l de du des le la les van von der den da di del della dos das ben ibn bin el al y e et "
    "mc mac st ste saint sainte".split()
)


@lru_cache(maxsize=1)
def clinical_words() -> frozenset[str]:
    """Folded French words that are also names (see the data file's header for its sources)."""
    text = resources.files("p4dp.privacy").joinpath("data/clinical_words_fr.txt").read_text(
        encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


#: Words after which a capitalised or ambiguous token is a name: civilities, titles and the family
#: words GPs write before a relative's name ("fils Paul", "épouse Rose"). Folded.
NAME_CUES = frozenset(
    "m mr mme mmes mlle mlles monsieur madame mademoiselle dr docteur pr professeur nom prenom "
    "ne nee epouse ep vve veuve fils fille mere pere frere soeur sœur mari epoux epouse femme "
    "conjoint conjointe compagnon compagne enfant bebe oncle tante cousin cousine neveu niece "
    "patient patiente famille".split()
)

# --- patterns that do not depend on the patient -------------------------------------------------

_MONTHS = (
    ("janvier", "janv"), ("fevrier", "fevr", "fev"), ("mars",), ("avril", "avr"), ("mai",),
    ("juin",), ("juillet", "juil"), ("aout",), ("septembre", "sept"), ("octobre", "oct"),
    ("novembre", "nov"), ("decembre", "dec"),
)
#: The same month names with optional accents, to run on unfolded text.
_ACCENTED_MONTHS = (
    r"janv(?:ier|\.)?|f[ée]v(?:rier|r\.?|\.)?|mars|avr(?:il|\.)?|mai|juin|juil(?:let|\.)?|"
    r"ao[ûu]t|sept(?:embre|\.)?|oct(?:obre|\.)?|nov(?:embre|\.)?|d[ée]c(?:embre|\.)?"
)

EMAIL_RE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
#: NIR with or without separators and key; sex digit 3 is skipped when followed by 4009 so that a
#: 13-digit CIP drug code (34009…) stays a drug code.
NIR_TEXT_RE = re.compile(
    r"(?<![\w])(?:[1278]|3(?!\s?[.\-]?4\s?[.\-]?0\s?[.\-]?0\s?[.\-]?9))[\s.\-]?\d{2}[\s.\-]?\d{2}"
    r"[\s.\-]?(?:\d{2}|2[AaBb])[\s.\-]?\d{3}[\s.\-]?\d{3}(?:[\s.\-]?\d{2})?(?![\w])"
)
#: French numbers: 0X XX XX XX XX (spaces, dots, dashes or nothing), +33 X…, 0033 X…, +33 (0)X….
PHONE_RE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?[1-9]|0[1-9])(?:[\s.\-]?\d{2}){4}(?![\w])"
)
_ANY_DATE = (
    r"\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}|\d{4}\s*-\s*\d{1,2}\s*-\s*\d{1,2}"
    rf"|(?:\d{{1,2}}|1er)\s+(?:{_ACCENTED_MONTHS})\s+\d{{2,4}}"
)
#: A date written as somebody's birth date, whoever's it is ("né le 3/4/51", "DDN : …").
BIRTH_CUE_DATE_RE = re.compile(
    rf"(?P<cue>\bn[ée]e?s?(?:\s*\(e\))?\s+(?:le\s+)?|\bddn\s*:?\s*|\bdate\s+de\s+naissance\s*:?\s*)"
    rf"(?P<date>{_ANY_DATE})(?![\w])",
    re.IGNORECASE,
)
#: Arrow (RE2) prefilter: texts that may hold an e-mail, a NIR, a phone number or a date.
PATTERN_PREFILTER_RE2 = (
    r"@|\d(?:[\s.\-]?\d){8}|\d\s?2[AaBb]\s?\d{3}"  # e-mail; 9+ digits: phone, NIR
    r"|\d\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d\d|\d{8}"  # d/m/y, y-m-d, ddmmyyyy
    r"|(?i:\d\s*(?:er)?\s+(?:janv|f[eé]v|mars|avr|mai|juin|juil|ao[uû]t|sept|oct|nov|d[eé]c))"
)


def scrub_patterns(text: str, counts: Counter | None = None) -> str:
    """Replace e-mails, NIRs, phone numbers and cue-introduced birth dates (any patient)."""

    def sub(regex: re.Pattern, placeholder: str, s: str) -> str:
        new, n = regex.subn(placeholder, s)
        if n and counts is not None:
            counts[placeholder] += n
        return new

    text = sub(EMAIL_RE, EMAIL, text)
    text = sub(NIR_TEXT_RE, NIR, text)
    text = sub(PHONE_RE, PHONE, text)

    def cue(m: re.Match) -> str:
        if counts is not None:
            counts[BIRTH_DATE] += 1
        return m.group("cue") + BIRTH_DATE

    return BIRTH_CUE_DATE_RE.sub(cue, text)


# --- one patient's identity ---------------------------------------------------------------------


@dataclass(frozen=True)
class PatientIdentity:
    """What the export knows of one patient's identity (practice side only)."""

    last_names: tuple[str, ...] = ()
    first_names: tuple[str, ...] = ()
    relatives: tuple[str, ...] = ()
    birth_date: date | None = None
    address: str | None = None


def _norm_phrase(folded: str) -> str:
    return " ".join(_WORD_RE.findall(folded))


def _name_tokens(identity: PatientIdentity, only: str | None = None) -> dict[str, str]:
    """Folded name phrase or word → placeholder; the patient's own names win over relatives'.

    ``only``: one placeholder for every name (practitioners).
    """
    tokens: dict[str, str] = {}
    for names, placeholder in ((identity.relatives, RELATIVE), (identity.first_names, FIRST_NAME),
                               (identity.last_names, LAST_NAME)):
        placeholder = only or placeholder
        for name in names:
            words = _WORD_RE.findall(fold(name))
            if not words:
                continue
            if any(w not in PARTICLES for w in words):
                tokens[" ".join(words)] = placeholder
            for w in words:
                if w not in PARTICLES and len(w) >= 2:
                    tokens[w] = placeholder
    return tokens


#: Any written date, on folded text: d/m/y (any of / . -), y-m-d, "12 mars 1956", "1er mars 56",
#: and the compact ddmmyyyy. Compiled once; each match is compared with the patient's birth date.
_MONTH_ALTERNATION = "|".join(sorted((re.escape(m) for names in _MONTHS for m in names),
                                     key=len, reverse=True))
_DATE_RE = re.compile(
    r"(?<!\d)(?:(?P<d1>\d{1,2})\s*(?P<s1>[/.\-])\s*(?P<m1>\d{1,2})\s*(?P=s1)\s*(?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})\s*(?P<s2>[/.\-])\s*(?P<m2>\d{1,2})\s*(?P=s2)\s*(?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}}|1er)\s*(?P<m3>{_MONTH_ALTERNATION})\.?\s+(?P<y3>\d{{4}}|\d{{2}})"
    r"|(?P<d4>\d{2})(?P<m4>\d{2})(?P<y4>\d{4}))(?!\d)"
)
_MONTH_NUMBER = {m: i + 1 for i, names in enumerate(_MONTHS) for m in names}
#: What may stand between the words of a multi-word name or address ("Le Goff", "Marie-Hélène",
#: "12, rue des Lilas").
_GAP_RE = re.compile(r"^[\s\-',]+$")


def _same_date(m: re.Match, birth: date) -> bool:
    for k in "1234":
        d = m.group(f"d{k}")
        if d is None:
            continue
        month = m.group(f"m{k}")
        month_n = _MONTH_NUMBER[month] if k == "3" else int(month)
        day_n = 1 if d == "1er" else int(d)
        year = m.group(f"y{k}")
        year_ok = int(year) == (birth.year if len(year) == 4 else birth.year % 100)
        return year_ok and month_n == birth.month and day_n == birth.day
    return False


_PREVIOUS_WORD_RE = re.compile(r"(?P<word>[^\W_]+)(?P<gap>[^\w]*)$")
_NEXT_WORD_RE = re.compile(r"(?P<gap>[^\w]*)(?P<word>[^\W_]+)")


def _joins(gap: str) -> bool:
    """Whether two words separated by ``gap`` can be parts of one name ("Rose Toux", "Rose-Marie",
    "d'Alembert"), not two items of a list ("rose - Rose", "rose, Rose")."""
    return not gap.strip() or gap in ("-", "'")


def _is_placeholder(text: str, start: int, end: int, key: str) -> bool:
    """Whether a match is the word inside a placeholder already written ("[NOM]")."""
    return (start > 0 and end < len(text) and text[start - 1] == "[" and text[end] == "]"
            and key in _PLACEHOLDER_WORDS)


def _sentence_start(text: str, start: int) -> bool:
    """Start of the text, of a line, or of a labelled field ("Motif : Toux").

    Not after ". " or " - ": GPs chain several notes in one field ("toux. Rose dit aller mieux"),
    and a capitalised name-word after such a break is far more often the name than the word.
    """
    before = text[:start].rstrip(" \t\"'«»([")
    return not before or before[-1] in ":;\n\r•*|"


class PatientScrubber:
    """The scrubber of one patient: a dictionary of name phrases, the birth date, the address.

    No regex is compiled per patient (compiling one costs about a millisecond, more than scrubbing
    the patient's texts): words are found by one shared pattern and looked up in the dictionary.
    """

    def __init__(self, identity: PatientIdentity, placeholder: str | None = None) -> None:
        self.tokens = _name_tokens(identity, placeholder)
        if identity.address:
            address = _norm_phrase(fold(identity.address))
            if address:
                self.tokens.setdefault(address, ADDRESS)
        self.max_words = max((t.count(" ") + 1 for t in self.tokens), default=0)
        self.own_words = frozenset(w for t, p in self.tokens.items() if p != ADDRESS
                                   for w in t.split(" ")) - PARTICLES
        self.birth_date = identity.birth_date
        self._ambiguous = clinical_words()

    def scrub(self, text: str, counts: Counter | None = None) -> str:
        spans: list[tuple[int, int, str]] = []
        folded = fold(text)
        if self.birth_date is not None:
            spans += [(m.start(), m.end(), BIRTH_DATE) for m in _DATE_RE.finditer(folded)
                      if _same_date(m, self.birth_date)]
        if self.tokens:
            spans += self._name_spans(text, folded, spans)
        if not spans:
            return text
        spans.sort()
        pieces, last = [], 0
        for start, end, placeholder in spans:
            pieces += [text[last:start], placeholder]
            last = end
            if counts is not None:
                counts[placeholder] += 1
        pieces.append(text[last:])
        return "".join(pieces)

    def _name_spans(self, text: str, folded: str, taken: list[tuple[int, int, str]]
                    ) -> list[tuple[int, int, str]]:
        words = [(m.start(), m.end(), m.group(0)) for m in _WORD_RE.finditer(folded)
                 if not any(a <= m.start() < b for a, b, _ in taken)]
        sure: list[tuple[int, int, str]] = []
        unsure: list[tuple[int, int, str]] = []  # name-words not (yet) seen in name position
        i, n = 0, len(words)
        while i < n:
            matched = 0
            for size in range(min(self.max_words, n - i), 0, -1):
                if size > 1 and not all(_GAP_RE.match(folded[words[j][1]:words[j + 1][0]])
                                        for j in range(i, i + size - 1)):
                    continue
                key = " ".join(w for _, _, w in words[i:i + size])
                placeholder = self.tokens.get(key)
                if placeholder is None:
                    continue
                start, end = words[i][0], words[i + size - 1][1]
                if size == 1 and _is_placeholder(text, start, end, key):
                    continue
                if size == 1 and key in self._ambiguous and \
                        not self._in_name_position(text, start, end):
                    unsure.append((start, end, placeholder))
                else:
                    sure.append((start, end, placeholder))
                matched = size
                break
            i += matched or 1
        # A name-word right next to a name found for sure is part of that name ("Rose Le Goff",
        # "Petit Jean-Pierre"); repeat, as such chains grow from both ends.
        grew = True
        while unsure and grew:
            grew = False
            for span in list(unsure):
                if any(_joins(text[k[1]:span[0]]) if k[1] <= span[0] else
                       _joins(text[span[1]:k[0]]) for k in sure):
                    sure.append(span)
                    unsure.remove(span)
                    grew = True
        return sure

    def _in_name_position(self, text: str, start: int, end: int) -> bool:
        before = _PREVIOUS_WORD_RE.search(fold(text[max(0, start - 40):start]))
        after = _NEXT_WORD_RE.match(fold(text[end:end + 40]))
        # A civility may carry its full stop ("M. Toux"); a neighbouring name may not be
        # across punctuation ("plaque rose, Rose Toux": the first "rose" is the colour).
        if before and before["word"] in NAME_CUES and not before["gap"].strip(" ."):
            return True
        if before and before["word"] in self.own_words and _joins(before["gap"]):
            return True
        if after and after["word"] in self.own_words and _joins(after["gap"]):
            return True
        word = text[start:end]
        letters = [c for c in word if c.isalpha()]
        if len(letters) >= 2 and all(c.isupper() for c in letters):
            # Capitals mark a surname only in a text that is not written in capitals throughout.
            return any(c.islower() for c in text)
        if letters and letters[0].isupper():
            return not _sentence_start(text, start)
        return False


# --- many patients ------------------------------------------------------------------------------


def _split_names(value: str | None, sep: str | None = None) -> tuple[str, ...]:
    if not value:
        return ()
    parts = value.split(sep) if sep else [value]
    return tuple(p.strip() for p in parts if p and p.strip())


@dataclass
class Identities:
    """The identities of an export's patients, indexed by local patient id.

    Built from the staging ``patient`` table; scrubbers are built on demand and cached.
    """

    patient: pa.Table
    _index: dict[str, int] = field(default_factory=dict)
    #: Identities known from elsewhere than the patient table (a patient row the reader rejected).
    extra: dict[str, PatientIdentity] = field(default_factory=dict)
    #: The practice's practitioners' names, scrubbed from every text as [SOIGNANT].
    practitioners: PatientScrubber | None = None
    _scrubbers: dict[str, PatientScrubber] = field(default_factory=dict)
    _name_words: pa.Table | None = None

    @classmethod
    def from_patient_table(cls, patient: pa.Table, practitioner: pa.Table | None = None
                           ) -> Identities:
        wanted = ["patient_id", "last_name", "first_name", "birth_name", "relatives", "birth_date",
                  "address"]
        cols = {c: (patient[c] if c in patient.column_names else pa.nulls(patient.num_rows))
                for c in wanted}
        cols["birth_date"] = pc.cast(cols["birth_date"], pa.date32())
        table = pa.table({c: pc.cast(v, pa.string()) if c != "birth_date" else v
                          for c, v in cols.items()})
        ids = table["patient_id"].to_pylist()
        practitioners = None
        if practitioner is not None and practitioner.num_rows:
            names = [practitioner[c].to_pylist() for c in ("last_name", "first_name")
                     if c in practitioner.column_names]
            flat = tuple(n for column in names for n in column if n)
            if flat:
                practitioners = PatientScrubber(PatientIdentity(last_names=flat), PRACTITIONER)
        return cls(table, {pid: i for i, pid in enumerate(ids) if pid is not None},
                   practitioners=practitioners)

    def add(self, patient_id: str, identity: PatientIdentity) -> None:
        """Know one more patient (only if the patient table does not already)."""
        if patient_id not in self._index:
            self.extra[patient_id] = identity
            self._scrubbers.pop(patient_id, None)
            self._name_words = None

    def identity(self, patient_id: str) -> PatientIdentity | None:
        if patient_id in self.extra:
            return self.extra[patient_id]
        i = self._index.get(patient_id)
        if i is None:
            return None
        row = {c: self.patient[c][i].as_py() for c in self.patient.column_names}
        return PatientIdentity(
            last_names=_split_names(row["last_name"]) + _split_names(row["birth_name"]),
            first_names=_split_names(row["first_name"]),
            relatives=_split_names(row["relatives"], ";"),
            birth_date=row["birth_date"],
            address=row["address"],
        )

    def scrubber(self, patient_id: str | None) -> PatientScrubber | None:
        if patient_id is None:
            return None
        s = self._scrubbers.get(patient_id)
        if s is None:
            identity = self.identity(patient_id)
            if identity is None:
                return None
            s = self._scrubbers[patient_id] = PatientScrubber(identity)
        return s

    def name_words(self) -> pa.Table:
        """(patient_id, word): every folded, non-particle word of every patient's names."""
        if self._name_words is None:
            parts = []
            for column in ("last_name", "first_name", "birth_name", "relatives", "address"):
                words = pc.split_pattern_regex(fold_array(self.patient[column]),
                                               _ARROW_WORD_SEPARATOR)
                flat = pc.list_flatten(words)
                owner = pc.take(self.patient["patient_id"], pc.list_parent_indices(words))
                parts.append(pa.table({"patient_id": owner, "word": flat}))
            if self.extra:
                pairs = [(pid, w) for pid, ident in self.extra.items()
                         for name in (*ident.last_names, *ident.first_names, *ident.relatives,
                                      ident.address or "")
                         for w in _WORD_RE.findall(fold(name))]
                parts.append(pa.table({"patient_id": pa.array([p for p, _ in pairs], pa.string()),
                                       "word": pa.array([w for _, w in pairs], pa.string())}))
            t = pa.concat_tables(parts)
            keep = pc.and_(pc.greater_equal(pc.utf8_length(t["word"]), 2),
                           pc.invert(pc.is_in(t["word"], pa.array(sorted(PARTICLES)))))
            t = t.filter(keep)
            self._name_words = t.group_by(["patient_id", "word"]).aggregate([])
        return self._name_words


def candidate_rows(texts: pa.Array, patient_ids: pa.Array, identities: Identities | None
                   ) -> np.ndarray:
    """Positions of the texts that may hold something to scrub (the vectorised prefilter)."""
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    flagged = pc.fill_null(pc.match_substring_regex(texts, PATTERN_PREFILTER_RE2), False)
    mask = flagged.to_numpy(zero_copy_only=False).copy()
    if identities is None:
        return np.flatnonzero(mask)
    words = pc.split_pattern_regex(fold_array(texts), _ARROW_WORD_SEPARATOR)
    flat = pc.list_flatten(words)
    parents = pc.list_parent_indices(words)
    if identities.practitioners is not None:
        staff = pa.array(sorted(identities.practitioners.own_words), pa.string())
        staff_hit = pc.fill_null(pc.is_in(flat, value_set=staff), False)
        if pc.any(staff_hit).as_py():
            mask[pc.filter(parents, staff_hit).to_numpy()] = True
    if identities.patient.num_rows or identities.extra:
        name_words = identities.name_words()
        hit = pc.is_in(flat, value_set=pc.unique(name_words["word"]))
        hit = pc.fill_null(hit, False)
        if pc.any(hit).as_py():
            rows = pc.filter(parents, hit)
            pairs = pa.table({
                "row": rows,
                "patient_id": pc.take(patient_ids, rows),
                "word": pc.filter(flat, hit),
            })
            joined = pairs.join(name_words, ["patient_id", "word"], join_type="inner")
            mask[joined["row"].to_numpy()] = True
    return np.flatnonzero(mask)


def scrub_texts(texts: pa.Array | pa.ChunkedArray, patient_ids: pa.Array | pa.ChunkedArray,
                identities: Identities | None, counts: Counter | None = None) -> pa.Array:
    """Scrub a column of texts, each text with its own patient's names (nulls stay null)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if isinstance(patient_ids, pa.ChunkedArray):
        patient_ids = patient_ids.combine_chunks()
    texts = pc.cast(texts, pa.string())
    patient_ids = pc.cast(patient_ids, pa.string())
    rows = candidate_rows(texts, patient_ids, identities)
    if len(rows) == 0:
        return texts
    idx = pa.array(rows)
    sub_texts = pc.take(texts, idx).to_pylist()
    sub_ids = pc.take(patient_ids, idx).to_pylist()
    # Grouping by patient keeps one scrubber hot at a time.
    order = sorted(range(len(rows)), key=lambda k: (sub_ids[k] is None, sub_ids[k] or ""))
    new_values = [None] * len(rows)
    for k in order:
        new_values[k] = scrub_text(sub_texts[k], sub_ids[k], identities, counts)
    mask = np.zeros(len(texts), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(texts, pa.array(mask), pa.array(new_values, pa.string()))


def scrub_text(text: str | None, patient_id: str | None, identities: Identities | None,
               counts: Counter | None = None) -> str | None:
    """Scrub one text (patterns, then the patient's birth date, address and names)."""
    if text is None:
        return None
    text = scrub_patterns(text, counts)
    if identities is None:
        return text
    scrubber = identities.scrubber(patient_id)
    if scrubber is not None:
        text = scrubber.scrub(text, counts)
    if identities.practitioners is not None:
        text = identities.practitioners.scrub(text, counts)
    return text


def scrub_tables(tables: dict[str, pa.Table], identities: Identities,
                 counts: Counter | None = None) -> dict[str, pa.Table]:
    """Scrub every free-text column of the staging tables (ids still local)."""
    out = dict(tables)
    for name, columns in FREE_TEXT_COLUMNS.items():
        t = out.get(name)
        if t is None or t.num_rows == 0:
            continue
        for column in columns:
            if column in t.column_names:
                scrubbed = scrub_texts(t[column], t["patient_id"], identities, counts)
                t = t.set_column(t.column_names.index(column), column, scrubbed)
        out[name] = t
    return out


# --- JSON records (quarantine) -----------------------------------------------------------------

#: Field names (folded, letters and digits only) that hold a direct identifier in the exports of
#: the three vendor formats and in the CDM: their values are dropped from quarantined records.
IDENTIFYING_KEYS = frozenset(
    "lastname firstname birthname birthdate nir address postcode city phone email relatives rpps "
    "name given family prefix telecom birthdate nom prenom prenoms nomnaissance nomdenaissance "
    "nomusage datenaissance datedenaissance ddn numsecu numerosecu nss insee matriculeins ins "
    "adresse adresse1 adresse2 ligneadresse cp codepostal ville commune tel telephone portable "
    "mobile fixe mail courriel proches entourage contact contacts identifier identity "
    "street zip town".split()
)


def field_key(name: str) -> str:
    return "".join(_WORD_RE.findall(fold(name)))


#: Leaf field names (folded) of the vendor formats and the CDM, by the identity part they hold.
_RECORD_LAST = frozenset("nom lastname familyname family nomusage nomdusage nomdenaissance "
                         "nomnaissance birthname maidenname".split())
_RECORD_FIRST = frozenset("prenom prenoms firstname givenname given".split())
_RECORD_RELATIVES = frozenset("entourage relatives proches".split())
_RECORD_ADDRESS = frozenset("adresse address street line rue".split())
_RECORD_BIRTH = frozenset("datedenaissance datenaissance dob birthdate ddn".split())
_DATE_FORMATS = (re.compile(r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$"),
                 re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"))


def _parse_date(value: str) -> date | None:
    for regex in _DATE_FORMATS:
        m = regex.match(value.strip())
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None


def identity_from_record(record: object) -> PatientIdentity:
    """The identity written in a raw patient record (csv-fr, jsonl or FHIR field names).

    Used when the reader rejected a patient's row: their other rows still need scrubbing.
    """
    last: list[str] = []
    first: list[str] = []
    relatives: list[str] = []
    address: list[str] = []
    births: list[date] = []

    def walk(node: object, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, field_key(str(k))))
        elif isinstance(node, list):
            for v in node:
                walk(v, path)
        elif isinstance(node, str) and node.strip() and path:
            leaf = path[-1]
            if any(p in _RECORD_RELATIVES for p in path) or (
                    "contact" in path and leaf == "text"):
                relatives.extend(_split_names(node, ";"))
            elif leaf in _RECORD_LAST:
                last.append(node)
            elif leaf in _RECORD_FIRST:
                first.append(node)
            elif leaf in _RECORD_ADDRESS:
                address.append(node)
            elif leaf in _RECORD_BIRTH and (d := _parse_date(node)) is not None:
                births.append(d)

    walk(record, ())
    return PatientIdentity(last_names=tuple(last), first_names=tuple(first),
                           relatives=tuple(relatives), birth_date=births[0] if births else None,
                           address=address[0] if address else None)


def identifying_values(record: object) -> list[str]:
    """Every string held under an identifying key of a record (to scrub what is left with)."""
    found: list[str] = []

    def walk(node: object, hidden: bool) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, hidden or field_key(str(k)) in IDENTIFYING_KEYS)
        elif isinstance(node, list):
            for v in node:
                walk(v, hidden)
        elif isinstance(node, str) and hidden:
            found.append(node)

    walk(record, False)
    return found


#: Shorter values are not masked literally (a 2-character value would hit ordinary words).
MIN_LITERAL_CHARS = 3


def mask_literals(text: str | None, values: Iterable[str], counts: Counter | None = None
                  ) -> str | None:
    """Replace every literal occurrence (case-insensitive) of the given values by [IDENTIFIANT]."""
    if text is None:
        return None
    for value in sorted({v.strip() for v in values}, key=len, reverse=True):
        if len(value) < MIN_LITERAL_CHARS:
            continue
        text, n = re.subn(rf"(?<!\w){re.escape(value)}(?!\w)", IDENTIFIER, text,
                          flags=re.IGNORECASE)
        if n and counts is not None:
            counts[IDENTIFIER] += n
    return text


def scrub_record(record: object, scrub_value: Callable[[str], str],
                 map_value: Callable[[str, str], str | None] | None = None) -> object:
    """A JSON record without its identifying fields, every other string scrubbed.

    ``map_value(key, value)`` may return a replacement (a pseudonym for an id field) or None.
    """
    if isinstance(record, dict):
        out = {}
        for k, v in record.items():
            if field_key(str(k)) in IDENTIFYING_KEYS:
                continue
            if map_value is not None and isinstance(v, (str, int)) and not isinstance(v, bool):
                mapped = map_value(str(k), str(v))
                if mapped is not None:
                    out[k] = mapped
                    continue
            out[k] = scrub_record(v, scrub_value, map_value)
        return out
    if isinstance(record, list):
        return [scrub_record(v, scrub_value, map_value) for v in record]
    if isinstance(record, str):
        return scrub_value(record)
    return record


def scrub_record_json(text: str | None, patient_id: str | None, identities: Identities | None,
                      map_value: Callable[[str, str], str | None] | None = None,
                      counts: Counter | None = None) -> str | None:
    """Scrub one quarantined record given as JSON; a record that is not JSON is scrubbed as text."""
    if text is None:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return scrub_text(text, patient_id, identities, counts)
    # The record's own identity (a rejected patient row has no patient-table entry to scrub
    # with): names by their field, and values with digits (dates, numbers, street) literally.
    literals = [v for v in identifying_values(record) if any(c.isdigit() for c in v)]
    base = identities.scrubber(patient_id) if identities is not None and patient_id else None
    own = identity_from_record(record)
    extra_scrubber = PatientScrubber(own) if own != PatientIdentity() else None

    def scrub_value(value: str) -> str:
        value = mask_literals(value, literals, counts)
        value = scrub_patterns(value, counts)
        if base is not None:
            value = base.scrub(value, counts)
        if extra_scrubber is not None:
            value = extra_scrubber.scrub(value, counts)
        return value

    return json.dumps(scrub_record(record, scrub_value, map_value), ensure_ascii=False,
                      sort_keys=True)


def tokens_in(text: str) -> Iterable[str]:
    """Folded words of a text (for evaluation)."""
    return _WORD_RE.findall(fold(text))


# --- evaluation against a ground truth ----------------------------------------------------------


def _count_whole(word: str, folded_text: str) -> int:
    return len(re.findall(rf"(?<!\w){re.escape(word)}(?!\w)", folded_text))


def evaluate(before: dict[str, pa.Table], after: dict[str, pa.Table],
             identity_tokens: pa.Table) -> dict:
    """Removal and false-removal rates of a scrubbing run against injected identity tokens.

    ``identity_tokens``: ``table, row_key, column, token, token_kind`` (the synthetic network's
    ground truth; row keys are the staging ids). A token counts as removed when its occurrences
    in the text (whole word, case and accent folded) dropped by at least the number injected. A
    word counts as falsely removed when it was in the text, is not part of an injected token, and
    is gone after scrubbing; the rate is over all words of all free-text columns.
    """
    gt: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for r in identity_tokens.select(["table", "row_key", "column", "token",
                                     "token_kind"]).to_pylist():
        gt.setdefault((r["table"], r["column"], r["row_key"]), []).append(
            (r["token"], r["token_kind"]))
    from p4dp.cdm import table as cdm_table

    words = gt_words = lost = 0
    by_kind: Counter = Counter()
    removed_by_kind: Counter = Counter()
    misses: list[dict] = []
    false_examples: list[dict] = []
    for name, columns in FREE_TEXT_COLUMNS.items():
        if name not in before or before[name].num_rows == 0:
            continue
        key = cdm_table(name).primary_key[0]
        keys = before[name][key]
        for column in columns:
            if column not in before[name].column_names:
                continue
            b, a = before[name][column], after[name][column]
            counts = pc.list_value_length(pc.split_pattern_regex(fold_array(b),
                                                                 _ARROW_WORD_SEPARATOR))
            words += int(pc.sum(counts).as_py() or 0)
            changed = pc.fill_null(pc.not_equal(b, a), False)
            rows = set(np.flatnonzero(changed.to_numpy(zero_copy_only=False)).tolist())
            wanted = {k[2] for k in gt if k[0] == name and k[1] == column}
            if wanted:
                mask = pc.is_in(keys, value_set=pa.array(sorted(wanted), keys.type))
                rows |= set(np.flatnonzero(pc.fill_null(mask, False).to_numpy(
                    zero_copy_only=False)).tolist())
            for i in sorted(rows):
                bt, at = b[i].as_py() or "", a[i].as_py() or ""
                injected = gt.get((name, column, keys[i].as_py()), [])
                bw, aw = Counter(tokens_in(bt)), Counter(tokens_in(at))
                inj_words = Counter(w for tok, _ in injected for w in tokens_in(tok))
                gt_words += sum(inj_words.values())
                missing = (bw - inj_words) - aw
                lost += sum(missing.values())
                if missing and len(false_examples) < 20:
                    false_examples.append({"before": bt, "after": at, "lost": sorted(missing)})
                fb, fa = fold(bt), fold(at)
                per_token = Counter(tok for tok, _ in injected)
                for tok, kind in injected:
                    by_kind[kind] += 1
                    ft = fold(tok)
                    if _count_whole(ft, fa) <= _count_whole(ft, fb) - per_token[tok]:
                        removed_by_kind[kind] += 1
                    elif len(misses) < 20:
                        misses.append({"token": tok, "kind": kind, "before": bt, "after": at})
    n_tokens = sum(by_kind.values())
    clinical_words = max(words - gt_words, 1)
    return {
        "tokens": n_tokens,
        "removed": sum(removed_by_kind.values()),
        "removal_rate": sum(removed_by_kind.values()) / n_tokens if n_tokens else 1.0,
        "by_kind": {k: (by_kind[k], removed_by_kind[k]) for k in sorted(by_kind)},
        "words": words - gt_words,
        "falsely_removed": lost,
        "false_removal_rate": lost / clinical_words,
        "misses": misses,
        "false_examples": false_examples,
    }
