/* Surveillance page: fetch each curve's weekly series (/api/v1/surveillance/series) and draw the
   incidence against its epidemic threshold with Plotly; provisional weeks are drawn pale. */
"use strict";

(function () {
  function column(p, name) {
    const i = p.columns.findIndex(c => c.name === name);
    return p.rows.map(r => r[i]);
  }

  async function draw(div) {
    const status = div.parentElement.querySelector(".status");
    let p;
    try {
      const r = await fetch(div.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      p = await r.json();
      if (!r.ok) throw new Error(p.detail || ("erreur " + r.status));
    } catch (e) {
      status.textContent = "Courbe indisponible : " + e.message;
      status.classList.add("error");
      return;
    }
    const x = column(p, "week_start"), weeks = column(p, "week"), inc = column(p, "incidence");
    const provisional = column(p, "provisional"), levels = column(p, "level");
    const colours = provisional.map((v, i) => v ? "#b8c4d0" : (levels[i] ? "#a4161a" : "#0b4f8a"));
    const traces = [
      { type: "bar", name: "Incidence pour 100 000", x: x, y: inc, text: weeks, marker: { color: colours },
        hovertemplate: "%{text} : %{y:.1f}<extra></extra>" },
      { type: "scatter", mode: "lines", name: "Seuil épidémique", x: x, y: column(p, "threshold"),
        line: { color: "#a4161a", width: 2 } },
      { type: "scatter", mode: "lines", name: "Attendu", x: x, y: column(p, "expected"),
        line: { color: "#4a5560", dash: "dot", width: 1.5 } },
    ];
    Plotly.react(div, traces, {
      separators: ", ", height: 320, margin: { t: 10, r: 10, b: 40, l: 50 }, bargap: 0.1,
      legend: { orientation: "h" }, font: { family: "sans-serif" },
      xaxis: { type: "date", tickformat: "%d/%m/%Y" }, yaxis: { rangemode: "tozero", automargin: true },
    }, { displayModeBar: false, responsive: true });
    const hidden = (p.suppressed_cells || []).length;
    const nprov = provisional.filter(Boolean).length;
    status.textContent = p.rows.length + " semaines" + (nprov ? ", dont " + nprov + " provisoire(s)" : "") +
      (hidden ? " ; " + hidden + " effectif(s) masqué(s) « " + p.disclosure.suppressed_label + " »" : "") + ".";
    div.dataset.drawn = String(p.rows.length);
  }

  function start() {
    document.querySelectorAll(".curve[data-url]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
