"""A readable, self-contained French HTML page for one batch's quality report (no external
resources: it must open offline and be embeddable in the web app later)."""

from __future__ import annotations

from html import escape

from p4dp.quality.store import trends_from_reports

_CATEGORY_FR = {"conformance": "Conformité", "completeness": "Complétude",
                "plausibility": "Plausibilité"}
_LEVEL_FR = {"table": "table", "field": "champ", "value": "valeur"}
_ACTION_FR = {"quarantine": "quarantaine", "report": "signalement"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1d2733;
max-width:1200px}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:2px solid
#dde3ea;padding-bottom:.3rem}.meta{color:#5b6b7c}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}.card{background:#f4f7fa;border-radius:8px;
padding:.8rem 1.1rem;min-width:9rem}.card b{display:block;font-size:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #e3e8ee;
padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#f4f7fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1b7a3a;font-weight:600}.ko{color:#b3261e;font-weight:600}
details summary{cursor:pointer;color:#3a5a80}code{font-size:.85em}
.spark{vertical-align:middle}
"""


def _n(x) -> str:
    return f"{x:,}".replace(",", "\u202f") if isinstance(x, int) else escape(str(x))


def _pct(x: float) -> str:
    return f"{x:.2f}".replace(".", ",") + "\u00a0%"


def _spark(values: list[float]) -> str:
    if len(values) < 2:
        return ""
    w, h = 120, 24
    top = max(max(values), 1e-9)
    step = w / (len(values) - 1)
    pts = " ".join(f"{i * step:.1f},{h - 2 - (v / top) * (h - 4):.1f}" for i, v in enumerate(values))
    return (f'<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
            f'aria-label="évolution"><polyline fill="none" stroke="#3a5a80" stroke-width="1.5" '
            f'points="{pts}"/></svg>')


def _examples(examples: list[dict]) -> str:
    if not examples:
        return ""
    items = "".join(
        "<li><code>" + escape(str(e.get("row_key"))) + "</code> — " + escape(str(e.get("field")))
        + " = <code>" + escape(repr(e.get("value"))) + "</code>"
        + (f" ({escape(str(e['kind']))})" if e.get("kind") else "") + "</li>"
        for e in examples)
    return f"<details><summary>{len(examples)} exemple(s)</summary><ul>{items}</ul></details>"


def render_html(report: dict, history: list[dict] | None = None) -> str:
    """The report as a French HTML page; `history` (earlier reports of the same source, oldest
    first, this one included or not) adds the trend of each check across loads."""
    s = report["summary"]
    checks = report["checks"]
    reports = list(history or [])
    if not any(r.get("batch_id") == report["batch_id"] for r in reports):
        reports.append(report)
    trend = trends_from_reports(reports) if len(reports) > 1 else {}
    out = [
        "<!DOCTYPE html>", '<html lang="fr"><head><meta charset="utf-8">',
        f"<title>Qualité des données — lot {escape(report['batch_id'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Rapport qualité du lot <code>{escape(report['batch_id'])}</code></h1>",
        f"<p class='meta'>Source <b>{escape(report['source_id'])}</b> · données au "
        f"{escape(report['as_of'])} · rapport produit le {escape(report['created_at'])} (UTC)</p>",
        "<div class='cards'>",
        f"<div class='card'><b>{_n(s['rows_in'])}</b>lignes reçues</div>",
        f"<div class='card'><b>{_n(s['rows_loaded'])}</b>lignes retenues</div>",
        f"<div class='card'><b>{_n(s['rows_repaired'])}</b>lignes réparées</div>",
        f"<div class='card'><b>{_n(s['rows_quarantined'])}</b>lignes en quarantaine</div>",
        f"<div class='card'><b class='{'ok' if not s['checks_failed'] else 'ko'}'>"
        f"{_n(s['checks_passed'])} / {_n(s['checks_run'])}</b>contrôles réussis</div>",
        "</div>",
    ]
    if s["failed_checks"]:
        out.append("<h2>Contrôles échoués</h2><ul>")
        for cid in s["failed_checks"]:
            c = checks[cid]
            out.append(f"<li><code>{escape(cid)}</code> — {escape(c['description_fr'])} : "
                       f"{_n(c['violations'])} ligne(s), {_pct(c['pct'])} (seuil "
                       f"{_pct(c['threshold'])})</li>")
        out.append("</ul>")
    else:
        out.append("<p class='ok'>Tous les contrôles sont sous leur seuil.</p>")

    out.append("<h2>Réparations</h2><table><tr><th>Règle</th><th>Lignes</th>"
               "<th>Description</th><th>Source</th></tr>")
    for rule, r in report["repairs"].items():
        out.append(f"<tr><td><code>{escape(rule)}</code></td><td class='n'>{_n(r['rows'])}</td>"
                   f"<td>{escape(r['description_fr'])}</td><td>{escape(r['source'])}</td></tr>")
    out.append("</table>")

    out.append("<h2>Par table</h2><table><tr><th>Table</th><th>Reçues</th><th>Retenues</th>"
               "<th>Réparées</th><th>Quarantaine</th></tr>")
    for name, t in s["by_table"].items():
        out.append(f"<tr><td>{escape(name)}</td><td class='n'>{_n(t['rows_in'])}</td>"
                   f"<td class='n'>{_n(t['rows_loaded'])}</td>"
                   f"<td class='n'>{_n(t['rows_repaired'])}</td>"
                   f"<td class='n'>{_n(t['rows_quarantined'])}</td></tr>")
    out.append("</table>")

    head = ("<tr><th>Contrôle</th><th>Table · champ</th><th>Niveau</th><th>Action</th>"
            "<th>Contrôlées</th><th>Violations</th><th>%</th><th>Seuil</th><th>Statut</th>"
            + ("<th>Évolution</th>" if trend else "") + "</tr>")

    def row(cid: str, c: dict) -> str:
        status = "<span class='ok'>réussi</span>" if c["passed"] else \
            "<span class='ko'>échoué</span>"
        spark = ("<td>" + _spark([p["pct"] for p in trend.get(cid, [])]) + "</td>") if trend else ""
        field = f" · {escape(c['field'])}" if c["field"] else ""
        return (f"<tr><td><code>{escape(cid)}</code><br>{escape(c['description_fr'])}"
                f"{_examples(c['examples'])}</td><td>{escape(c['table'])}{field}</td>"
                f"<td>{_LEVEL_FR.get(c['level'], c['level'])}</td>"
                f"<td>{_ACTION_FR.get(c['action'], c['action'])}</td>"
                f"<td class='n'>{_n(c['rows_checked'])}</td>"
                f"<td class='n'>{_n(c['violations'])}</td><td class='n'>{_pct(c['pct'])}</td>"
                f"<td class='n'>{_pct(c['threshold'])}</td><td>{status}</td>{spark}</tr>")

    for category, label in _CATEGORY_FR.items():
        rows = [(cid, c) for cid, c in checks.items() if c["category"] == category]
        if not rows:
            continue
        hit = sorted((kv for kv in rows if kv[1]["violations"]),
                     key=lambda kv: (kv[1]["passed"], -kv[1]["pct"], kv[0]))
        clean = sorted(kv for kv in rows if not kv[1]["violations"])
        out.append(f"<h2>{label}</h2>")
        if hit:
            out.append("<table>" + head + "".join(row(cid, c) for cid, c in hit) + "</table>")
        else:
            out.append("<p class='ok'>Aucune violation.</p>")
        if clean:
            out.append(f"<details><summary>{len(clean)} contrôle(s) sans aucune violation</summary>"
                       "<table>" + head + "".join(row(cid, c) for cid, c in clean)
                       + "</table></details>")
    if trend:
        out.append(f"<p class='meta'>Évolution sur {len(reports)} lots successifs de la source "
                   f"{escape(report['source_id'])} (% de lignes en violation).</p>")
    out.append("<p class='meta'>Sources des seuils et intervalles : colonne « source » de chaque "
               "contrôle dans la version JSON de ce rapport ; voir docs/quality.md.</p>")
    out.append("</body></html>")
    return "\n".join(out)
