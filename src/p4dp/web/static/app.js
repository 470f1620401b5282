/* P4DP dashboards: fetch the API twin of the page and draw every panel with Plotly.react.
   Slicers update the charts in place (no page reload). No inline script (strict CSP). */
(function () {
  "use strict";
  const form = document.getElementById("slicers");
  if (!form) return;
  const url = form.dataset.url;
  const statusEl = document.getElementById("status");
  const panelsEl = document.getElementById("panels");
  const TABLE_MAX_ROWS = 200;
  const TIME_DIMS = ["week", "month", "year"];
  let generation = 0;

  function query() {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v !== "") q.append(k, v);
    return q;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function panelBox(name) {
    let box = document.getElementById("panel-" + name);
    if (!box) {
      box = el("section", { id: "panel-" + name, class: "panel", "aria-labelledby": "title-" + name });
      panelsEl.appendChild(box);
    }
    box.replaceChildren();
    return box;
  }

  function table(p, caption) {
    const t = el("table");
    t.appendChild(el("caption", {}, caption));
    const head = el("tr");
    p.columns.forEach(c => head.appendChild(el("th", { scope: "col" }, c.label_fr || c.name)));
    t.appendChild(el("thead")).appendChild(head);
    const body = t.appendChild(el("tbody"));
    p.display_rows.slice(0, TABLE_MAX_ROWS).forEach(r => {
      const tr = body.appendChild(el("tr"));
      r.forEach((v, i) => {
        const numeric = p.columns[i].role === "measure" || p.columns[i].role === "rank";
        const td = el("td", numeric ? { class: "num" } : {}, v);
        if (v.startsWith("< ")) td.classList.add("suppressed");
        tr.appendChild(td);
      });
    });
    return t;
  }

  function traces(p, chart, by) {
    const cols = p.columns;
    const dims = cols.map((c, i) => [c, i]).filter(([c]) => c.role === "dimension");
    const counts = cols.map((c, i) => [c, i]).filter(([c]) => c.kind === "count" || c.kind === "share");
    if (!dims.length || !counts.length || p.kind === "line_list") return null;
    let xi = dims[0][1];
    if (by) { const f = dims.find(([c]) => c.name === by); if (f) xi = f[1]; }
    const other = dims.find(([, i]) => i !== xi);
    const xs = p.display_rows.map(r => r[xi]);
    const y = (i) => p.rows.map(r => r[i]);
    const ranked = cols.some(c => c.role === "rank");
    if (chart === "pie") {
      return [{ type: "pie", labels: xs, values: y(counts[0][1]), sort: false }];
    }
    const type = chart === "line" || (!chart && TIME_DIMS.includes(cols[xi].name)) ? "scatter" : "bar";
    if (other) {
      // by two dimensions (age × sex …): a prevalence table charts its share, not its counts
      const main = counts.find(([c]) => c.kind === "share") || counts[0];
      const groups = new Map();
      p.rows.forEach((r, k) => {
        const g = p.display_rows[k][other[1]];
        if (!groups.has(g)) groups.set(g, { x: [], y: [] });
        groups.get(g).x.push(xs[k]);
        groups.get(g).y.push(r[main[1]]);
      });
      return [...groups].map(([g, d]) => ({ type, name: g, x: d.x, y: d.y, connectgaps: false }));
    }
    if (ranked) {
      return [{ type: "bar", orientation: "h", name: counts[0][0].label_fr,
                y: xs.slice().reverse(), x: y(counts[0][1]).slice().reverse() }];
    }
    return counts.filter(([c]) => c.kind === "count").slice(0, 3).map(([c, i]) => (
      { type, name: c.label_fr, x: xs, y: y(i), connectgaps: false }));
  }

  function drawPanel(p, opts) {
    const name = p.indicator;
    const box = panelBox(name);
    box.appendChild(el("h2", { id: "title-" + name }, p.title_fr));
    if (p.refused || p.error) {
      box.appendChild(el("p", { class: "refused" }, p.refused || p.error));
      return;
    }
    const shown = opts.chart === "table" ? null : traces(p, opts.chart, opts.by);
    const tools = box.appendChild(el("p", { class: "tools" }));
    const csv = el("a", { href: "/api/v1/indicators/" + name + "/csv?" + opts.q, download: name + ".csv" }, "CSV");
    csv.setAttribute("aria-label", "Télécharger « " + p.title_fr + " » en CSV");
    tools.appendChild(csv);
    if (shown) {
      const div = el("div", { id: "chart-" + name, class: "chart", role: "img", "aria-label": "Graphique : " + p.title_fr });
      const png = el("button", { type: "button" }, "PNG");
      png.setAttribute("aria-label", "Télécharger le graphique « " + p.title_fr + " » en PNG");
      png.addEventListener("click", () => Plotly.downloadImage(div, { format: "png", filename: name, width: 1000, height: 500 }));
      tools.appendChild(png);
      box.appendChild(div);
      // a ranked list (top 20) shows every label: one category per tick, 22 px a bar
      const ranked = shown[0].orientation === "h";
      Plotly.react(div, shown, {
        separators: ", ", margin: { t: 10, r: 10, b: 60, l: ranked ? 220 : 60 },
        height: ranked ? Math.max(340, 22 * shown[0].y.length + 70) : 340, barmode: "group",
        legend: { orientation: "h" }, font: { family: "sans-serif" },
        yaxis: ranked ? { automargin: true, dtick: 1 } : { automargin: true }, xaxis: { automargin: true },
      }, { displayModeBar: false, responsive: true });
    }
    if (p.suppressed_cells && p.suppressed_cells.length) {
      box.appendChild(el("p", { class: "note" }, p.suppressed_cells.length +
        " cellule(s) masquée(s) « " + p.disclosure.suppressed_label + " » (petits effectifs) ; effectifs arrondis à " +
        p.disclosure.rounding_base + "."));
    }
    const n = p.rows.length;
    const dims = p.columns.filter(c => c.role === "dimension" || c.role === "line");
    if (n === 1 && !dims.length) {  // headline figures, as the seed's tiles
      const tiles = box.appendChild(el("ul", { class: "kpis" }));
      p.columns.forEach((c, i) => {
        const li = tiles.appendChild(el("li"));
        li.appendChild(el("b", {}, p.display_rows[0][i]));
        li.appendChild(document.createTextNode(c.label_fr || c.name));
      });
      return;
    }
    box.appendChild(table(p, n > TABLE_MAX_ROWS ? p.title_fr + " (" + TABLE_MAX_ROWS + " premières lignes sur " +
      n.toLocaleString("fr-FR") + " : voir le CSV)" : p.title_fr));
  }

  async function load() {
    const mine = ++generation;
    const q = query();
    statusEl.textContent = "Chargement…";
    statusEl.classList.remove("error");
    let r, j;
    try {
      r = await fetch(url + "?" + q, { credentials: "same-origin", headers: { Accept: "application/json" } });
      j = await r.json();
    } catch (e) {
      statusEl.textContent = "Serveur injoignable : réessayez.";
      statusEl.classList.add("error");
      return;
    }
    if (mine !== generation) return;  // a newer slicer move is on its way
    if (!r.ok) {
      statusEl.textContent = j.detail || ("Erreur " + r.status);
      statusEl.classList.add("error");
      return;
    }
    for (const panel of j.panels) {
      const p = panel.data || panel;  // saved dashboards wrap each payload with its settings
      drawPanel(p, { chart: panel.chart, by: panel.by, q: q.toString() });
    }
    const scope = (j.scopes || []).find(s => s.key === (j.scope_choice || q.get("scope")));
    statusEl.textContent = "Données à jour" + (scope ? " — périmètre : " + scope.label : "") + ".";
    document.body.dataset.loaded = String(mine);
  }

  form.addEventListener("submit", e => { e.preventDefault(); load(); });
  form.addEventListener("change", () => load());
  form.addEventListener("reset", () => setTimeout(load, 0));
  load();
})();
