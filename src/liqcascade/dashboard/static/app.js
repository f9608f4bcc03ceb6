// liqcascade dashboard: one page, no framework. Every text from the server goes through
// textContent (never innerHTML). Results arrive as panels; RENDERERS draws each panel type.
"use strict";

const HEADERS = { "X-Requested-With": "liqcascade" };
const state = { scenario: null, info: null, streams: {} };

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function showError(msg) {
  const box = $("error");
  box.textContent = msg;
  box.hidden = !msg;
}

async function api(method, url, body) {
  const opts = { method, headers: { ...HEADERS } };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  let resp;
  try { resp = await fetch(url, opts); } catch (e) { throw new Error(`cannot reach the server: ${e.message}`); }
  const text = await resp.text();
  let data;
  try { data = JSON.parse(text); } catch { data = { error: text.split("\n")[0] || resp.statusText }; }
  if (!resp.ok) throw new Error(data.error || resp.statusText);
  return data;
}

// ---- panels ------------------------------------------------------------------------------

// plotly sends NumPy arrays as {dtype, bdata: base64}; decoded here into typed arrays, so the
// figure's data (gd.data) holds the numbers themselves
const TYPED = { f8: Float64Array, f4: Float32Array, i4: Int32Array, u4: Uint32Array, i2: Int16Array,
                u2: Uint16Array, i1: Int8Array, u1: Uint8Array, u1c: Uint8ClampedArray };

function decodeArrays(v) {
  if (Array.isArray(v)) return v.map(decodeArrays);
  if (v && typeof v === "object") {
    if (typeof v.bdata === "string" && TYPED[v.dtype] && v.shape === undefined) {
      const bin = atob(v.bdata);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      return new TYPED[v.dtype](bytes.buffer);
    }
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = decodeArrays(x);
    return out;
  }
  return v;
}

function renderFigure(panel, box) {
  const div = el("div", { id: panel.id, class: "figure" });
  box.append(div);
  const fig = panel.figure;
  Plotly.newPlot(div, decodeArrays(fig.data), fig.layout || {}, { responsive: true, displaylogo: false });
}

function renderTable(panel, box) {
  box.append(dataTable(panel.columns, panel.rows, panel.right, panel.id));
  for (const line of panel.footer || []) box.append(el("div", { class: "notes" }, line));
}

// a contagion network or an early-warning score will add their renderers here
const RENDERERS = { figure: renderFigure, table: renderTable };

function dataTable(columns, rows, right, id) {
  const t = el("table", { class: "data" });
  if (id) t.id = id;
  const head = el("tr");
  columns.forEach((c, i) => head.append(el("th", { class: right && right[i] ? "num" : "" }, c)));
  t.append(el("thead", {}, head));
  const body = el("tbody");
  for (const r of rows) {
    const tr = el("tr");
    r.forEach((c, i) => tr.append(el("td", { class: right && right[i] ? "num" : "" }, c === null ? "NULL" : c)));
    body.append(tr);
  }
  t.append(body);
  return t;
}

function renderResult(res) {
  const box = $("results");
  box.replaceChildren();
  box.append(el("h2", { id: "result-title" }, res.title));
  const m = res.meta || {};
  box.append(el("div", { class: "notes", id: "result-meta" },
    `seed ${m.seed} · liqcascade ${m.package_version} (schema ${m.schema_version}) · scenario ${String(m.scenario_hash || "").slice(0, 12)}`));
  for (const p of res.panels) {
    const r = RENDERERS[p.type];
    if (!r) continue;
    const wrap = el("div", { class: "panel", dataset: { panel: p.id } }, el("h3", {}, p.title));
    box.append(wrap);
    r(p, wrap);
  }
  if (res.notes && res.notes.length) {
    const ul = el("ul", { class: "notes" });
    for (const n of res.notes) ul.append(el("li", {}, n));
    box.append(el("div", { class: "panel" }, el("h3", {}, "Modelling notes"), ul));
  }
}

// ---- scenario ----------------------------------------------------------------------------

