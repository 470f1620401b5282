"""Normalisation of GP free text: bad-input guard, case, accents, punctuation, abbreviations.

The same functions normalise the lexicon and the texts, so a term and a text meet in one space:
lower case, no accents, plural ``s``/``x`` removed, GP abbreviations expanded, filler words
("de", "le", "droit", "depuis" ...) dropped from the matching tokens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from p4dp.coding import french

#: Longest text the coder reads (issue 4, "Bad input": > 10 kB abstains with a reason). A GP
#: problem field is a line or two; 10 kB is pasted letters or binary garbage.
MAX_TEXT_BYTES = 10_000

#: Characters that separate problems in one field ("HTA + DT2", "rhino, toux", "toux; fièvre").
SEPARATORS = frozenset({",", ";", "+", "/", "\n", "|", "."})
SEP = ","

_DATA = "p4dp.coding.data"

#: Words that never carry the meaning of a problem: they are dropped before matching
#: (articles, prepositions, laterality, time). Laterality and time are clinical facts but not
#: ICPC-2 distinctions ("otite droite" and "otite" are both H71).
STOPWORDS = frozenset(
    """
    de du des la le les l d un une au aux a en et ou pour par avec chez dans sur ce cet cette
    son sa ses mon ma mes ton leur leurs qui que qu y il elle ils elles on se s est sont
    etait ete avoir fait faite faites droit droite gauche bilateral bilaterale bilaterales
    bilateraux depuis jour jours j semaine semaines sem mois an ans h heure heures hier
    matin soir nuit aujourd hui ce matin cote cotes gche dte dr drt g
    mr mme mlle monsieur madame pt patient patiente
    tres plus assez bien tous tout toute toutes temps fois quand comme toujours pendant
    """.split()
) - {"cote", "cotes"}

#: Words that may belong to a lexicon term but do not count against a partial match
#: (see :func:`content_weight`): context, severity, course.
IGNORABLE = frozenset(
    """
    antecedent antecedents atcd connu connue connus suivi enfant bebe nourrisson adulte homme
    femme ado adolescent adolescente age agee personne suite apres avant episode recidive
    recidivant recidivante recurrent persistant persistante aigu aigue chronique leger legere
    modere moderee severe intense important importante nouvelle nouveau debut probable
    possible suspicion suspecte rien signaler habituel habituelle simple isole isolee
    actuel actuelle motif consultation cs pour vient venu venue revient ce jour ras
    """.split()
)

#: Words that start a negation, hypothesis or family context: only texts containing one go
#: through edsnlp (the slow path), so the plain stream stays fast.
QUALIFIER_CUES = re.compile(
    r"(?:^|\s)(?:pas|sans|absence|absent|absente|aucun|aucune|ni|non|negatif|negative|neg|"
    r"elimine|eliminee|eliminer|exclu|exclue|ecarte|ecartee|ecarter|"
    r"familial|familiale|familiaux|familiales|"
    r"famille|pere|mere|frere|soeur|fils|fille|parent|parents|grand|grands|oncle|tante|cousin|"
    r"cousine|suspicion|suspecte|suspect|probable|possible|eventuel|eventuelle|hypothese|doute|"
    r"evoque|evoquer|rechercher|recherche|si|\?)(?=\s|$)"
)


class BadText(ValueError):
    """The text cannot be read as French free text; ``reason`` says why (in French)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Mojibake of UTF-8 read as Latin-1/CP1252 ("fiÃ¨vre", "Ã©"): text mixing two encodings.
_MOJIBAKE = re.compile("[\u00c2\u00c3][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u017d\u017e\u0178\u02c6\u02dc]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def check_text(value: object) -> str:
    """Return ``value`` as a usable string, or raise :class:`BadText` with the reason."""
    if value is None:
        raise BadText("texte absent")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if len(raw) > MAX_TEXT_BYTES:
            raise BadText(f"texte trop long (> {MAX_TEXT_BYTES} octets)")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadText("octets illisibles (ni UTF-8 ni texte)") from None
    if not isinstance(value, str):
        raise BadText(f"valeur non textuelle ({type(value).__name__})")
    if len(value) > MAX_TEXT_BYTES or len(value.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise BadText(f"texte trop long (> {MAX_TEXT_BYTES} octets)")
    if not value.strip():
        raise BadText("texte vide")
    if _CONTROL.search(value) or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise BadText("caractères binaires ou illisibles dans le texte")
    if _MOJIBAKE.search(value):
        raise BadText("encodage mixte (UTF-8 lu comme Latin-1) : corriger l'encodage du fichier source")
    return value


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "’": "'", "`": "'"})
_PUNCT = re.compile(r"[^a-z0-9,;+/|?.\n]+")
_DECIMAL = re.compile(r"(\d+)[.,]\d+")
_SPACED_DASH = re.compile(r"\s[-–—]\s|^\s*[-–—*•]\s*|\n\s*[-–—*•]\s*")
_TOKEN = re.compile(r"[a-z0-9]+|[,;+/|.\n]|\?")
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}")
_ORDINAL = re.compile(r"\b(\d+)\s?(?:eme|ieme|e|er|ere|nd|nde)\b")
# "RDV 15j", "revoir ds 8j", "ctrl 3m": a delay glued to its unit is still a number.
_DURATION = re.compile(r"\b(\d+)(j|h|m|s|sem|mois|an|ans|min)\b")
# "14 SA", "9SA", "8 semaines d'aménorrhée": a pregnancy dated in weeks of amenorrhoea (the
# French obstetric unit); "SA" alone stays the possessive "sa".
_WEEKS_AMENORRHOEA = re.compile(r"\b(\d+)\s?(?:sa|semaines? d'?\s?amenorrhee)\b")
# "G2P1", "G3 P2": the obstetric formula (gravidity, parity) is history, not a problem.
_OBSTETRIC_FORMULA = re.compile(r"\bg\d+\s?p\d+\b")
# "TDR+", "BU -", "ECBU +": the sign is the test's result, not a separator between problems.
_TEST_SIGN = re.compile(r"\b(tdr|bu|ecbu|test|pcr|streptotest|autotest|hcg|serologie|covid|strepto|grippe)\s?([+-])(?=\s|$|[,;.)])")


