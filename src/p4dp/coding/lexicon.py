"""The French lexicon of GP expressions -> ICPC-2, loaded from the data files once per process.

Files (``p4dp/coding/data``): ``lexicon/*.tsv`` (``CODE<TAB>term|term|...``; ``-NN`` process
codes take the chapter of the problem named beside them; ``-NN/S`` ones take ``S`` when the text
names no problem: "suture" is S54, "suture plaie main" too), ``sites.tsv`` (body sites whose
complaints are generated from :data:`SITE_TEMPLATES`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from p4dp.coding import icpc
from p4dp.coding.normalise import term_keys, tsv_pairs

_DATA = "p4dp.coding.data"
#: A term made only of negation words would match every negated text.
_NEGATION_KEYS = frozenset({"pa", "san", "absence", "aucun", "aucune", "non", "ni"})
#: Chapter Z (social problems) names no body system: an administrative act or a referral
#: about a social problem ("dossier MDPH", "certificat coups et blessures", "assistante
#: sociale") keeps the letter A (evaluation convention 2: the letter is the body system named,
#: else A). ICPC-2 -62 "Administrative", -66 "Referral to ... social worker", -68 "Other
#: referral".
SOCIAL = "Z"
ADMINISTRATIVE = frozenset({62, 66, 68})

#: How a GP names a complaint of a body site: "douleur genou", "mal au genou", "genou
#: douloureux", "gonflement du genou" ... ({} is the site).
SITE_TEMPLATES = (
    "douleur {}", "douleurs {}", "mal {}", "mal au {}", "mal aux {}", "{} douloureux",
    "{} douloureuse", "{} douloureuses", "algie {}", "gene {}", "douleur au niveau {}",
    "sensation douleur {}", "probleme {}", "symptome {}", "plainte {}", "souffrance {}",
    "raideur {}", "gonflement {}", "{} gonfle", "{} gonflee", "{} enfle", "{} enflee",
    "blocage {}", "{} bloque", "{} bloquee",
)


@dataclass(frozen=True)
class Entry:
    """One lexicon term: its matching keys, the code (``-NN`` for a chapter-less process code)."""

    keys: frozenset[str]
    length: int
    code: str
    term: str
    source: str
    rank: int = 0  # position in the data files: earlier lines win ties
    weak: bool = False  # generic term ("chute", a drug name): yields to any other term
    #: Chapter letter of a ``-NN`` act whose technique names its body system ("suture" S,
    #: "infiltration" L, "sonde urinaire" U), used when the text names no problem; "" if none.
    letter: str = ""

    @property
    def component(self) -> str:
        return icpc.component(self.code)


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[Entry, ...]
    index: dict[str, tuple[int, ...]]  # key -> ids of the entries whose rarest key it is
    vocabulary: frozenset[str]

    def __len__(self) -> int:
        return len(self.entries)


def split_letter(code: str) -> tuple[str, str]:
    """``-54/S`` -> (``-54``, ``S``): a chapter-less act and its body system by default."""
    code, _, letter = code.partition("/")
    return code, letter


def _check_code(code: str, where: str) -> None:
    code, letter = split_letter(code)
    probe = "A" + code[1:] if code.startswith("-") else code
    if (letter and (not code.startswith("-") or letter not in icpc.CHAPTERS)) or not icpc.is_valid(probe):
        raise ValueError(f"{where}: {code!r} is not an ICPC-2 code; fix the lexicon line")


def _read_tsv(name: str) -> list[tuple[str, list[str], str]]:
    rows = []
    for lineno, code, terms in tsv_pairs(name, "CODE<TAB>term|term"):
        code = code.strip()
        _check_code(code.lstrip("~"), f"{name} line {lineno}")
        rows.append((code, [t.strip() for t in terms.split("|") if t.strip()], f"{name}:{lineno}"))
    return rows


def lexicon_files() -> list[str]:
    folder = resources.files(_DATA).joinpath("lexicon")
    return sorted(f"lexicon/{p.name}" for p in folder.iterdir() if p.name.endswith(".tsv"))


def raw_terms() -> list[tuple[str, str, str]]:
    """Every (code, term, source) of the data files, site templates expanded; a code marked
    ``~`` is a weak term (see :class:`Entry`)."""
    out: list[tuple[str, str, str]] = []
    for name in lexicon_files():
        for code, terms, where in _read_tsv(name):
            out.extend((code, t, where) for t in terms)
    for code, sites, where in _read_tsv("sites.tsv"):
        for site in sites:
            out.extend((code, tpl.format(site), where) for tpl in SITE_TEMPLATES)
    return out


@lru_cache(maxsize=1)
def atc_chapters() -> dict[str, str]:
    """ATC class prefix -> ICPC-2 chapter letter of its prescription (atc_chapters.tsv)."""
    out: dict[str, str] = {}
    for lineno, prefix, letter in tsv_pairs("atc_chapters.tsv", "ATC prefix<TAB>chapter letter"):
        if letter.strip() not in icpc.CHAPTERS:
            raise ValueError(f"atc_chapters.tsv line {lineno}: {letter!r} is not an ICPC-2 chapter")
        out[prefix.strip()] = letter.strip()
    return out


def atc_chapter(atc: str) -> str | None:
    """Chapter letter of a drug's ATC code by its longest listed prefix ("C10AA05" T)."""
    table = atc_chapters()
    return next((table[atc[:n]] for n in range(len(atc), 0, -1) if atc[:n] in table), None)