function setScenario(v) {
  state.scenario = v;
  $("scenario-info").hidden = false;
  $("params").hidden = false;
  $("actions").hidden = false;
  $("scenario-name").textContent = v.name;
  $("scenario-origin").textContent = `(${v.origin})`;
  $("scenario-description").textContent = v.description || "";
  $("scenario-facts").textContent =
    `${v.positions.toLocaleString()} positions · ${v.protocols.map(p => `${p.name} [${p.kind}]`).join(", ")} · ` +
    `${v.steps} steps × ${v.paths} path(s), seed ${v.seed}`;
  $("scenario-toml").href = `/api/scenarios/${v.id}/toml`;
  $("run-curve").disabled = !v.has_curve;
  $("run-curve").title = v.has_curve ? "" : "the static curve covers Aave-rule protocols only";
  const form = $("form-fields");
  form.replaceChildren();
  const groups = {};
  for (const f of v.fields) {
    if (!groups[f.group]) {
      groups[f.group] = el("fieldset", {}, el("legend", {}, f.group));
      form.append(groups[f.group]);
    }
    let input;
    if (f.type === "choice") {
      input = el("select");
      for (const c of f.choices) {
        const o = el("option", { value: c }, c);
        if (c === f.value) o.selected = true;
        input.append(o);
      }
    } else if (f.type === "bool") {
      input = el("input", { type: "checkbox" });
      input.checked = !!f.value;
    } else {
      input = el("input", { type: "text", inputmode: "decimal" });
      input.value = f.value;
    }
    input.dataset.path = f.path;
    input.dataset.type = f.type;
    input.dataset.initial = f.type === "bool" ? String(!!f.value) : String(f.value);
    const id = "f-" + f.path.replace(/[^A-Za-z0-9_-]/g, "_");
    input.id = id;
    groups[f.group].append(el("div", { class: "field" }, el("label", { for: id }, f.label), input));
  }
}

async function loadExamples() {
  const info = await api("GET", "/api/info");
  state.info = info;
  $("version").textContent = `v${info.version} · store ${info.store}`;
  $("opt-mechanisms").value = info.default_mechanisms;
  const ex = await api("GET", "/api/examples");
  const sel = $("example-select");
  sel.replaceChildren();
  for (const e of ex.examples) sel.append(el("option", { value: e.name, title: e.description }, e.name));
  if ([...sel.options].some(o => o.value === "minimal")) sel.value = "minimal";
}

async function pickExample() {
  showError("");
  try { setScenario(await api("POST", "/api/scenarios/example", { name: $("example-select").value })); }
  catch (e) { showError(e.message); }
}

async function upload(ev) {
  ev.preventDefault();
  showError("");
  const scen = $("upload-scenario").files[0];
  if (!scen) { showError("scenario: choose a .toml file to upload"); return; }
  const fd = new FormData();
  fd.append("scenario", scen, scen.name);
  for (const f of $("upload-files").files) fd.append("files", f, f.name);
  try { setScenario(await api("POST", "/api/scenarios/upload", fd)); }
  catch (e) { showError(e.message); }
}

async function applyForm(ev) {
  if (ev) ev.preventDefault();
  showError("");
  const edits = {};
  for (const input of $("form-fields").querySelectorAll("[data-path]")) {
    const v = input.dataset.type === "bool" ? String(input.checked) : input.value;
    if (v !== input.dataset.initial) edits[input.dataset.path] = input.dataset.type === "bool" ? input.checked : v;
  }
  if (!Object.keys(edits).length) return;
  try { setScenario(await api("POST", `/api/scenarios/${state.scenario.id}/edit`, { edits })); }
  catch (e) { showError(e.message); }
}

async function resetForm(ev) {
  ev.preventDefault();
  showError("");
  try { setScenario(await api("POST", `/api/scenarios/${state.scenario.id}/reset`)); }
  catch (e) { showError(e.message); }
}

// ---- jobs --------------------------------------------------------------------------------

function intOpt(id) {
  const v = $(id).value.trim();
  return v === "" ? null : v;
}

async function submit(kind) {
  showError("");
  if (!state.scenario) { showError("pick or upload a scenario first"); return; }
  const options = {};
  if (kind === "curve") { options.shocks = $("opt-shocks").value; options.mode = $("opt-mode").value; }
  if (kind === "run" || kind === "compare") { options.paths = intOpt("opt-paths"); options.seed = intOpt("opt-seed"); }
  if (kind === "compare") options.mechanisms = $("opt-mechanisms").value;
  if (kind === "mc") { options.paths = intOpt("opt-mc-paths"); options.seed = intOpt("opt-seed"); }
  try {
    const job = await api("POST", "/api/jobs", { kind, scenario: state.scenario.id, options });
    watch(job);
  } catch (e) { showError(e.message); }
}

function jobItem(job) {
  let li = document.querySelector(`#jobs li[data-id="${job.id}"]`);
  if (!li) {
    const cancel = el("button", { class: "secondary cancel", onclick: () => cancelJob(job.id) }, "Cancel");
    li = el("li", { class: "job", dataset: { id: job.id } },
      el("div", { class: "head" }, el("span", { class: "kind" }, job.kind), el("span", { class: "dim" }, job.scenario),
        el("span", { class: "state" }), cancel),
      el("progress", { max: "1", value: "0" }), el("div", { class: "err" }));
    $("jobs").prepend(li);
  }
  return li;
}

