"""An intern's portfolio for their validation file: CSV (one row per problem) and PDF.

Both show the current version of each entry in the period, with its status, so that a reader
sees what the supervisor validated and what awaits validation. Each export is audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa

from p4dp.analytics.display import format_date_fr, format_number_fr
from p4dp.governance.audit import Event, record
from p4dp.governance.store import Store
from p4dp.logbook import reference as R
from p4dp.logbook.dashboard import (DEFAULT_PERIOD_DAYS, BaseProfile, Dashboard, _title,
                                    build_dashboard, scope_label)
from p4dp.logbook.frames import Frames, load_frames
from p4dp.logbook.service import Actor, LogbookForbidden

#: French spreadsheets (Excel, LibreOffice with French locale) expect ";" and a UTF-8 BOM.
CSV_DELIMITER = ";"
CSV_ENCODING = "utf-8-sig"

CSV_HEADER = ("N° entrée", "Version", "Statut", "Date", "Interne", "Lieu de stage",
              "Maître de stage", "Âge du patient", "Sexe", "Problème n°",
              "Motif", "Motif CISP-2", "Résultat", "Résultat CISP-2", "Procédure",
              "Procédure CISP-2", "Compétences utilisées", "Analyse et supervision",
              "Commentaire du maître de stage")


@dataclass(frozen=True)
class Portfolio:
    intern: str
    start: date
    end: date
    frames: Frames
    dashboard: Dashboard


def portfolio(store: Store, actor: Actor, *, intern_id: int | None = None,
              start: date | None = None, end: date | None = None,
              base: BaseProfile | None = None, today: date | None = None) -> Portfolio:
    """One intern's entries and dashboard (an intern exports their own; a supervisor or the
    department names the intern)."""
    if intern_id is None:
        if actor.role != "intern":
            raise LogbookForbidden("Choisir l'interne dont exporter le portfolio.")
        intern_id = actor.id
    end = end or today or date.today()
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    frames = load_frames(store, actor, start=start, end=end, intern_id=intern_id)
    label = scope_label(store, actor, intern_id)
    return Portfolio(label, start, end, frames,
                     build_dashboard(frames, start, end, label, base))


def _audit(store: Store, actor: Actor, p: Portfolio, fmt: str) -> None:
    record(store, Event(actor=actor.username, role=actor.role, action="logbook.export",
                        target=f"portfolio:{p.intern}",
                        params={"format": fmt, "start": p.start.isoformat(),
                                "end": p.end.isoformat()},
                        rows=p.frames.entries.num_rows))


def _code_cell(code: str | None) -> str:
    return f"{code} - {_title(code)}" if code else ""


def _by_entry(t: pa.Table) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for r in t.to_pylist():
        out.setdefault(r["entry_id"], []).append(r)
    return out


def _competence_text(c: dict) -> str:
    text = f"{R.competence(c['competence']).label_fr} ({R.LEVEL_LABELS_FR[c['level']]})"
    return f"{text} : {c['justification']}" if c["justification"] else text


def portfolio_csv(store: Store, actor: Actor, **kw) -> bytes:
    """The portfolio as a French spreadsheet: one row per problem, dates dd/mm/yyyy."""
    p = portfolio(store, actor, **kw)
    problems, competences = _by_entry(p.frames.problems), _by_entry(p.frames.competences)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for e in p.frames.entries.to_pylist():
        comps = " | ".join(_competence_text(c) for c in competences.get(e["entry_id"], []))
        for pr in problems.get(e["entry_id"], []):
            w.writerow((e["entry_id"], e["version"], R.STATUS_LABELS_FR[e["status"]],
                        format_date_fr(e["consultation_date"]), e["intern"], e["practice"],
                        e["supervisor"], R.AGE_BAND_LABELS_FR[e["age_band"]],
                        R.SEX_LABELS_FR[e["patient_sex"]], pr["position"],
                        pr["reason_text"], _code_cell(pr["reason_code"]),
                        pr["result_text"], _code_cell(pr["result_code"]),
                        pr["procedure_text"], _code_cell(pr["procedure_code"]),
                        comps, e["analysis"], e["supervisor_comment"] or ""))
    _audit(store, actor, p, "csv")
    return buf.getvalue().encode(CSV_ENCODING)


# ----------------------------------------------------------------------------- PDF

#: The PDF's core fonts are Latin-1; these characters of French text are outside it.
_LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"',
                         "…": "...", "–": "-", "—": "-", "\u202f": " ", "\u2009": " ",
                         "€": "EUR"})


def _pdf_text(text: object) -> str:
    s = str(text or "").translate(_LATIN1)
    return s.encode("latin-1", "replace").decode("latin-1")


def _n(value: int) -> str:
    return _pdf_text(format_number_fr(value))


def portfolio_pdf(store: Store, actor: Actor, **kw) -> bytes:
    """The portfolio as a PDF: summary, competences by level, top results, then each entry."""
    from fpdf import FPDF

    p = portfolio(store, actor, **kw)
    d = p.dashboard
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(_pdf_text(f"Carnet de consultation - {p.intern}"))
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: float = 10, style: str = "", h: float = 5) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, h, _pdf_text(text), new_x="LMARGIN", new_y="NEXT")

    line("Carnet de consultation - portfolio", 16, "B", 8)
    line(f"Interne : {p.intern}", 11, "B")
    line(f"Période : du {format_date_fr(p.start)} au {format_date_fr(p.end)} - "
         f"édité le {format_date_fr(date.today())}")
    pdf.ln(3)
    share = "" if d.share_validated is None else (
        f" ({_pdf_text(format_number_fr(d.share_validated, 1))} %)")
    line(f"Consultations : {_n(d.n_entries)} - problèmes : {_n(d.n_problems)} - validées par "
         f"le maître de stage : {_n(d.n_validated)}{share}")
    pdf.ln(2)
    line("Compétences utilisées", 12, "B", 7)
    with pdf.table(col_widths=(70, 20, 20, 25, 20), text_align=("LEFT", "RIGHT", "RIGHT",
                                                                "RIGHT", "RIGHT")) as t:
        t.row(["Compétence", "Novice", "Interm.", "Compétent", "Total"])
        for r in d.competences.to_pylist():
            t.row([_pdf_text(r["label_fr"]), _n(r["novice"]), _n(r["intermediaire"]),
                   _n(r["competent"]), _n(r["n"])])
    pdf.ln(2)
    line("Résultats de consultation les plus fréquents", 12, "B", 7)
    for r in d.top["result"].to_pylist():
        line(f"{r['code']} - {r['title_fr']} : {_n(r['n'])}")
    if d.not_met:
        pdf.ln(2)
        line("Pas encore rencontré (par rapport à l'ensemble de la base)", 12, "B", 7)
        line(", ".join(d.not_met))
    problems, competences = _by_entry(p.frames.problems), _by_entry(p.frames.competences)
    for e in p.frames.entries.to_pylist():
        pdf.ln(3)
        line(f"Consultation du {format_date_fr(e['consultation_date'])} - entrée n° "
             f"{e['entry_id']}, version {e['version']} ({R.STATUS_LABELS_FR[e['status']]})",
             11, "B", 6)
        line(f"Lieu de stage : {e['practice']} - maître de stage : {e['supervisor']} - patient : "
             f"{R.SEX_LABELS_FR[e['patient_sex']]}, {R.AGE_BAND_LABELS_FR[e['age_band']]}", 9)
        for pr in problems.get(e["entry_id"], []):
            parts = [f"{R.FIELD_LABELS_FR[f]} : {pr[f + '_text']}"
                     + (f" [{_code_cell(pr[f + '_code'])}]" if pr[f + "_code"] else "")
                     for f in R.FIELDS if pr[f + "_text"] or pr[f + "_code"]]
            line(f"Problème n°{pr['position']} - " + " ; ".join(parts), 9)
        for c in competences.get(e["entry_id"], []):
            line(f"Compétence n°{c['position']} : {_competence_text(c)}", 9)
        if e["analysis"]:
            line(f"Analyse et supervision : {e['analysis']}", 9)
        if e["supervisor_comment"]:
            line(f"Commentaire du maître de stage : {e['supervisor_comment']}", 9, "I")
    _audit(store, actor, p, "pdf")
    return bytes(pdf.output())
