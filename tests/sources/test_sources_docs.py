"""The format pages document every vendor name the code uses (a stale page fails)."""

from __future__ import annotations

import re
from pathlib import Path

from p4dp.sources import csv_fr, fhir, jsonl

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats"


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_csv_fr_page_lists_every_file_header_and_code():
    page = _page("csv-fr.md")
    for filename, columns in csv_fr.FILES.values():
        assert f"`{filename}`" in page
        for header, _, _ in columns:
            assert f"| {header} |" in page, header
    for header, _, _ in csv_fr.BIOMETRIC_COLUMNS:
        assert f"| {header} |" in page, header
    for mapping in csv_fr.CODES.values():
        for code in mapping.values():
            assert f"`{code}`" in page, code


def test_jsonl_page_lists_every_code():
    page = _page("jsonl.md")
    for mapping in jsonl.CODES.values():
        for code in mapping.values():
            assert f"`{code}`" in page, code


def test_fhir_page_lists_every_system_and_vital_sign_code():
    page = _page("fhir.md")
    for system in (fhir.NIR_SYSTEM, fhir.RPPS_SYSTEM, fhir.ICPC2, fhir.ATC, fhir.CIS):
        assert f"`{system}`" in page, system
    for loinc, _, _ in fhir.VITALS.values():
        assert f"`{loinc}`" in page, loinc


def test_index_lists_every_reader_check():
    page = _page("index.md")
    sources = "".join(p.read_text("utf-8") for p in
                      (Path(csv_fr.__file__).parent).glob("*.py"))
    for check in set(re.findall(r'"(reader\.[a-z_]+)"', sources)):
        assert f"`{check}`" in page, check
