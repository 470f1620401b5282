/* Cohort builder: rules edited in the page, the definition's JSON form posted to
   /api/v1/cohorts/count at every change (protected total and attrition), saved, exported and
   imported through /api/v1/cohorts/definitions. The ICPC-2 picker asks /api/v1/terminology/icpc2. */
"use strict";

(function () {
  const form = document.getElementById("cohort-form");
  if (!form) return;
  const csrf = form.dataset.csrf;
  const rulesBox = document.getElementById("rules");
  const readers = new Map();  // rule element -> function returning the rule's JSON
  let exams = [];
  let loaded = null;  // {id, version, mine} of the loaded saved definition

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      e.setAttribute(k, v === true ? "" : v);
    }
    if (text !== undefined) e.textContent = text;
    return e;
  }
  let uid = 0;
  function field(parent, label, input) {
    input.id = input.id || "f" + (++uid);
    parent.appendChild(el("label", { for: input.id }, label));
    parent.appendChild(input);
    return input;
  }
  function num(input) {
    const v = input.value.trim().replace(",", ".");
    return v === "" ? undefined : Number(v);
  }
  function clean(o) {
    for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === "" || (Array.isArray(o[k]) && !o[k].length)) delete o[k];
    return o;
  }
  async function api(method, url, body) {
    const r = await fetch(url, {
      method, credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await r.json(); } catch (e) { data = { detail: "réponse illisible (" + r.status + ")" }; }
    return { ok: r.ok, status: r.status, data };
  }

  // --- windows -------------------------------------------------------------------------------
  const WINDOW_KINDS = [["", "toute la période"], ["days", "les N derniers jours"], ["months", "les N derniers mois"],
                        ["range", "du … au …"], ["season", "depuis le début de la saison grippale"]];
  function windowEditor(parent, initial) {
    const row = parent.appendChild(el("div", { class: "row" }));
    const kind = field(row, "Fenêtre", el("select", { class: "w-kind" }));
    WINDOW_KINDS.forEach(([v, t]) => kind.appendChild(el("option", { value: v }, t)));
    const n = field(row, "N", el("input", { type: "number", min: 1, class: "w-n" }));
    const from = field(row, "du", el("input", { type: "date", class: "w-from" }));
    const to = field(row, "au", el("input", { type: "date", class: "w-to" }));
    function sync() {
      const k = kind.value;
      [n, n.previousSibling].forEach(x => x.hidden = !(k === "days" || k === "months"));
      [from, from.previousSibling, to, to.previousSibling].forEach(x => x.hidden = k !== "range");
    }
    kind.addEventListener("change", sync);
    const w = initial || {};
    if (w.days) { kind.value = "days"; n.value = w.days; }
    else if (w.months) { kind.value = "months"; n.value = w.months; }
    else if (w.season) kind.value = "season";
    else if (w.from || w.to) { kind.value = "range"; from.value = w.from || ""; to.value = w.to || ""; }
    sync();
    return () => {
      switch (kind.value) {
        case "days": return { days: num(n) };
        case "months": return { months: num(n) };
        case "season": return { season: "grippe" };
        case "range": return clean({ from: from.value, to: to.value });
        default: return undefined;
      }
    };
  }

  // --- comparisons ---------------------------------------------------------------------------
  const OPS = [["", "sans seuil"], [">", ">"], [">=", "≥"], ["<", "<"], ["<=", "≤"], ["between", "entre"], ["outside", "hors de"]];
  function compareEditor(row, initial) {
    const op = field(row, "Valeur", el("select", { class: "op" }));
    OPS.forEach(([v, t]) => op.appendChild(el("option", { value: v }, t)));
    const value = field(row, "seuil", el("input", { type: "text", inputmode: "decimal", size: 6, class: "value" }));
    const low = field(row, "de", el("input", { type: "text", inputmode: "decimal", size: 6, class: "low" }));
    const high = field(row, "à", el("input", { type: "text", inputmode: "decimal", size: 6, class: "high" }));
    function sync() {
      const ranged = op.value === "between" || op.value === "outside";
      [value, value.previousSibling].forEach(x => x.hidden = ranged || !op.value);
      [low, low.previousSibling, high, high.previousSibling].forEach(x => x.hidden = !ranged);
    }
    op.addEventListener("change", sync);
    if (initial) {
      op.value = initial.op;
      if (initial.value !== undefined) value.value = String(initial.value).replace(".", ",");
      if (initial.low !== undefined) low.value = String(initial.low).replace(".", ",");
      if (initial.high !== undefined) high.value = String(initial.high).replace(".", ",");
    }
    sync();
    return () => {
      if (!op.value) return undefined;
      if (op.value === "between" || op.value === "outside") return { op: op.value, low: num(low), high: num(high) };
      return { op: op.value, value: num(value) };
    };
  }

  // --- the ICPC-2 picker ---------------------------------------------------------------------
  function codePicker(parent, codes) {
    const box = parent.appendChild(el("div", { class: "picker" }));
    const chips = box.appendChild(el("ul", { class: "chips", "aria-label": "Codes choisis" }));
    const listId = "cisp-list-" + (++uid);
    const input = field(box, "Code ou libellé CISP-2", el("input", {
      type: "text", role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": listId, autocomplete: "off", placeholder: "ex. diabète, T90", class: "cisp-search" }));
    const list = box.appendChild(el("ul", { id: listId, role: "listbox", hidden: true }));
    const chosen = [];
    let active = -1, seq = 0;
    function addCode(code, title) {
      if (chosen.includes(code)) return;
      chosen.push(code);
      const li = chips.appendChild(el("li", { "data-code": code }));
      li.appendChild(el("span", { title: title || "" }, code + (title ? " " + title : "")));
      const x = li.appendChild(el("button", { type: "button", "aria-label": "Retirer " + code }, "×"));
      x.addEventListener("click", () => { chosen.splice(chosen.indexOf(code), 1); li.remove(); changed(); });
    }
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
    function pick(li) { addCode(li.dataset.code, li.dataset.title); input.value = ""; close(); changed(); input.focus(); }
    input.addEventListener("input", async () => {
      const q = input.value.trim();
      const mine = ++seq;
      if (!q) { close(); return; }
      const r = await fetch("/api/v1/terminology/icpc2?q=" + encodeURIComponent(q), { credentials: "same-origin" });
      if (mine !== seq || !r.ok) return;
      const hits = await r.json();
      list.replaceChildren();
      hits.forEach((h, i) => {
        const li = list.appendChild(el("li", { role: "option", id: listId + "-" + i, "data-code": h.code,
                                              "data-title": h.title_fr, "aria-selected": "false" },
                                    h.code + " — " + h.title_fr));
        li.addEventListener("mousedown", ev => { ev.preventDefault(); pick(li); });
      });
      list.hidden = !hits.length;
      input.setAttribute("aria-expanded", String(!!hits.length));
      active = -1;
    });
    input.addEventListener("keydown", ev => {
      const items = [...list.children];
      if (list.hidden || !items.length) return;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        active = (active + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        items.forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
        input.setAttribute("aria-activedescendant", items[active].id);
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        pick(items[Math.max(active, 0)]);
      } else if (ev.key === "Escape") close();
    });
    input.addEventListener("blur", close);
    (codes || []).forEach(c => addCode(c));
    return () => chosen.slice();
  }

  // --- rules ---------------------------------------------------------------------------------
  const TITLES = { demographics: "Âge, sexe, région", condition: "Code CISP-2", lab: "Valeur biologique",
                   drug: "Médicament (ATC)", json: "Règle (JSON)" };
  const ORIGINS = [["result", "résultat"], ["antecedent", "antécédent"], ["reason", "motif"], ["procedure", "procédure"]];

  function addRule(type, rule) {
    rule = rule || {};
    const known = ["demographics", "condition", "lab", "drug"].includes(type);
    // a rule the form cannot edit (biometric, vaccination, groups …) is kept as JSON
    if (!known) type = "json";
    const li = rulesBox.appendChild(el("li", { class: "rule", "data-type": type }));
    const head = li.appendChild(el("h3", {}, TITLES[type]));
    const rm = head.appendChild(el("button", { type: "button", class: "remove", "aria-label": "Retirer la règle " + TITLES[type] }, "Retirer"));
    rm.addEventListener("click", () => { readers.delete(li); li.remove(); changed(); });
    const row = li.appendChild(el("div", { class: "row" }));
    let read;
    if (type === "demographics") {
      const amin = field(row, "Âge de", el("input", { type: "number", min: 0, max: 130, class: "age-min", value: rule.age_min ?? "" }));
      const amax = field(row, "à", el("input", { type: "number", min: 0, max: 130, class: "age-max", value: rule.age_max ?? "" }));
      const sex = field(row, "Sexe", el("select", { class: "sex" }));
      [["", "Tous"], ["F", "Femmes"], ["M", "Hommes"]].forEach(([v, t]) => sex.appendChild(el("option", { value: v }, t)));
      sex.value = rule.sex || "";
      const regions = field(row, "Régions (codes INSEE)", el("input", { type: "text", size: 10, class: "regions", placeholder: "ex. 93, 84", value: (rule.regions || []).join(", ") }));
      read = () => clean({ type, age_min: num(amin), age_max: num(amax), sex: sex.value || undefined,
                           regions: regions.value.split(/[\s,;]+/).filter(Boolean) });
    } else if (type === "condition") {
      const codes = codePicker(row, rule.codes);
      const orow = li.appendChild(el("div", { class: "row" }));
      orow.appendChild(el("span", {}, "Cherché dans :"));
      const origins = rule.origins || ["result", "antecedent"];
      const boxes = ORIGINS.map(([v, t]) => {
        const b = el("input", { type: "checkbox", value: v, checked: origins.includes(v) });
        const l = orow.appendChild(el("label"));
        l.appendChild(b); l.appendChild(document.createTextNode(" " + t));
        return b;
      });
      const win = windowEditor(li, rule.window);
      const keep = clean({ chapters: rule.chapters, ranges: rule.ranges, occurrences: rule.occurrences });
      read = () => clean({ type, ...keep, codes: codes(), origins: boxes.filter(b => b.checked).map(b => b.value), window: win() });
    } else if (type === "lab") {
      const exam = field(row, "Examen", el("select", { class: "exam" }));
      exams.forEach(x => exam.appendChild(el("option", { value: x.code }, x.name_fr + " (" + x.code + ")")));
      exam.value = rule.exam || (exams[0] && exams[0].code) || "";
      const crow = li.appendChild(el("div", { class: "row" }));
      const cmp = compareEditor(crow, rule.compare);
      const unit = field(crow, "Unité", el("select", { class: "unit" }));
      function units() {
        const x = exams.find(e => e.code === exam.value);
        unit.replaceChildren();
        (x ? x.units : []).forEach(u => unit.appendChild(el("option", { value: u }, u === "1" ? "(sans unité)" : u)));
      }
      exam.addEventListener("change", units);
      units();
      if (rule.unit) unit.value = rule.unit;
      const which = field(crow, "Résultats", el("select", { class: "which" }));
      [["any", "au moins un"], ["latest", "le dernier"]].forEach(([v, t]) => which.appendChild(el("option", { value: v }, t)));
      which.value = rule.which === "latest" ? "latest" : "any";
      const win = windowEditor(li, rule.window);
      read = () => {
        const compare = cmp();
        const x = exams.find(e => e.code === exam.value);
        return clean({ type, exam: exam.value, compare,
                       unit: compare && x && unit.value !== x.unit ? unit.value : undefined,
                       which: compare && which.value !== "any" ? which.value : undefined, window: win() });
      };
    } else if (type === "drug") {
      const atc = field(row, "Préfixes ATC", el("input", { type: "text", size: 16, class: "atc", placeholder: "ex. A10BA02, B01AA", value: (rule.atc || []).join(", ") }));
      const days = field(row, "Durée minimale (jours)", el("input", { type: "number", min: 1, class: "min-days", value: rule.min_days ?? "" }));
      const win = windowEditor(li, rule.window);
      read = () => clean({ type, atc: atc.value.toUpperCase().split(/[\s,;]+/).filter(Boolean), min_days: num(days), window: win() });
    } else {
      const text = field(row, "JSON de la règle", el("textarea", { class: "raw" }));
      text.value = JSON.stringify(rule, null, 2);
      read = () => { try { return JSON.parse(text.value); } catch (e) { return { type: "json illisible" }; } };
    }
    if (rule.label) { const label = rule.label; const inner = read; read = () => ({ ...inner(), label }); }
    readers.set(li, read);
    return li;
  }

  function definition() {
    const g = id => document.getElementById(id).value.trim();
    return clean({ schema: "p4dp.cohort/1", name: g("c-name"), title_fr: g("c-title"),
                   index_date: g("c-index") || undefined,
                   rules: [...rulesBox.children].map(li => readers.get(li)()) });
  }

  // --- live count ----------------------------------------------------------------------------
  const total = document.getElementById("total"), totalNote = document.getElementById("total-note");
  const errors = document.getElementById("errors");
  let timer = null, countSeq = 0;
  function changed() { clearTimeout(timer); timer = setTimeout(count, 350); }

  function showErrors(list) {
    errors.replaceChildren();
    document.querySelectorAll(".rule.invalid").forEach(x => x.classList.remove("invalid"));
    list.forEach(e => {
      errors.appendChild(el("li", {}, (e.field && e.field !== "/" ? e.field + " : " : "") + e.message));
      const m = /^\/rules\/(\d+)/.exec(e.field || "");
      if (m && rulesBox.children[+m[1]]) rulesBox.children[+m[1]].classList.add("invalid");
    });
  }
  function fill(tableId, rows) {
    const t = document.getElementById(tableId), body = t.tBodies[0];
    body.replaceChildren();
    rows.forEach(cells => {
      const tr = body.appendChild(el("tr"));
      cells.forEach((c, i) => tr.appendChild(el("td", i === cells.length - 1 ? { class: "num" } : {}, c)));
    });
    t.hidden = !rows.length;
  }
  const fr = v => v === null || v === undefined ? "< 11" : v.toLocaleString("fr-FR").replace(/\u202f|\u00a0/g, " ");

  async function count() {
    const def = definition();
    if (!def.rules) {  // clean() dropped the empty list
      total.textContent = "—"; totalNote.textContent = "ajoutez une règle"; showErrors([]);
      fill("attrition", []); fill("regions", []); return;
    }
    const mine = ++countSeq;
    totalNote.textContent = "calcul…";
    const r = await api("POST", "/api/v1/cohorts/count", def);
    if (mine !== countSeq) return;
    if (!r.ok) {
      total.textContent = "—"; totalNote.textContent = "";
      showErrors(r.data.errors || [{ field: "", message: r.data.detail }]);
      return;
    }
    const p = r.data;
    showErrors([]);
    total.textContent = p.total_fr;
    totalNote.textContent = "patients au " + p.index_date.split("-").reverse().join("/");
    fill("attrition", p.attrition.map(a => [String(a.step), a.rule, fr(a.count)]));
    fill("regions", (p.by_region || []).map(x => [x.region_code, fr(x.count)]));
    document.getElementById("method").textContent = "Protection : " + p.disclosure.method + ".";
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", ev => ev.preventDefault());
  document.querySelectorAll("[data-add]").forEach(b => b.addEventListener("click", () => {
    const li = addRule(b.dataset.add);
    const first = li.querySelector("input, select");
    if (first) first.focus();
    changed();
  }));

  // --- save, load, export, import ------------------------------------------------------------
  const status = document.getElementById("save-status");
  const savedList = document.getElementById("saved-list");
  function say(text, bad) { status.textContent = text; status.classList.toggle("error", !!bad); }

  function load(def) {
    document.getElementById("c-name").value = def.name || "";
    document.getElementById("c-title").value = def.title_fr || "";
    document.getElementById("c-index").value = def.index_date || "";
    rulesBox.replaceChildren();
    readers.clear();
    (def.rules || []).forEach(r => addRule(r.type, r));
    count();
  }
  function remember(saved) {
    loaded = { id: saved.id, version: saved.version, mine: saved.mine };
    let opt = [...savedList.options].find(o => o.value === String(saved.id));
    if (!opt) opt = savedList.appendChild(el("option", { value: saved.id }));
    opt.textContent = saved.title_fr + " (v" + saved.version + ")";
    savedList.value = String(saved.id);
    const a = document.getElementById("export-saved");
    a.href = "/api/v1/cohorts/definitions/" + saved.id + "/export?version=" + saved.version;
    a.hidden = false;
    versions(saved.id);
  }
  async function versions(id) {
    const r = await api("GET", "/api/v1/cohorts/definitions/" + id + "/versions");
    const ul = document.getElementById("versions");
    ul.replaceChildren();
    if (!r.ok) return;
    r.data.forEach(v => {
      const li = ul.appendChild(el("li"));
      const a = li.appendChild(el("a", { href: "/api/v1/cohorts/definitions/" + id + "/export?version=" + v.version },
                                  "version " + v.version));
      a.setAttribute("download", "");
      li.appendChild(document.createTextNode(" — " + v.title_fr + ", " + new Date(v.created_at).toLocaleString("fr-FR")));
    });
  }
  async function save(asNew) {
    const body = { definition: definition(), shared_role: document.getElementById("c-share").value || null };
    const update = !asNew && loaded && loaded.mine;
    const r = update ? await api("PUT", "/api/v1/cohorts/definitions/" + loaded.id, body)
                     : await api("POST", "/api/v1/cohorts/definitions", body);
    if (!r.ok) {
      say("Non enregistrée : " + r.data.detail, true);
      if (r.data.errors) showErrors(r.data.errors);
      return;
    }
    remember(r.data);
    say("Enregistrée : version " + r.data.version + ".");
  }
  document.getElementById("save").addEventListener("click", () => save(false));
  document.getElementById("save-new").addEventListener("click", () => save(true));
  document.getElementById("load").addEventListener("click", async () => {
    if (!savedList.value) return;
    const r = await api("GET", "/api/v1/cohorts/definitions/" + savedList.value);
    if (!r.ok) { say(r.data.detail, true); return; }
    document.getElementById("c-share").value = r.data.shared_role || "";
    load(r.data.definition);
    remember(r.data);
    say("Chargée : « " + r.data.title_fr + " », version " + r.data.version + ".");
  });
  document.getElementById("export").addEventListener("click", () => {
    const def = definition();
    const a = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(def, null, 2) + "\n"], { type: "application/json" })),
                        download: (def.name || "cohorte") + ".json" });
    document.body.appendChild(a); a.click(); a.remove();
  });
  document.getElementById("import").addEventListener("change", async ev => {
    const file = ev.target.files[0];
    if (!file) return;
    let def;
    try { def = JSON.parse(await file.text()); }
    catch (e) { say(file.name + " : JSON illisible (" + e.message + ")", true); return; }
    const share = document.getElementById("c-share").value;
    const r = await api("POST", "/api/v1/cohorts/definitions/import" + (share ? "?shared_role=" + share : ""), def);
    ev.target.value = "";
    if (!r.ok) {
      say(file.name + " : " + r.data.detail, true);
      if (r.data.errors) showErrors(r.data.errors);
      return;
    }
    load(def);
    remember(r.data);
    say(file.name + " importé : « " + r.data.title_fr + " », version 1.");
  });

  // --- start ---------------------------------------------------------------------------------
  fetch("/api/v1/terminology/exams", { credentials: "same-origin" }).then(r => r.json()).then(list => {
    exams = list;
    count();
  });
})();
