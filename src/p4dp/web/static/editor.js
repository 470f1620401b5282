/* The "+" editor: compose panels from the indicator library and save them (JSON + CSRF header). */
(function () {
  "use strict";
  const form = document.getElementById("editor");
  if (!form) return;
  const template = document.getElementById("panel-template");
  const more = document.getElementById("more-panels");
  const statusEl = document.getElementById("editor-status");
  const csrf = document.querySelector("input[name=csrf_token]").value;
  let library = [];

  function fillBy(fs) {
    const ind = library.find(i => i.name === fs.querySelector("[name=indicator]").value);
    const by = fs.querySelector("[name=by]");
    by.replaceChildren(new Option("(par défaut)", ""));
    (ind ? ind.by : []).forEach(b => by.appendChild(new Option(b, b)));
  }

  function setup(fs) {
    const sel = fs.querySelector("[name=indicator]");
    if (!sel.options.length) {
      library.forEach(i => sel.appendChild(new Option(i.title_fr + " (" + i.theme + ")", i.name)));
    }
    sel.addEventListener("change", () => fillBy(fs));
    fillBy(fs);
  }

  fetch("/api/v1/indicators", { credentials: "same-origin" }).then(r => r.json()).then(list => {
    library = list.filter(i => i.kind === "aggregate");
    setup(template);
  });

  document.getElementById("add-panel").addEventListener("click", () => {
    const copy = template.cloneNode(true);
    copy.removeAttribute("id");
    copy.querySelector("[name=indicator]").replaceChildren();
    more.appendChild(copy);
    setup(copy);
  });

  form.addEventListener("submit", async e => {
    e.preventDefault();
    const panels = [...form.querySelectorAll("fieldset.panel-edit")].map(fs => {
      const v = n => fs.querySelector("[name=" + n + "]").value;
      const filters = {};
      if (v("sex")) filters.sex = v("sex");
      if (v("age_min")) filters.age_min = parseInt(v("age_min"), 10);
      if (v("age_max")) filters.age_max = parseInt(v("age_max"), 10);
      return { indicator: v("indicator"), chart: v("chart"), by: v("by") || null, filters };
    });
    const body = { title: form.querySelector("[name=title]").value,
                   shared_role: form.querySelector("[name=shared_role]").value || null, panels };
    const r = await fetch("/api/v1/dashboards", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    const j = await r.json();
    if (!r.ok) { statusEl.textContent = j.detail; statusEl.className = "error"; return; }
    window.location.assign("/dashboards/" + j.id);
  });
})();