#: Site words too ambiguous to name the body system of an act: "de face" (a radiograph's
#: projection), "index" (a list), "front", "côte" (also "côté" without its accent).
_AMBIGUOUS_SITES = frozenset({"face", "index", "front", "cote", "cotes"})


@lru_cache(maxsize=1)
def site_letters() -> dict[str, str]:
    """Matching key of a one-word body site -> the chapter of its complaint code (sites.tsv):
    the body system of an act that names no problem ("rééducation de l'épaule" L57)."""
    out: dict[str, str] = {}
    for code, sites, _ in _read_tsv("sites.tsv"):
        for site in sites:
            keys = term_keys(site)
            if len(keys) == 1 and site not in _AMBIGUOUS_SITES:
                out.setdefault(keys[0], code[0])
    return out


@lru_cache(maxsize=1)
def specialties() -> dict[str, str]:
    """Matching key of a specialist's name -> the chapter letter it covers (specialties.tsv)."""
    from p4dp.coding.normalise import stem

    out: dict[str, str] = {}
    text = resources.files(_DATA).joinpath("specialties.tsv").read_text(encoding="utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or parts[1].strip() not in icpc.CHAPTERS:
            raise ValueError(f"specialties.tsv line {lineno}: expected 'word<TAB>chapter letter'")
        for key in term_keys(parts[0]) or (stem(parts[0].strip()),):
            out.setdefault(key, parts[1].strip())
    return out


@lru_cache(maxsize=1)
def combinations() -> dict[tuple[str, str], str]:
    """(main code, other code named in the same text) -> more precise code (combinations.tsv)."""
    out: dict[tuple[str, str], str] = {}
    text = resources.files(_DATA).joinpath("combinations.tsv").read_text(encoding="utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"combinations.tsv line {lineno}: expected 'main<TAB>other<TAB>result'")
        for c in parts:
            _check_code(c, f"combinations.tsv line {lineno}")
        out[(parts[0], parts[1])] = parts[2]
    return out


@lru_cache(maxsize=1)
def load() -> Lexicon:
    """Build the lexicon index. Duplicate (keys, code) pairs are merged; a term listed under
    two codes is kept under both (the field decides, e.g. a drug name is a prescription in the
    procedure field)."""
    seen: dict[tuple[frozenset[str], str], int] = {}
    entries: list[Entry] = []
    for marked, term, where in raw_terms():
        (code, letter), weak = split_letter(marked.lstrip("~")), marked.startswith("~")
        keys = term_keys(term)
        if not keys or set(keys) <= _NEGATION_KEYS:
            continue
        kset = frozenset(keys)
        if (kset, code) in seen:
            continue
        seen[(kset, code)] = len(entries)
        entries.append(Entry(kset, len(kset), code, term, where, weak=weak, letter=letter))
    # A chapter-less process term that is also a problem term takes that problem's chapter:
    # "renouvellement pilule" is W50 whatever else the text says.
    problem_chapter: dict[frozenset[str], str] = {}
    for e in entries:
        if not e.code.startswith("-") and icpc.component(e.code) != "process":
            problem_chapter.setdefault(e.keys, e.code[0])

    def chaptered(e: Entry) -> str:
        if not e.code.startswith("-"):
            return e.code
        letter = problem_chapter.get(e.keys)
        if letter is None or (letter == SOCIAL and icpc.number(e.code) in ADMINISTRATIVE):
            return e.code
        return letter + e.code[1:]

    entries = [Entry(e.keys, e.length, chaptered(e), e.term, e.source, i, e.weak, e.letter)
               for i, e in enumerate(entries)]
    # Each entry is indexed under its rarest word only: a text holds all the words of an entry
    # it matches, so the rarest one finds it, and common words ("douleur", in hundreds of
    # entries) no longer make every entry a candidate to test.
    frequency: dict[str, int] = defaultdict(int)
    for e in entries:
        for k in e.keys:
            frequency[k] += 1
    index: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(entries):
        index[min(e.keys, key=lambda k: (frequency[k], k))].append(i)
    frozen = {k: tuple(v) for k, v in index.items()}
    return Lexicon(tuple(entries), frozen, frozenset(frequency))
