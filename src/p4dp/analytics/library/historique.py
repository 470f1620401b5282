"""Historique — tobacco, alcohol and drug use recorded in the patients' history (the seed's
*Historique* tab: yes/no by age band 0–15, 16–60, 60+; top history labels)."""

from __future__ import annotations

import ibis.expr.types as ir

from p4dp.analytics import portable as P
from p4dp.analytics.compile import Warehouse, alive_patients, reference_date
from p4dp.analytics.library import frames as F
from p4dp.analytics.model import Dim, Frame, Indicator, Measure, Period

THEME = "historique"
#: History kinds of the dashboard and the status that counts as a current mention.
SUBSTANCES = ("tobacco", "alcohol", "drugs")
CURRENT = "yes"
SOURCE = "Séminaire P4DP, onglet Historique (DOMAIN.md §1)"


def latest_history_status(wh: Warehouse, on: ir.DateValue) -> ir.Table:
    """Per patient and substance, the status of the latest history item recorded by `on`
    (undated items count, after any dated one)."""
    h = wh.table("history")
    h = h.filter(h.kind.isin(SUBSTANCES) & (h.date.isnull() | (h.date <= on)))
    last = P.latest_per_patient(h, ["date"], ["history_id"], by=("patient_id", "kind"))
    return last.group_by("patient_id").aggregate(
        **{s: ((last.kind == s) & (last.status == CURRENT)).any() for s in SUBSTANCES},
        documented=last.count())


def substance_use(wh: Warehouse, period: Period) -> ir.Table:
    ref = reference_date(period)
    pats = alive_patients(wh, ref).select("patient_id")
    st = latest_history_status(wh, ref)
    t = pats.left_join(st, "patient_id")
    return t.select("patient_id", date=ref,
                    documented=t.documented.fill_null(0) > 0,
                    **{s: t[s].fill_null(False) for s in SUBSTANCES})


SUBSTANCE_USE = Frame(
    "substance_use",
    "One row per living patient at the reference date (end of the date range, else today): "
    "whether their latest tobacco / alcohol / drug history item says current use.",
    substance_use,
)


def _labels(wh: Warehouse, period: Period) -> ir.Table:
    t = F.HISTORY.build(wh, period)
    return t.mutate(label_norm=t.label.strip().lower())


HISTORY_LABELS = Frame("history_labels", "History items with their label lower-cased and "
                       "trimmed.", _labels)

INDICATORS = (
    Indicator(
        name="historique_substance_use", theme=THEME,
        title_fr="Tabac, alcool, drogues : mention dans l'historique",
        description="Share of patients whose history mentions current tobacco, alcohol or drug "
                    "use, by age band (0-15, 16-60, 60 et plus) and sex.",
        rule="Per patient and substance, the latest history item (by date, then id) recorded by "
             "the reference date; a mention = status `yes`. Denominator: every living patient of "
             "the scope (those with no history item count as no mention).",
        source=SOURCE, frame=SUBSTANCE_USE, by=(Dim.AGE_BAND, Dim.SEX),
        measures=(Measure("patients", "Nombre de Patients", "patients"),
                  Measure("documented", "Nombre de patients ayant un historique", "patients",
                          where="documented"),
                  Measure("tobacco", 'NB de Patients Ayant la Mention "Tabagisme"', "patients",
                          where="tobacco"),
                  Measure("alcohol", 'NB de Patients Ayant la Mention "Alcoolisme"', "patients",
                          where="alcohol"),
                  Measure("drugs", 'NB de Patients Ayant la Mention "Toxicomanie"', "patients",
                          where="drugs"),
                  Measure("pct_tobacco", "% tabac", "share", numerator="tobacco",
                          denominator="patients"),
                  Measure("pct_alcohol", "% alcool", "share", numerator="alcohol",
                          denominator="patients"),
                  Measure("pct_drugs", "% drogues", "share", numerator="drugs",
                          denominator="patients"))),
    Indicator(
        name="historique_top_labels", theme=THEME, title_fr="Top des « libellés » historiques",
        description="The 20 most frequent history labels (lower-cased, trimmed).",
        rule="History items in the date range grouped by kind and label, ranked by count.",
        source=SOURCE, frame=HISTORY_LABELS, by=("kind", "label_norm"), top=20, rank_by="n",
        measures=(Measure("n", 'Nombre de "Historique"', "count"),
                  Measure("patients", "Nombre de Patients", "patients")),
        column_labels_fr=(("kind", "Type"), ("label_norm", "Libellé"))),
)
