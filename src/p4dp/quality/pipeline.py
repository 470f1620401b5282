"""`check_batch`: run the registry over one batch, repair what a named rule can, quarantine the rest."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from p4dp.cdm import CLINICAL_TABLES, table as cdm_table
from p4dp.quality.conform import conform
from p4dp.quality.constants import MAX_EXAMPLES
from p4dp.quality.frame import Patients, col, to_days
from p4dp.quality.model import Action, Check, Context, Level, Repair
from p4dp.quality.registry import steps_for

REPORT_FORMAT_VERSION = 1
DUPLICATE_CHECK_PREFIXES = ("conformance.duplicate_id.", "plausibility.duplicate_row.")


@dataclass
class QualityOutcome:
    #: Clean rows (repaired where a rule applied), exact central schema, per input table.
    tables: dict[str, pa.Table]
    #: Rejected rows, schema of the CDM `quarantine` table.
    quarantine: pa.Table
    #: JSON-able report (see docs/quality.md).
    report: dict
    repaired_count: int
    quarantined_count: int


def check_batch(tables: dict[str, pa.Table], *, as_of: dt.date, batch_id: str,
                source_id: str) -> QualityOutcome:
    """Check, repair and split one batch of central-layer tables.

    `tables` maps CDM table names to Arrow tables in (or castable to) the central schema; the
    `patient` table should be present, since ages and sexes drive the children's checks.
    """
    known = {t.name for t in CLINICAL_TABLES}
    unknown = sorted(set(tables) - known)
    if unknown:
        raise ValueError(
            f"lot {batch_id} : table(s) inconnue(s) {', '.join(unknown)} ; tables attendues : "
            f"{', '.join(sorted(known))}. Retirez-les du lot ou corrigez leur nom.")
    ctx = Context(batch_id=batch_id, source_id=source_id, as_of_days=to_days(as_of),
                  patients=Patients.empty())
    clean: dict[str, pa.Table] = {}
    stats: dict[str, dict] = {}
    rejected: list[tuple[Check, pa.Table]] = []
    by_table: dict[str, dict] = {}
    repairs_run: dict[str, Repair] = {}
    for spec in CLINICAL_TABLES:
        name = spec.name
        if name not in tables:
            continue
        conformed = conform(name, tables[name], batch_id)
        ctx.conformed[name] = conformed
        t = conformed.table
        rows_in = t.num_rows
        for step in steps_for(name):
            if isinstance(step, Repair):
                t, _ = step.apply(ctx, t)
                repairs_run.setdefault(step.rule, step)
                continue
            result = step.evaluate(ctx, t)
            if isinstance(result, tuple):
                violating, n_viol, n_checked = result
            else:
                violating = np.asarray(result, dtype=bool)
                n_viol, n_checked = int(violating.sum()), t.num_rows
            stats[step.id] = _stat(step, t, violating, n_viol, n_checked)
            if step.level is Level.TABLE and conformed.unexpected and ".columns." in step.id:
                stats[step.id]["examples"] = [{"row_key": None, "field": c, "value": None}
                                              for c in conformed.unexpected[:MAX_EXAMPLES]]
            if step.action is Action.QUARANTINE and violating.any():
                rejected.append((step, t.filter(pa.array(violating))))
                t = t.filter(pa.array(~violating))
                for masks in (conformed.bad_type, conformed.bad_date):
                    for column in masks:
                        masks[column] = masks[column][~violating]
        if name == "patient":
            ctx.patients = Patients.from_table(t)
        clean[name] = t
        by_table[name] = {"rows_in": rows_in, "rows_loaded": t.num_rows,
                          "rows_quarantined": rows_in - t.num_rows,
                          "rows_repaired": _repaired_rows(t)}
    quarantine = _quarantine(rejected, ctx)
    repair_counts = _repair_counts(clean)
    repaired = sum(v["rows_repaired"] for v in by_table.values())
    report = _report(ctx, as_of, stats, by_table, repair_counts, repairs_run, rejected)
    return QualityOutcome(clean, quarantine, report, repaired, quarantine.num_rows)


# --- report pieces ----------------------------------------------------------------------------------

def _jsonable(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _stat(check: Check, t: pa.Table, violating: np.ndarray, n_viol: int, n_checked: int) -> dict:
    pct = 100.0 * n_viol / n_checked if n_checked else 0.0
    examples = []
    if violating.any():
        spec = cdm_table(check.table)
        key = spec.primary_key[0]
        shown = check.example_field or check.field or key
        idx = pa.array(np.nonzero(violating)[0][:MAX_EXAMPLES])
        sample = t.take(idx)
        keys = sample.column(key).to_pylist()
        values = sample.column(shown).to_pylist()
        patients = (sample.column(spec.patient_column).to_pylist() if spec.patient_column
                    else [None] * len(keys))
        extra = {}
        if check.table == "biometric":
            extra = {"kind": sample.column("kind").to_pylist()}
        for i, (k, v, p) in enumerate(zip(keys, values, patients)):
            ex = {"row_key": k, "field": shown, "value": _jsonable(v)}
            if p is not None:
                ex["patient_id"] = p
            for name, vals in extra.items():
                ex[name] = vals[i]
            examples.append(ex)
    return {
        "table": check.table, "field": check.field, "category": check.category.value,
        "level": check.level.value, "action": check.action.value, "threshold": check.threshold,
        "rows_checked": int(n_checked), "violations": int(n_viol), "pct": round(pct, 4),
        "passed": bool(pct <= check.threshold), "description_fr": check.description_fr,
        "description_en": check.description_en, "source": check.source, "examples": examples,
    }


def _repaired_rows(t: pa.Table) -> int:
    if "repair_rule" not in t.column_names:
        return 0
    return int(pc.sum(pc.is_valid(col(t, "repair_rule"))).as_py() or 0)


def _repair_counts(clean: dict[str, pa.Table]) -> Counter:
    counts: Counter = Counter()
    for t in clean.values():
        if "repair_rule" not in t.column_names or t.num_rows == 0:
            continue
        rules = pc.drop_null(col(t, "repair_rule"))
        if len(rules) == 0:
            continue
        flat = pc.list_flatten(pc.split_pattern(rules, ";"))
        for item in pc.value_counts(flat).to_pylist():
            counts[item["values"]] += item["counts"]
    return counts


def _report(ctx: Context, as_of: dt.date, stats: dict, by_table: dict, repair_counts: Counter,
            repairs_run: dict[str, Repair], rejected: list) -> dict:
    repairs = {}
    for rule, r in repairs_run.items():
        repairs[rule] = {"rows": int(repair_counts.get(rule, 0)), "description_fr": r.description_fr,
                         "description_en": r.description_en, "source": r.source}
    for rule, n in sorted(repair_counts.items()):
        if rule not in repairs:
            repairs[rule] = {
                "rows": int(n),
                "description_fr": "Règle appliquée avant le contrôle qualité (codage, conversion "
                                  "d'unité), lue dans repair_rule",
                "description_en": "Rule applied before the quality step (coding, unit "
                                  "conversion), read from repair_rule",
                "source": "p4dp.coding (upstream step)"}
    dup = sum(part.num_rows for check, part in rejected if check.id.startswith(
        DUPLICATE_CHECK_PREFIXES))
    repairs["duplicate_removed"] = {
        "rows": int(dup),
        "description_fr": "Doublon retiré : une ligne gardée, les autres en quarantaine",
        "description_en": "Duplicate removed: one row kept, the others quarantined",
        "source": "DOMAIN.md §5 (duplicated exports)"}
    failed = sorted(k for k, v in stats.items() if not v["passed"])
    summary = {
        "rows_in": sum(v["rows_in"] for v in by_table.values()),
        "rows_loaded": sum(v["rows_loaded"] for v in by_table.values()),
        "rows_repaired": sum(v["rows_repaired"] for v in by_table.values()),
        "rows_quarantined": sum(v["rows_quarantined"] for v in by_table.values()),
        "checks_run": len(stats), "checks_passed": len(stats) - len(failed),
        "checks_failed": len(failed), "failed_checks": failed, "by_table": by_table,
    }
    return {
        "format_version": REPORT_FORMAT_VERSION, "batch_id": ctx.batch_id,
        "source_id": ctx.source_id, "as_of": as_of.isoformat(),
        "created_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(
            timespec="seconds"),
        "checks": stats, "repairs": repairs, "summary": summary,
    }


# --- quarantine --------------------------------------------------------------------------------------

def _quarantine(rejected: list[tuple[Check, pa.Table]], ctx: Context) -> pa.Table:
    schema = cdm_table("quarantine").arrow_schema("central")
    cols: dict[str, list] = {n: [] for n in schema.names}
    seq = 0
    for check, part in rejected:
        spec = cdm_table(check.table)
        key = spec.primary_key[0]
        keys = part.column(key).to_pylist()
        patients = (part.column(spec.patient_column).to_pylist() if spec.patient_column
                    else [None] * len(keys))
        shown = check.example_field or check.field
        values = part.column(shown).to_pylist() if shown else [None] * len(keys)
        records = part.to_pylist()
        for k, p, v, rec in zip(keys, patients, values, records):
            seq += 1
            what = f"{check.table}.{shown} = {_jsonable(v)!r}" if shown else check.table
            cols["source_id"].append(ctx.source_id)
            cols["batch_id"].append(ctx.batch_id)
            cols["quarantine_id"].append(f"{ctx.batch_id}-q{seq:08d}")
            cols["table_name"].append(check.table)
            cols["row_key"].append(None if k is None else str(k))
            cols["patient_id"].append(p)
            cols["check_id"].append(check.id)
            cols["reason"].append(f"{check.description_fr} : {what} (ligne {k}, table "
                                  f"{check.table}, contrôle {check.id})")
            cols["location"].append(f"{check.table}/{k}")
            cols["record"].append(json.dumps({c: _jsonable(x) for c, x in rec.items()},
                                             ensure_ascii=False, default=str))
    return pa.Table.from_pydict(cols, schema=schema)
