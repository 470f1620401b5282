"""Recruitment lists: a GP sees *their own* patients who match, with the facts that made them
match — pseudonyms only. The practice-side tool (`p4dp agent reidentify --source S PSEUDONYMS`)
turns those pseudonyms back into local record ids with the practice's map, which never leaves
the practice: re-identification happens there and nowhere else.

"Their own" patients are those the analytics scope gives a GP (`Warehouse.patients_of`): the
patients who declare them as treating GP or had an encounter with them. Anyone else — another
GP, a researcher — is refused before any query runs.
"""

from __future__ import annotations

import datetime as dt

from p4dp.analytics.compile import Warehouse
from p4dp.cohorts.compile import Context, cohort_members, compile_rule, index_date_of
from p4dp.cohorts.criteria import Cohort
from p4dp.cohorts.feasibility import Answer
from p4dp.cohorts.labels import fact_fr, rule_label_fr
from p4dp.privacy.disclosure import DisclosureRefused, Requester, sees_exact


def recruitment_list(wh: Warehouse, cohort: Cohort, requester: Requester, practitioner_id: str,
                     index_date: dt.date | None = None) -> Answer:
    """The matching patients of GP `practitioner_id`, for that GP only.

    Rows: patient pseudonym, age at the index date, sex, then one French fact per rule."""
    scope = {"kind": "practitioner", "value": practitioner_id}
    if not sees_exact(requester, scope):
        raise DisclosureRefused(
            "la liste des patients éligibles n'est accessible qu'à leur médecin (rôle gp, "
            "--practitioner = son propre pseudonyme)")
    index = index_date_of(cohort, index_date)
    ctx = Context(wh, index)
    t = cohort_members(wh, cohort, index).semi_join(wh.patients_of(practitioner_id),
                                                    "patient_id")
    t = t.select("patient_id", "age", "sex")
    for i, rule in enumerate(cohort.rules):
        f = compile_rule(ctx, rule, f"/rules/{i}")
        f = f.select("patient_id", **{f"r{i}_{c}": f[c] for c in f.columns if c != "patient_id"})
        t = t.left_join(f, "patient_id").drop("patient_id_right")
    # every rule's table has one row per patient, so the joins keep one row per patient
    rows = wh.backend.to_pyarrow(t.order_by("patient_id")).to_pylist()
    out = []
    for r in rows:
        facts = [fact_fr(rule, r[f"r{i}_n"], r[f"r{i}_last_date"], r[f"r{i}_value"],
                         r[f"r{i}_detail"]) for i, rule in enumerate(cohort.rules)]
        out.append([r["patient_id"], r["age"], r["sex"], *facts])
    columns = [{"name": "patient_id", "label_fr": "Patient"},
               {"name": "age", "label_fr": "Âge"}, {"name": "sex", "label_fr": "Sexe"},
               *[{"name": f"rule_{i}", "label_fr": rule_label_fr(rule)}
                 for i, rule in enumerate(cohort.rules)]]
    payload = {
        "cohort": cohort.name, "title_fr": cohort.title_fr, "version": cohort.version,
        "definition_hash": cohort.semantic_hash(), "index_date": index.isoformat(),
        "practitioner": practitioner_id, "kind": "line_list", "columns": columns, "rows": out,
        "disclosure": {"applied": False, "role": requester.role,
                       "reason": "médecin traitant : ses propres patients"},
    }
    audit = {"action": "cohort.list", "user": practitioner_id, "role": requester.role,
             "cohort": cohort.name, "cohort_version": cohort.version,
             "definition_hash": cohort.semantic_hash(), "index_date": index.isoformat(),
             "rows_returned": len(out), "cells_returned": len(out) * len(columns)}
    return Answer(payload, audit)
