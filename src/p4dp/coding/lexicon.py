"""The French lexicon of GP expressions -> ICPC-2, loaded from the data files once per process.

Files (``p4dp/coding/data``): ``lexicon/*.tsv`` (``CODE<TAB>term|term|...``; ``-NN`` process
codes take the chapter of the problem named beside them), ``sites.tsv`` (body sites whose
complaints are generated from :data:`SITE_TEMPLATES`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from p4dp.coding import icpc
from p4dp.coding.normalise import term_keys

_DATA = "p4dp.coding.data"
#: A term made only of negation words would match every negated text.
_NEGATION_KEYS = frozenset({"pa", "san", "absence", "aucun", "aucune", "non", "ni"})

#: How a GP names a complaint of a body site: "douleur genou", "mal au genou", "genou
#: douloureux", "gonflement du genou" ... ({} is the site).
SITE_TEMPLATES = (
    "douleur {}", "douleurs {}", "mal {}", "mal au {}", "mal aux {}", "{} douloureux",
    "{} douloureuse", "{} douloureuses", "algie {}", "gene {}", "douleur au niveau {}",
    "sensation douleur {}", "probleme {}", "symptome {}", "plainte {}", "souffrance {}",
)


@dataclass(frozen=True)
class Entry:
    """One lexicon term: its matching keys, the code (``-NN`` for a chapter-less process code)."""

    keys: frozenset[str]
    length: int
    code: str
    term: str
    source: str

    @property
    def component(self) -> str:
        return icpc.component(self.code)


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[Entry, ...]
    index: dict[str, tuple[int, ...]]  # key -> entry ids containing it
    vocabulary: frozenset[str]

    def __len__(self) -> int:
        return len(self.entries)


def _check_code(code: str, where: str) -> None:
    probe = "A" + code[1:] if code.startswith("-") else code
    if not icpc.is_valid(probe):
        raise ValueError(f"{where}: {code!r} is not an ICPC-2 code; fix the lexicon line")


def _read_tsv(name: str) -> list[tuple[str, list[str], str]]:
    rows = []
    text = resources.files(_DATA).joinpath(name).read_text(encoding="utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise ValueError(f"{name} line {lineno}: expected 'CODE<TAB>term|term', got {line[:60]!r}")
        code = parts[0].strip()
        _check_code(code, f"{name} line {lineno}")
        rows.append((code, [t.strip() for t in parts[1].split("|") if t.strip()], f"{name}:{lineno}"))
    return rows


def lexicon_files() -> list[str]:
    folder = resources.files(_DATA).joinpath("lexicon")
    return sorted(f"lexicon/{p.name}" for p in folder.iterdir() if p.name.endswith(".tsv"))


def raw_terms() -> list[tuple[str, str, str]]:
    """Every (code, term, source) of the data files, site templates expanded."""
    out: list[tuple[str, str, str]] = []
    for name in lexicon_files():
        for code, terms, where in _read_tsv(name):
            out.extend((code, t, where) for t in terms)
    for code, sites, where in _read_tsv("sites.tsv"):
        for site in sites:
            out.extend((code, tpl.format(site), where) for tpl in SITE_TEMPLATES)
    return out


@lru_cache(maxsize=1)
def load() -> Lexicon:
    """Build the lexicon index. Duplicate (keys, code) pairs are merged; a term listed under
    two codes is kept under both (the field decides, e.g. a drug name is a prescription in the
    procedure field)."""
    seen: dict[tuple[frozenset[str], str], int] = {}
    entries: list[Entry] = []
    for code, term, where in raw_terms():
        keys = term_keys(term)
        if not keys or set(keys) <= _NEGATION_KEYS:
            continue
        kset = frozenset(keys)
        if (kset, code) in seen:
            continue
        seen[(kset, code)] = len(entries)
        entries.append(Entry(kset, len(kset), code, term, where))
    index: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(entries):
        for k in e.keys:
            index[k].append(i)
    frozen = {k: tuple(v) for k, v in index.items()}
    return Lexicon(tuple(entries), frozen, frozenset(frozen))
