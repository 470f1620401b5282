"""The weekly bulletin in French, like the Réseau Sentinelles bulletin: for each syndrome the
national and regional curves against their epidemic thresholds, the table of regions, the week's
alerts and the method — HTML (Jinja2 template `templates/bulletin.html`, charts as inline SVG)
and PDF (fpdf2, the same charts as PNG).

Every figure comes from the API payloads, so the bulletin shows exactly what the requester may
see: counts protected, rates recomputed from the published counts (`api.py`).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from p4dp.analytics.compile import Warehouse
from p4dp.analytics.display import display_fr, format_date_fr, format_number_fr
from p4dp.privacy.disclosure import Policy, Requester
from p4dp.surveillance import api
from p4dp.surveillance import population as POP
from p4dp.surveillance.analysis import LEVELS
from p4dp.surveillance.incidence import parse_week, week_label

#: The curves show the 52 weeks ending with the bulletin's week (one season).
CHART_WEEKS = 52
NO_CASE = f"Aucun cas dans le réseau sur les {CHART_WEEKS} dernières semaines."


def bulletin_data(wh: Warehouse, week: str, requester: Requester, policy: Policy = Policy()
                  ) -> dict:
    """Everything the bulletin shows, as a JSON-able dict (the web page's API)."""
    monday = parse_week(week)
    sunday = monday + dt.timedelta(days=6)
    a = api.analysis(wh, end=sunday)
    c = a.cube
    if monday not in c.weeks:
        raise ValueError(f"semaine {week} hors des données de l'entrepôt "
                         f"({week_label(c.weeks[0])} à {week_label(c.weeks[-1])})")
    w = c.weeks.index(monday)
    start = monday - dt.timedelta(weeks=CHART_WEEKS - 1)
    sections, alerts = [], []
    for s, syn in enumerate(c.syndromes):
        table = api.regions_table(wh, syn.key, week, requester, policy)
        series = [api.weekly_series(wh, syn.key, r, requester, start=start, end=sunday,
                                    policy=policy) for r in c.regions]
        sections.append({"syndrome": syn.key, "label_fr": syn.label_fr, "source": syn.source,
                         "regions": table, "series": series,
                         "national": dict(zip([col["name"] for col in table["columns"]],
                                              table["rows"][-1]))})
        for r, code in enumerate(c.regions):
            level = a.level_name(s, r, w)
            if level:
                alerts.append({"syndrome": syn.label_fr, "region": POP.region_name(code),
                               "level": level, "level_label": LEVELS[level],
                               "threshold": api._num(a.threshold[s, r, w]),
                               "provisional": bool(a.provisional[w])})
    return {
        "week": week_label(monday), "monday": monday.isoformat(), "sunday": sunday.isoformat(),
        "period_fr": f"du {format_date_fr(monday)} au {format_date_fr(sunday)}",
        "as_of": c.as_of.isoformat(), "provisional": bool(a.provisional[w]),
        "sections": sections, "alerts": alerts, "method": api.method(),
        "requester": requester.role,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _figure(section: dict):
    """National and regional curves of one syndrome against their thresholds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import matplotlib.dates as mdates

    series = section["series"][-1:] + section["series"][:-1]  # the nation first
    n = len(series)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 1.9 * rows), squeeze=False,
                             sharex=True, layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, p in zip(axes.flat, series):
        names = [col["name"] for col in p["columns"]]
        x = [dt.date.fromisoformat(r[names.index("week_start")]) for r in p["rows"]]
        inc = [r[names.index("incidence")] for r in p["rows"]]
        thr = [r[names.index("threshold")] for r in p["rows"]]
        ax.plot(x, [float("nan") if v is None else v for v in inc], color="#1f4e79", lw=1.2,
                label="incidence")
        ax.plot(x, [float("nan") if v is None else v for v in thr], color="#c0392b", lw=0.9,
                ls="--", label="seuil")
        ax.set_title(p["region_name"], fontsize=8)
        ax.tick_params(labelsize=6)
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m/%Y"))
        ax.set_ylim(bottom=0)
    axes.flat[0].legend(fontsize=6, loc="upper left")
    fig.supylabel(f"cas pour {api.POP_PER_LABEL}", fontsize=7)
    return fig


def has_cases(section: dict) -> bool:
    """Whether the syndrome had any case in the chart period (else no chart is drawn)."""
    p = section["series"][-1]
    i = [c["name"] for c in p["columns"]].index("cases")
    return any(r[i] != 0 for r in p["rows"])


def _svg(section: dict) -> str:
    import matplotlib
    import matplotlib.pyplot as plt

    fig = _figure(section)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as text: smaller, faster
        fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prologue: the SVG is inlined in HTML


def _png(section: dict) -> bytes:
    import matplotlib.pyplot as plt

    fig = _figure(section)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    plt.close(fig)
    return buf.getvalue()


def _fr(value: object, digits: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number_fr(value, digits)
    return display_fr(value)


def _cell(table: dict, i: int, name: str, digits: int | None = None) -> str:
    """Row i's value of a protected table as shown: the suppressed label when suppressed."""
    names = [c["name"] for c in table["columns"]]
    if [i, name] in table.get("suppressed_cells", []):
        return table["disclosure"]["suppressed_label"]
    return _fr(table["rows"][i][names.index(name)], digits)


def render_bulletin_html(data: dict) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("p4dp.surveillance", "templates"),
                      autoescape=select_autoescape(["html"]))
    env.filters["fr"] = _fr
    env.globals["cell"] = _cell
    charts = {s["syndrome"]: _svg(s) for s in data["sections"] if has_cases(s)}
    return env.get_template("bulletin.html").render(
        b=data, charts=charts, alert_lines=_alert_lines(data),
        national={s["syndrome"]: national_sentence(s) for s in data["sections"]},
        disclosure=disclosure_sentence(data), no_case=NO_CASE,
        per=api.POP_PER_LABEL)


REGION_COLUMNS = (("region_name", "Région", None), ("cases", "Cas", None),
                  ("population", "Patients actifs", None), ("incidence", "Incidence", 1),
                  ("ci_low", "IC bas", 1), ("ci_up", "IC haut", 1),
                  ("extrapolated", "Cas estimés", None), ("threshold", "Seuil", 1),
                  ("level", "Alerte", None))


def render_bulletin_pdf(data: dict) -> bytes:
    from fpdf import FPDF
    from matplotlib import get_data_path

    fonts = Path(get_data_path()) / "fonts" / "ttf"
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, f"Bulletin de surveillance P4DP — semaine {data['week']}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, f"Consultations {data['period_fr']}. Données au "
                   f"{format_date_fr(dt.date.fromisoformat(data['as_of']))}"
                   + (" (semaine provisoire)." if data["provisional"] else "."),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 6, "Alertes de la semaine", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    for line in _alert_lines(data) or ["Aucune alerte cette semaine."]:
        pdf.multi_cell(0, 5, "• " + line, new_x="LMARGIN", new_y="NEXT")
    for section in data["sections"]:
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 12)
        pdf.cell(0, 7, section["label_fr"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        pdf.multi_cell(0, 5, national_sentence(section), new_x="LMARGIN", new_y="NEXT")
        if has_cases(section):
            pdf.image(io.BytesIO(_png(section)), w=185)
        else:
            pdf.multi_cell(0, 5, NO_CASE, new_x="LMARGIN", new_y="NEXT")
        table = section["regions"]
        widths = (44, 12, 20, 17, 14, 14, 20, 14, 30)
        pdf.set_font("DejaVu", "B", 7)
        for (_, label, _), width in zip(REGION_COLUMNS, widths):
            pdf.cell(width, 5, label, border=1)
        pdf.ln()
        pdf.set_font("DejaVu", "", 7)
        for i in range(len(table["rows"])):
            for (name, _, digits), width in zip(REGION_COLUMNS, widths):
                pdf.cell(width, 5, _cell(table, i, name, digits)[:28], border=1)
            pdf.ln()
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 7, "Méthode", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    for key in ("case", "denominator", "incidence", "extrapolation", "threshold", "epidemic",
                "provisional"):
        pdf.multi_cell(0, 5, "• " + data["method"][key], new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, "• " + disclosure_sentence(data), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def national_sentence(section: dict) -> str:
    n = section["national"]
    if n["incidence"] is None:
        return "Effectif national trop faible pour être publié cette semaine."
    text = (f"France entière (réseau P4DP) : {_fr(n['incidence'], 1)} cas pour "
            f"{api.POP_PER_LABEL} patients "
            f"(IC 95 % [{_fr(n['ci_low'], 1)} ; {_fr(n['ci_up'], 1)}])")
    if n["extrapolated"] is not None:
        text += f", soit environ {_fr(n['extrapolated'])} cas en France"
    if n["threshold"] is not None:
        text += f" ; seuil épidémique {_fr(n['threshold'], 1)}"
    text += "." if not n["level"] else f" : {n['level'].lower()}."
    return text


def _alert_lines(data: dict) -> list[str]:
    return [f"{a['syndrome']} — {a['region']} : {a['level_label'].lower()} (seuil "
            f"{_fr(a['threshold'], 1)} pour {api.POP_PER_LABEL})"
            + (", provisoire" if a["provisional"] else "")
            for a in data["alerts"]]


def disclosure_sentence(data: dict) -> str:
    table = data["sections"][0]["regions"] if data["sections"] else {}
    d = table.get("disclosure", {})
    if not d.get("applied"):
        return "Effectifs exacts."
    return (f"Secret statistique : effectifs de 1 à {d['small_cell_max']} masqués (« "
            f"{d['suppressed_label']} »), masquage complémentaire, arrondi au multiple de "
            f"{d['rounding_base']} supérieur ; incidences recalculées sur les effectifs publiés.")


def write_bulletin(wh: Warehouse, week: str, out: Path, fmt: str, requester: Requester,
                   policy: Policy = Policy()) -> Path:
    """Write the bulletin file into the folder `out`; returns its path."""
    if fmt not in ("html", "pdf"):
        raise ValueError(f"format inconnu : {fmt!r} ; choisissez html ou pdf")
    data = bulletin_data(wh, week, requester, policy)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bulletin-{data['week']}.{fmt}"
    tmp = path.with_suffix(path.suffix + ".part")
    if fmt == "html":
        tmp.write_text(render_bulletin_html(data), encoding="utf-8")
    else:
        tmp.write_bytes(render_bulletin_pdf(data))
    tmp.replace(path)  # never a half-written bulletin under the final name
    return path
