// Carnet de consultation: the CISP-2 picker of the entry form and the dashboard's charts.
// Served by /logbook/assets/logbook.js (no inline script: the CSP allows scripts from this server only).
"use strict";

(function () {
  const PICKER_URL = "/api/v1/logbook/cisp";
  const SUGGEST_URL = "/api/v1/logbook/suggest";

  function setupPicker(box) {
    const field = box.dataset.field;
    const text = box.querySelector(".coded-text");
    const code = box.querySelector(".coded-code");
    const list = box.querySelector(".picker-list");
    const title = box.querySelector(".coded-title");
    let seq = 0, active = -1, items = [];

    function close() { list.hidden = true; code.setAttribute("aria-expanded", "false"); active = -1; }
    function choose(hit, how) {
      code.value = hit.code;
      title.textContent = hit.title_fr + (how ? " (" + how + ")" : "");
      close();
    }
    function show(hits) {
      items = hits;
      list.replaceChildren(...hits.map((h, i) => {
        const li = document.createElement("li");
        li.id = code.id + "-opt-" + i;
        li.setAttribute("role", "option");
        li.textContent = h.code + " — " + h.title_fr;
        li.addEventListener("mousedown", (ev) => { ev.preventDefault(); choose(h, ""); });
        return li;
      }));
      list.hidden = hits.length === 0;
      code.setAttribute("aria-expanded", String(hits.length > 0));
    }
    function mark(i) {
      active = i;
      list.querySelectorAll("li").forEach((li, k) => li.setAttribute("aria-selected", String(k === i)));
      if (i >= 0) code.setAttribute("aria-activedescendant", code.id + "-opt-" + i);
    }
    code.addEventListener("input", async () => {
      const q = code.value.trim();
      const mine = ++seq;
      title.textContent = "";
      if (!q) { close(); return; }
      const r = await fetch(PICKER_URL + "?q=" + encodeURIComponent(q), {credentials: "same-origin"});
      const hits = r.ok ? await r.json() : [];
      if (mine === seq) show(hits);  // else a later keystroke's answer is the one to show
    });
    code.addEventListener("keydown", (ev) => {
      if (list.hidden) return;
      if (ev.key === "ArrowDown") { ev.preventDefault(); mark(Math.min(active + 1, items.length - 1)); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); mark(Math.max(active - 1, 0)); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); choose(items[active], ""); }
      else if (ev.key === "Escape") { close(); }
    });
    code.addEventListener("blur", () => setTimeout(close, 150));
    // The automatic coder's suggestion pre-fills an empty code from the typed text.
    text.addEventListener("change", async () => {
      if (code.value.trim() || !text.value.trim()) return;
      const r = await fetch(SUGGEST_URL + "?field=" + field + "&text=" + encodeURIComponent(text.value),
                            {credentials: "same-origin"});
      if (!r.ok) return;
      const s = await r.json();
      if (s.code && !code.value.trim()) choose(s, "suggestion du codeur");
    });
  }

  function charts() {
    const node = document.getElementById("lb-data");
    if (!node || !window.Plotly) return;
    const d = JSON.parse(node.textContent);
    const layout = {margin: {t: 10, l: 40, r: 10, b: 40}, height: 280, separators: ", "};
    const ch = d.chapters.filter((r) => r.chapter !== "_");
    Plotly.newPlot("chart-chapters", [{type: "bar", x: ch.map((r) => r.chapter), y: ch.map((r) => r.n),
      text: ch.map((r) => r.title_fr), hovertemplate: "%{x} %{text} : %{y}<extra></extra>"}], layout,
      {displaylogo: false, responsive: true});
    const byComp = {};
    d.progression.forEach((r) => { (byComp[r.label_fr] = byComp[r.label_fr] || []).push(r); });
    Plotly.newPlot("chart-progression", Object.entries(byComp).map(([name, rows]) => ({
      type: "scatter", mode: "lines+markers", name: name, x: rows.map((r) => r.month),
      y: rows.map((r) => r.mean_level)})), {...layout, yaxis: {range: [0.8, 3.2], dtick: 1}},
      {displaylogo: false, responsive: true});
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".coded").forEach(setupPicker);
    charts();
  });
})();