function showJob(job) {
  const li = jobItem(job);
  li.className = `job ${job.state}`;
  li.dataset.state = job.state;
  const pct = job.total ? ` ${job.done.toLocaleString()}/${job.total.toLocaleString()}` : "";
  li.querySelector(".state").textContent = job.state + (job.state === "running" ? pct : "");
  const bar = li.querySelector("progress");
  if (job.total) { bar.max = job.total; bar.value = job.done; }
  if (job.state === "done") { bar.max = 1; bar.value = 1; }
  li.querySelector(".cancel").hidden = !(job.state === "queued" || job.state === "running");
  li.querySelector(".err").textContent = job.error || "";
}

function watch(job) {
  showJob(job);
  const es = new EventSource(`/api/jobs/${job.id}/events`);
  state.streams[job.id] = es;
  es.onmessage = async (ev) => {
    const j = JSON.parse(ev.data);
    showJob(j);
    if (["done", "failed", "cancelled"].includes(j.state)) {
      es.close();
      delete state.streams[job.id];
      if (j.state === "done") {
        try { renderResult(await api("GET", `/api/jobs/${j.id}/result`)); } catch (e) { showError(e.message); }
      }
    }
  };
  es.onerror = () => { /* the browser reconnects; a finished job's stream simply ends */ };
}

async function cancelJob(id) {
  try { showJob(await api("POST", `/api/jobs/${id}/cancel`)); } catch (e) { showError(e.message); }
}

// ---- run store -----------------------------------------------------------------------------

async function loadRuns() {
  showError("");
  try {
    const r = await api("GET", "/api/runs");
    $("runs-store").textContent = r.store;
    const cols = ["run id", "kind", "scenario", "points", "paths", "seed", "chunks", "status", "created"];
    const rows = r.runs.map(x => [x.run_id, x.kind, x.scenario_name, x.n_points, x.paths, x.seed,
      `${x.chunks_stored}/${x.n_chunks}`, x.status, x.created || "-"]);
    const t = dataTable(cols, rows, cols.map(c => ["points", "paths", "seed", "chunks"].includes(c)), "runs-list");
    t.querySelectorAll("tbody tr").forEach((tr, i) => {
      tr.classList.add("clickable");
      tr.addEventListener("click", () => showRun(r.runs[i].run_id));
    });
    $("runs-table").replaceChildren(r.runs.length ? t : el("p", { class: "dim" }, "no runs in this store yet"));
  } catch (e) { showError(e.message); }
}

async function showRun(id) {
  showError("");
  try {
    const d = await api("GET", `/api/runs/${id}`);
    const box = $("run-detail");
    box.replaceChildren(el("h3", {}, `run ${d.run.run_id} — ${d.run.scenario_name} (${d.run.kind}, ${d.run.status})`));
    const keys = ["paths", "var95", "es95", "lar95", "p_insolvency", "bad_debt_mean", "liquidated_mean"];
    const rows = d.points.map(p => [p.index, JSON.stringify(p.params), p.status,
      ...keys.map(k => p.metrics && p.metrics[k] !== null && p.metrics[k] !== undefined ? Number(p.metrics[k]).toLocaleString(undefined, { maximumSignificantDigits: 6 }) : "-")]);
    box.append(dataTable(["#", "parameters", "status", ...keys], rows, [true, false, false, ...keys.map(() => true)], "run-points"));
    for (const p of d.panels) RENDERERS[p.type](p, box);
  } catch (e) { showError(e.message); }
}

async function runSql() {
  showError("");
  try {
    const r = await api("POST", "/api/sql", { query: $("sql-query").value, limit: 1000 });
    $("sql-result").replaceChildren(dataTable(r.columns, r.rows, null, "sql-table"),
      el("div", { class: "notes" }, `${r.rows.length} row(s)`));
  } catch (e) { showError(e.message); }
}

// ---- wiring --------------------------------------------------------------------------------

function showTab(name) {
  for (const b of document.querySelectorAll("button.tab")) b.classList.toggle("active", b.dataset.tab === name);
  $("page-work").hidden = name !== "work";
  $("page-runs").hidden = name !== "runs";
  if (name === "runs") loadRuns();
}

document.addEventListener("DOMContentLoaded", async () => {
  $("example-load").addEventListener("click", pickExample);
  $("upload-form").addEventListener("submit", upload);
  $("form-apply").addEventListener("click", applyForm);
  $("form-fields").addEventListener("submit", applyForm);
  $("form-reset").addEventListener("click", resetForm);
  for (const k of ["curve", "run", "compare", "mc"]) $(`run-${k}`).addEventListener("click", () => submit(k));
  for (const b of document.querySelectorAll("button.tab")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("runs-refresh").addEventListener("click", loadRuns);
  $("sql-run").addEventListener("click", runSql);
  try { await loadExamples(); document.body.dataset.ready = "1"; } catch (e) { showError(e.message); }
});
