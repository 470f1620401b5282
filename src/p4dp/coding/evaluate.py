"""Evaluation of the coder on a CSV of texts with their gold ICPC-2 code (`p4dp coding evaluate`).

CSV columns: ``text``, ``field`` (motif / resultat / procedure, or reason / result / procedure),
``gold`` (an ICPC-2 code, or ``_`` when no code should be given) and optionally ``acceptable``
(other accepted codes separated by ``|``). A row is right when the coder's code equals gold or
an acceptable code; an abstention (``_``) is right only when gold is ``_``.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from p4dp.coding.coder import NO_CODE, FIELD_ALIASES, code_texts

REQUIRED = ("text", "field", "gold")


class EvaluationFileError(ValueError):
    """The evaluation CSV cannot be used; the message names the file, line and column."""


@dataclass(frozen=True)
class GoldRow:
    line: int
    text: str
    field: str
    gold: str
    acceptable: frozenset[str]


def read_gold(path: str | Path) -> list[GoldRow]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise EvaluationFileError(f"{path}: impossible de lire le fichier ({e.strerror})") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise EvaluationFileError(f"{path}: le fichier n'est pas en UTF-8 (octet {e.start}) ; "
                                  "réenregistrez-le en UTF-8") from None
    sample = content[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(content.splitlines(), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise EvaluationFileError(f"{path} ligne 1 : colonnes manquantes {', '.join(missing)} "
                                  f"(colonnes lues : {', '.join(header) or 'aucune'}) ; attendu "
                                  "text, field, gold et éventuellement acceptable")
    reader.fieldnames = header
    rows = []
    for line, rec in enumerate(reader, 2):
        field = (rec.get("field") or "").strip().lower()
        if field not in FIELD_ALIASES:
            raise EvaluationFileError(f"{path} ligne {line}, colonne field : {field!r} inconnu ; "
                                      "attendu motif, resultat ou procedure")
        gold = (rec.get("gold") or "").strip().upper() or NO_CODE
        acceptable = frozenset(c.strip().upper() for c in (rec.get("acceptable") or "").split("|") if c.strip())
        rows.append(GoldRow(line, rec.get("text") or "", FIELD_ALIASES[field], gold, acceptable))
    return rows


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate_rows(rows: list[GoldRow], min_confidence: float | None = None) -> dict:
    """Figures of the coder on gold rows: n, coverage, accuracy, accuracy_when_coded,
    coverage_of_codable (share of the rows whose gold is a code that got one), per
    chapter (of the gold code; ``_`` for rows whose gold is no code), per field, errors."""
    predicted: dict[int, tuple[str, float, str]] = {}
    by_field: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_field[r.field].append(i)
    for field, idx in by_field.items():
        out = code_texts(pa.array([rows[i].text for i in idx], pa.string()), field, min_confidence)
        for i, c, p, e in zip(idx, out.column("code").to_pylist(), out.column("confidence").to_pylist(),
                              out.column("explanation").to_pylist()):
            predicted[i] = (c or NO_CODE, p or 0.0, e or "")

    def tally(indices: list[int]) -> dict:
        n = len(indices)
        coded = [i for i in indices if predicted[i][0] != NO_CODE]
        right = [i for i in indices if _right(rows[i], predicted[i][0])]
        right_coded = [i for i in coded if _right(rows[i], predicted[i][0])]
        # Coverage counts every row, so a file with rows whose gold is "_" caps it below 1
        # even for a perfect coder; the share of codable rows coded is PRIMEGE's figure ("a
        # code for ~97 % of reasons and diagnoses").
        codable = [i for i in indices if rows[i].gold != NO_CODE]
        codable_coded = [i for i in codable if predicted[i][0] != NO_CODE]
        return {"n": n, "coverage": _rate(len(coded), n), "accuracy": _rate(len(right), n),
                "accuracy_when_coded": _rate(len(right_coded), len(coded)),
                "coverage_of_codable": _rate(len(codable_coded), len(codable))}

    all_idx = list(range(len(rows)))
    chapters: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        chapters[r.gold[0] if r.gold != NO_CODE else NO_CODE].append(i)
    errors = [
        {"line": rows[i].line, "text": rows[i].text, "field": rows[i].field, "gold": rows[i].gold,
         "acceptable": sorted(rows[i].acceptable), "code": predicted[i][0],
         "confidence": predicted[i][1], "explanation": predicted[i][2]}
        for i in all_idx if not _right(rows[i], predicted[i][0])
    ]
    return {
        **tally(all_idx),
        "per_field": {f: tally(idx) for f, idx in sorted(by_field.items())},
        "per_chapter": {c: tally(idx) for c, idx in sorted(chapters.items())},
        "errors": errors,
    }


def _right(row: GoldRow, code: str) -> bool:
    if code == NO_CODE:
        return row.gold == NO_CODE or NO_CODE in row.acceptable
    return code == row.gold or code in row.acceptable


def evaluate_csv(path: str | Path, min_confidence: float | None = None) -> dict:
    return evaluate_rows(read_gold(path), min_confidence)