def fold(text: str) -> str:
    """Lower case, without accents or ligatures; punctuation other than separators -> space."""
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _DECIMAL.sub(r"\1", text)  # "38,5" -> "38": a number, not a separator
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", "") + " ", text)  # "I.N.R." -> "inr"
    text = _ORDINAL.sub(r"\1", text)
    text = _WEEKS_AMENORRHOEA.sub(r"\1 grossesse", text)
    text = _OBSTETRIC_FORMULA.sub(" ", text)
    text = _DURATION.sub(r"\1 \2", text)
    text = _TEST_SIGN.sub(lambda m: m.group(1) + (" positif" if m.group(2) == "+" else " negatif"), text)
    text = _SPACED_DASH.sub(" , ", text)
    return _PUNCT.sub(" ", text)


def stem(token: str) -> str:
    """French plural folding, the same for terms and texts ("douleurs" -> "douleur")."""
    if len(token) > 3 and token[-1] in "sx" and not token.endswith("ss") and not token.isdigit():
        return token[:-1]
    return token


def tsv_pairs(name: str, expected: str) -> list[tuple[int, str, str]]:
    """(line number, left, right) of a two-column data file of ``p4dp.coding.data``; blank and
    ``#`` lines are skipped, a malformed line is an error naming the file and line."""
    rows = []
    text = resources.files(_DATA).joinpath(name).read_text(encoding="utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise ValueError(f"{name} line {lineno}: expected '{expected}', got {line[:60]!r}")
        rows.append((lineno, parts[0], parts[1]))
    return rows


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, tuple[str, ...]]:
    """Word replacements: inflected forms (``word_forms.tsv``, "tousse" -> "toux") and GP
    abbreviations (``abbreviations.tsv``, "hta" -> "hypertension arterielle"), the latter winning."""
    table: dict[str, tuple[str, ...]] = {}
    for name in ("word_forms.tsv", "abbreviations.tsv"):
        for _, word, replacement in tsv_pairs(name, "word<TAB>replacement"):
            table[fold(word).strip()] = tuple(fold(replacement).split())
    return table


@dataclass(frozen=True)
class Normalised:
    """A text in matching space.

    ``clean``: folded text with abbreviations expanded, every word kept (for edsnlp).
    ``tokens``: the words of ``clean`` (separators included as ``","``), stemmed.
    ``keys``: the matching key of each token (``""`` for stopwords; ``","`` for separators).
    ``offsets``: start offset of each token in ``clean``.
    """

    clean: str
    tokens: tuple[str, ...]
    keys: tuple[str, ...]
    offsets: tuple[int, ...]
    cues: bool

    @property
    def key(self) -> str:
        """Cache key: the matching keys (two spellings of one text share it)."""
        return " ".join(k for k in self.keys if k)


def normalise(text: str) -> Normalised:
    """Fold, tokenise and expand abbreviations; ``text`` must have passed :func:`check_text`."""
    abbr = abbreviations()
    words: list[str] = []
    for raw in _TOKEN.findall(fold(text)):
        if raw in SEPARATORS:
            if words and words[-1] != SEP:
                words.append(SEP)
            continue
        expansion = abbr.get(raw)
        if expansion is None and raw.isalnum() and not raw.isdigit():
            expansion = abbr.get(stem(raw))
            if expansion is None and len(raw) > 3 and raw.isalpha():
                # A conjugated verb reaches its noun through its lemma ("palpite" ->
                # "palpiter" -> "palpitation"), only when word_forms.tsv names that lemma.
                lem = french.lemma(raw)
                if lem and lem != raw:
                    expansion = abbr.get(lem)
        words.extend(expansion if expansion else (raw,))
    while words and words[-1] == SEP:
        words.pop()
    while words and words[0] == SEP:
        words.pop(0)
    keys: list[str] = []
    offsets: list[int] = []
    pos = 0
    for w in words:
        offsets.append(pos)
        pos += len(w) + 1
        if w == SEP:
            keys.append(SEP)
        elif w in STOPWORDS or w == "?":
            keys.append("")
        else:
            keys.append(stem(w))
    clean = " ".join(words)
    return Normalised(clean, tuple(words), tuple(keys), tuple(offsets), bool(QUALIFIER_CUES.search(clean)))


def term_keys(term: str) -> tuple[str, ...]:
    """Matching keys of a lexicon term (same path as a text, separators and stopwords dropped)."""
    n = normalise(term)
    return tuple(k for k in n.keys if k and k != SEP)


def content_weight(key: str) -> float:
    """Weight of a token when measuring how much of a text a match explains."""
    if not key or key == SEP or key.isdigit() or key in IGNORABLE or len(key) < 2:
        return 0.0
    return 1.0
