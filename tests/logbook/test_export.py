"""Portfolio exports: CSV rows per problem in French conventions, a PDF holding every entry."""

from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import date

import pytest
from logbook_helpers import TODAY, entry

from p4dp.governance import audit
from p4dp.logbook import service as S
from p4dp.logbook.export import CSV_HEADER, portfolio_csv, portfolio_pdf
from p4dp.logbook.service import CompetenceInput, ProblemInput

PERIOD = {"start": date(2026, 1, 1), "end": date(2026, 12, 31)}


def _pdf_text(data: bytes) -> str:
    """The text drawn on the pages (fpdf2 deflates each content stream)."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            continue
    return "".join(out)


@pytest.fixture
def filled(store, net):
    two = entry(when=date(2026, 3, 4), problems=(
        ProblemInput("toux", "R05", "bronchite aiguë", "R78", "examen pulmonaire", "R31"),
        ProblemInput(result_text="HTA équilibrée", result_code="K86")),
        competences=(CompetenceInput("continuite", "intermediaire", "suivi de l’HTA"),
                     CompetenceInput("relation", "novice")))
    a = S.create_entry(store, net["int.a"], entry(), submit=True, today=TODAY)
    S.review_entry(store, net["sup.a"], a.id, "Très bien ; cœur du métier.")
    S.create_entry(store, net["int.a"], two, today=TODAY)
    S.create_entry(store, net["int.b"], entry(), today=TODAY)
    return net


def test_csv_has_one_row_per_problem_in_french_conventions(store, filled):
    data = portfolio_csv(store, filled["int.a"], **PERIOD)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert tuple(rows[0]) == CSV_HEADER and len(rows) == 1 + 3
    assert [r[3] for r in rows[1:]] == ["04/03/2026", "04/03/2026", "02/11/2026"]  # by date
    first = dict(zip(rows[0], rows[3]))
    assert first["Date"] == "02/11/2026" and first["Statut"] == "Validée"
    assert first["Résultat CISP-2"] == "R76 - Angine aiguë"
    assert first["Compétences utilisées"] == ("Premier recours, urgences (Novice) : Première "
                                              "angine seule")
    assert first["Commentaire du maître de stage"] == "Très bien ; cœur du métier."
    assert [r[rows[0].index("Problème n°")] for r in rows[1:]] == ["1", "2", "1"]
    assert {r[rows[0].index("Interne")] for r in rows[1:]} == {"Interne A"}


def test_pdf_holds_the_summary_and_every_entry(store, filled):
    data = portfolio_pdf(store, filled["sup.a"], intern_id=filled["int.a"].id, **PERIOD)
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    for expected in ("Interne A", "Consultation du 02/11/2026", "Consultation du 04/03/2026",
                     "R78 - Bronchite aigu\xeb, bronchiolite", "suivi de l'HTA",
                     "coeur du m\xe9tier", "Valid\xe9e", "Brouillon"):
        assert expected in text, expected
    assert "Interne B" not in text


def test_exports_are_audited_and_scoped(store, filled):
    before = audit.verify(store).entries
    portfolio_csv(store, filled["dmg.nice"], intern_id=filled["int.b"].id, **PERIOD)
    assert audit.verify(store).entries == before + 1
    with pytest.raises(S.EntryNotFound):
        portfolio_csv(store, filled["int.a"], intern_id=filled["int.b"].id, **PERIOD)
    with pytest.raises(S.EntryNotFound):
        portfolio_pdf(store, filled["dmg.rouen"], intern_id=filled["int.a"].id, **PERIOD)
    with pytest.raises(S.LogbookForbidden, match="Choisir l'interne"):
        portfolio_csv(store, filled["sup.a"], **PERIOD)
