// The controls of `llm-roofline serve`, added to report.html by render_live_page(). They
// turn the inputs into a request body, send it to the app's JSON API (same origin, relative
// paths) and hand the answer to the page's show(doc); the serving-curve tab draws the
// answer of api/serve-curve, the plan tab that of api/plan. Like the rest of the page this computes nothing: every number
// shown comes from an API answer. The URL's query holds the inputs, to share or bookmark.
"use strict";
(() => {
const live = document.getElementById("live");
const WORKLOAD = [  // [URL key, Workload field, label]
  ["batch", "batch_size", "batch"], ["prompt", "prompt_len", "prompt length"],
  ["context", "context_len", "context length"], ["output", "output_len", "output length"],
  ["weights", "weight_dtype", "weights"], ["acts", "activation_dtype", "activations"],
  ["kv", "kv_dtype", "KV cache"], ["attention", "attention", "attention"], ["engine", "engine", "engine profile"]];
const LAYOUT = [["tp", "tensor", "tensor parallel"], ["pp", "pipeline", "pipeline stages"],
  ["ep", "expert", "expert parallel"], ["dp", "data", "replicas (data)"], ["mb", "micro_batches", "micro-batches"]];
const CURVE = [["chunk", "chunk_size", "prefill chunk"], ["price", "price_per_device_hour", "price / device-hour"]];
const PLAN = [["total", "devices", "plan: devices"], ["ttft", "ttft_s", "plan: TTFT limit (ms)"],
  ["tpot", "tpot_s", "plan: TPOT limit (ms)"], ["rate", "requests_per_s", "plan: requests/s"]];
const TABS = [["report", "Report", "app"], ["curve", "Serving curve", "curve"], ["plan", "Plan", "plan"]];
const UPLOAD_KEY = "llm-roofline-upload";
let OPTIONS, MODELS, HARDWARE, devices = [], upload = null, tab = "report", timer, seq = 0, inflight = null, shown = null;
const ctl = key => document.getElementById("ctl-" + key);

// ---- talking to the API ---------------------------------------------------------------
async function call(path, body, signal) {
  const init = body === undefined ? {signal} : {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body), signal};
  const res = await fetch("api/" + path, init);
  let data = null;
  try { data = await res.json(); } catch (e) { data = {error: `${res.status} ${res.statusText}`}; }
  if (!res.ok) throw Object.assign(new Error(data.error || res.statusText), {field: data.field});
  return data;
}
function text(key) { const el = ctl(key); return el && !el.hidden && el.value.trim() !== "" ? el.value.trim() : undefined; }
function value(key, field) {  // numbers as numbers; anything else goes as typed, for the API to judge
  const t = text(key);
  if (t === undefined || OPTIONS.choices[field]) return t;
  return /^-?\d+(\.\d+)?(e\d+)?$/i.test(t) ? Number(t) : t;
}
function inputs() {
  const workload = {}, layout = {}, m = text("model") || OPTIONS.default_model;
  for (const [key, field] of WORKLOAD) { const v = value(key, field); if (v !== undefined) workload[field] = v; }
  for (const [key, field] of LAYOUT) { const v = value(key, field); if (v !== undefined) layout[field] = v; }
  return {model: upload && m === upload.label ? upload.config : m, workload, layout};
}

// ---- state: the URL's query ----------------------------------------------------------
function writeURL() {
  const q = new URLSearchParams();
  if (text("model")) q.set("model", upload && text("model") === upload.label ? "upload:" + upload.name : text("model"));
  q.set("hw", devices.join(","));
  for (const [key] of [...WORKLOAD, ...LAYOUT, ...CURVE, ...PLAN]) {
    const t = text(key), el = ctl(key);
    if (t !== undefined && !(el.tagName === "SELECT" && t === el.dataset.default)) q.set(key, t);
  }
  if (tab !== "report") q.set("tab", tab);
  history.replaceState(null, "", "?" + q.toString());
}
function readURL() {
  const q = new URLSearchParams(location.search);
  for (const [key] of [...WORKLOAD, ...LAYOUT, ...CURVE, ...PLAN]) if (q.has(key) && ctl(key)) ctl(key).value = q.get(key);
  const m = q.get("model") || OPTIONS.default_model;
  if (m.startsWith("upload:")) {
    const saved = JSON.parse(sessionStorage.getItem(UPLOAD_KEY) || "null");
    if (saved && "upload:" + saved.name === m) useUpload(saved.name, saved.config);
    else { ctl("model").value = OPTIONS.default_model; fail({message: `model: the uploaded ${m.slice(7)} is not kept in this browser session; upload it again`, field: "model"}); }
  } else ctl("model").value = m;
  devices = (q.get("hw") || OPTIONS.default_hardware).split(",").filter(Boolean);
  for (const box of document.querySelectorAll("#ctl-devices input[type=checkbox]")) box.checked = devices.includes(box.value);
  setTab(TABS.some(([t]) => t === q.get("tab")) ? q.get("tab") : "report", false);
}

// ---- feedback ------------------------------------------------------------------------
function status(state, words) {  // data-state (pending, busy, ready, error) is for scripts and tests
  live.dataset.state = state;
  const el = document.getElementById("status");
  if (el) el.textContent = words;
}
function clearError() {
  document.getElementById("error").hidden = true;
  for (const el of live.querySelectorAll("[aria-invalid=true]")) el.removeAttribute("aria-invalid");
}
function controlOf(field) {  // "workload.batch_size" -> the batch control
  const name = String(field || "").split(".").pop().replace(/\[\d+\]$/, "");
  const hit = [...WORKLOAD, ...LAYOUT, ...CURVE, ...PLAN].find(([, f]) => f === name || String(field).endsWith("." + f));
  if (hit) return ctl(hit[0]);
  if (String(field).startsWith("model")) return ctl("model");
  if (String(field).startsWith("hardware")) return ctl("devices");
  return null;
}
function fail(e) {
  const box = document.getElementById("error");
  box.textContent = e.message; box.hidden = false;
  const el = controlOf(e.field);
  if (el) el.setAttribute("aria-invalid", "true");
  status("error", "the last change was not analyzed: see the message above; the report shown is the previous one");
}

// ---- updating ------------------------------------------------------------------------
function schedule(ms = 250) { status("pending", "waiting for input…"); clearTimeout(timer); timer = setTimeout(update, ms); }
async function update() {
  writeURL();
  const my = ++seq;
  if (inflight) inflight.abort();
  inflight = new AbortController();
  const base = inputs(), signal = inflight.signal;
  status("busy", "analyzing…");
  try {
    const doc = await call("page", {...base, hardware: devices}, signal);
    if (my !== seq) return;
    clearError(); show(doc);
    await updateCurve(base, my, signal);
    await updatePlan(base, my, signal);
    if (my === seq) status("ready", `analysis of ${devices.length} device${devices.length > 1 ? "s" : ""} updated`);
  } catch (e) { if (e.name !== "AbortError" && my === seq) fail(e); }
}
async function updateCurve(base, my, signal) {
  const price = value("price", "price_per_device_hour"), box = document.getElementById("curve"), cost = document.getElementById("cost");
  if (tab !== "curve" && price === undefined) { box.replaceChildren(); cost.textContent = ""; return; }
  const batch = base.workload.batch_size ?? OPTIONS.workload.batch_size, limit = OPTIONS.limits.batch_size;
  const sizes = [...new Set([...OPTIONS.serve_curve.batch_sizes, batch])].filter(b => Number.isInteger(b) && b <= limit);
  const body = {...base, hardware: devices[state.cur] || devices[0], price_per_device_hour: price, chunk_size: value("chunk", "chunk_size")};
  let curve = await call("serve-curve", {...body, batch_sizes: sizes.sort((a, b) => a - b)}, signal);
  const marks = [curve.max_batch_size, curve.compute_bound_batch_size].filter(b => b != null && b <= limit && !sizes.includes(b));
  if (marks.length && sizes.length + marks.length <= OPTIONS.limits.batch_sizes)  // the marked batches as points of their own
    curve = await call("serve-curve", {...body, batch_sizes: [...sizes, ...marks].sort((a, b) => a - b)}, signal);
  if (my !== seq) return;
  const here = curve.points.find(p => p.batch_size === batch);
  cost.textContent = price === undefined || !here || here.cost_per_million_tokens == null ? ""
    : `cost: ${num(here.cost_per_million_tokens)} per million output tokens at batch ${count(batch)} (from the serving curve)` + (here.fits ? "" : "; this batch does not fit");
  shown = tab === "curve" ? [curve, batch] : null;
  box.replaceChildren(...(shown ? curveView(curve, batch) : []));
  if (shown) drawCurve(...shown);
}

// ---- the plan tab --------------------------------------------------------------------
function ms(key, field) { const v = value(key, field); return typeof v === "number" ? v / 1e3 : v; }  // the API takes seconds
async function updatePlan(base, my, signal) {
  const box = document.getElementById("plan");
  if (tab !== "plan") { box.replaceChildren(); return; }
  const w = base.workload, totals = text("total");
  const body = {model: base.model, hardware: devices.slice(0, OPTIONS.limits.plan_hardware),
    devices: totals === undefined ? [8] : totals.split(",").map(t => /^\d+$/.test(t.trim()) ? Number(t) : t.trim()),
    prompt_len: w.prompt_len, output_len: w.output_len, ttft_s: ms("ttft", "ttft_s"), tpot_s: ms("tpot", "tpot_s"),
    requests_per_s: value("rate", "requests_per_s"), activation_dtype: w.activation_dtype,
    weight_dtypes: w.weight_dtype === undefined ? undefined : [w.weight_dtype], kv_dtypes: w.kv_dtype === undefined ? ["bf16", "fp8"] : [w.kv_dtype],
    chunk_sizes: value("chunk", "chunk_size") === undefined ? undefined : [value("chunk", "chunk_size")]};
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  const plan = await call("plan", body, signal);
  if (my !== seq) return;
  box.replaceChildren(...planView(plan));
}
function deploymentRow(d) {
  return h("tr", {}, h("td", {class: "l"}, d.label), h("td", {}, secs(d.ttft_s)), h("td", {}, secs(d.tpot_s)),
    h("td", {}, count(d.tokens_per_s_per_device)), h("td", {}, num(d.tokens_per_s_per_user)), h("td", {}, num(d.requests_per_s)),
    h("td", {}, si(d.memory_bytes_per_device, "B")), h("td", {class: "l " + d.decode_bound}, d.decode_bound.replace("-bound", "")));
}
function deploymentTable(rows) {
  return h("div", {class: "scroll"}, h("table", {}, h("thead", {}, h("tr", {}, h("th", {class: "l"}, "deployment"),
    ["TTFT", "TPOT", "tokens/s/device", "tokens/s/user", "requests/s", "memory/device"].map(k => h("th", {}, k)), h("th", {class: "l"}, "decode"))),
    h("tbody", {}, rows.map(deploymentRow))));
}
function planView(p) {
  const b = p.best, sla = p.sla, limits = [["TTFT", sla.ttft_s], ["TPOT", sla.tpot_s]].filter(([, v]) => v != null).map(([k, v]) => `${k} ≤ ${secs(v)}`);
  if (sla.requests_per_s != null) limits.push(`≥ ${num(sla.requests_per_s)} requests/s`);
  return [h("section", {class: "card", id: "plan-best"},
    h("h2", {}, `Plan: ${p.model}`),
    h("p", {class: "small muted"}, `${limits.join(", ") || "no limits"} · objective tokens/s per ${p.objective === "dollar" ? "dollar" : "device"} · ` +
      `searched ${count(p.searched)} deployments (every layout; the tensor/pipeline/expert inputs above are not used here)`),
    h("p", {}, h("b", {}, `Best (${b.mode}): ${b.label}`)),
    h("p", {}, `TTFT ${secs(b.ttft_s)}, TPOT ${secs(b.tpot_s)}, ${count(b.tokens_per_s_per_device)} tokens/s per device, ${num(b.tokens_per_s_per_user)} per user, ` +
      `${num(b.requests_per_s)} requests/s, ${si(b.memory_bytes_per_device, "B")} per device (${si(b.memory_headroom_bytes, "B")} free)`),
    h("p", {class: "small"}, `Why: ${b.why}`)),
    h("section", {class: "card"}, h("h2", {}, "Best of each layout"), deploymentTable(p.candidates)),
    h("section", {class: "card"}, h("h2", {}, "Pareto frontier"), h("p", {class: "small muted"}, "tokens/s per device against tokens/s per user over every deployment that fits (the limits not applied)"),
      deploymentTable(p.pareto))];
}

// ---- the serving-curve tab -----------------------------------------------------------
function curveView(c, batch) {
  const cost = c.price_per_device_hour != null, par = c.parallelism;
  const rows = c.points.map(p => h("tr", {class: p.batch_size === batch ? "sel" : null},
    h("td", {}, count(p.batch_size)), h("td", {}, secs(p.ttft_s)), h("td", {}, secs(p.tpot_s)), h("td", {}, secs(p.e2e_latency_s)),
    h("td", {}, count(p.output_tokens_per_s)), h("td", {}, count(p.output_tokens_per_s_per_device)), h("td", {}, si(p.memory_bytes_per_device, "B")),
    h("td", {class: "l"}, h("span", {class: "badge " + (p.fits ? "fit" : "nofit")}, p.fits ? "fits" : "no")),
    h("td", {class: "l " + p.decode_bound}, p.decode_bound.replace("-bound", "")), cost ? h("td", {}, p.cost_per_million_tokens == null ? "–" : num(p.cost_per_million_tokens)) : null));
  return [h("section", {class: "card"},
    h("h2", {}, `Serving: ${c.model} on ${c.devices} × ${c.hardware}`),
    h("p", {class: "small muted"}, `tensor ${par.tensor} × pipeline ${par.pipeline} × expert ${par.expert}, ${par.micro_batches} micro-batches · prompt ${count(c.prompt_len)}, ` +
      `output ${count(c.output_len)} tokens` + (c.chunk_size ? ` · TTFT with prefill chunks of ${count(c.chunk_size)}` : "")),
    h("p", {}, c.max_batch_size == null ? "Not even batch 1 fits in memory." : `Largest batch that fits: ${count(c.max_batch_size)} ` +
      `(${si(c.usable_memory_bytes_per_device, "B")} usable per device, ${Math.round(c.reserve_fraction * 100)}% kept free). `,
      c.compute_bound_batch_size == null ? "Decode stays memory-bound at every batch." : `Decode turns compute-bound at batch ${count(c.compute_bound_batch_size)}.`),
    s("svg", {id: "curve-chart", role: "img", "aria-label": "throughput against end-to-end latency"}),
    h("p", {class: "small muted key"}, "Each point is one batch size: x its end-to-end latency (TTFT + every decode step), y the output tokens/s of all devices. ",
      h("i", {style: "background:var(--memory)"}), "decode memory-bound", h("i", {style: "background:var(--compute)"}), "compute-bound · hollow: does not fit · dashed line: the memory limit · ring: the batch where decode turns compute-bound."),
    h("div", {class: "scroll"}, h("table", {}, h("thead", {}, h("tr", {}, ["batch", "TTFT", "TPOT", "e2e", "tokens/s", "tokens/s/device", "memory/device"].map(k => h("th", {}, k)),
      h("th", {class: "l"}, "fits"), h("th", {class: "l"}, "decode"), cost ? h("th", {}, "cost / M tokens") : null)), h("tbody", {}, rows))))];
}
function drawCurve(c, batch) {
  const svg = document.getElementById("curve-chart"), pts = c.points.filter(p => p.e2e_latency_s > 0 && p.output_tokens_per_s > 0);
  if (!svg || !pts.length) return;
  const W = Math.round(Math.max(300, Math.min(svg.getBoundingClientRect().width || 760, 1080))), H = Math.round(W < 560 ? W * .85 : W * .45);
  const L = 52, R = 16, T = 34, B = 42, xs = pts.map(p => p.e2e_latency_s), ys = pts.map(p => p.output_tokens_per_s);
  const lx0 = Math.floor(Math.log10(Math.min(...xs))), lx1 = Math.max(Math.ceil(Math.log10(Math.max(...xs))), lx0 + 1);
  const ly0 = Math.floor(Math.log10(Math.min(...ys))), ly1 = Math.max(Math.ceil(Math.log10(Math.max(...ys))), ly0 + 1);
  const X = v => L + (Math.log10(v) - lx0) / (lx1 - lx0) * (W - L - R), Y = v => T + (ly1 - Math.log10(v)) / (ly1 - ly0) * (H - T - B);
  const g = [];
  const tick = v => secs(v).replace(/\.0+ /, " ");  // decades: "1 s", "100 ms"
  for (let k = lx0; k <= lx1; k++) g.push(s("line", {x1: X(10 ** k), x2: X(10 ** k), y1: T, y2: H - B, stroke: "var(--grid)"}), s("text", {x: X(10 ** k), y: H - B + 17, "text-anchor": "middle"}, tick(10 ** k)));
  for (let k = ly0; k <= ly1; k++) g.push(s("line", {x1: L, x2: W - R, y1: Y(10 ** k), y2: Y(10 ** k), stroke: "var(--grid)"}), s("text", {x: L - 5, y: Y(10 ** k) + 4, "text-anchor": "end"}, axis(10 ** k)));
  g.push(s("text", {x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle"}, "end-to-end latency per request"),
    s("text", {x: 12, y: (T + H - B) / 2, transform: `rotate(-90 12 ${(T + H - B) / 2})`, "text-anchor": "middle"}, "output tokens/s"),
    s("polyline", {points: pts.map(p => `${X(p.e2e_latency_s).toFixed(1)},${Y(p.output_tokens_per_s).toFixed(1)}`).join(" "), fill: "none", stroke: "var(--muted)", "stroke-opacity": .6}));
  const limit = pts.find(p => p.batch_size === c.max_batch_size), crit = pts.find(p => p.batch_size === c.compute_bound_batch_size);
  if (limit) { const x = X(limit.e2e_latency_s);  // its label on the top row, the critical batch's on the second: they cannot collide
    g.push(s("line", {x1: x, x2: x, y1: T - 4, y2: H - B, stroke: "var(--memory)", "stroke-dasharray": "5 4"}),
      s("text", {class: "lbl", x, y: T - 22, "text-anchor": x > W / 2 ? "end" : "start", fill: "var(--memory)"}, `memory limit · batch ${count(limit.batch_size)}`)); }
  if (crit) { const x = X(crit.e2e_latency_s), y = Y(crit.output_tokens_per_s);
    g.push(s("circle", {cx: x, cy: y, r: 11, fill: "none", stroke: "var(--compute)", "stroke-width": 2}),
      s("text", {class: "lbl", x, y: T - 8, "text-anchor": x > W / 2 ? "end" : "start", fill: "var(--compute)"}, `compute-bound from batch ${count(crit.batch_size)}`)); }
  const place = placer();
  for (const p of pts) {
    const x = X(p.e2e_latency_s), y = Y(p.output_tokens_per_s), c1 = `var(--${p.decode_bound === "compute-bound" ? "compute" : "memory"})`;
    const kids = () => [h("div", {}, h("b", {}, `batch ${count(p.batch_size)}` + (p.fits ? "" : " · does not fit")),
      `e2e ${secs(p.e2e_latency_s)} · TTFT ${secs(p.ttft_s)} · TPOT ${secs(p.tpot_s)}`, h("br"), `${count(p.output_tokens_per_s)} tokens/s · ${si(p.memory_bytes_per_device, "B")} per device · decode ${p.decode_bound}`)];
    g.push(s("circle", {class: "pt", cx: x, cy: y, r: p.batch_size === batch ? 7 : 5, fill: p.fits ? c1 : "var(--card)", stroke: c1, "stroke-width": 2, ...tipEvents(kids, `batch ${p.batch_size}`)}));
    const end = x > W - R - 40;  // a label that would touch another is left to the tip
    g.push(place({x: end ? x - 8 : x + 8, y: y + 14, "text-anchor": end ? "end" : "start"}, count(p.batch_size)));
  }
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.replaceChildren(...g);
}
function setTab(name, go = true) {
  tab = name;
  for (const [t, , box] of TABS) {
    document.getElementById("tab-" + t).setAttribute("aria-selected", String(t === tab));
    document.getElementById(box).hidden = t !== tab;
  }
  if (go) update();
}

// ---- the controls --------------------------------------------------------------------
function field(key, label, input) { input.id = "ctl-" + key; return h("label", {for: input.id}, label, input); }
function numberBox(key, label, placeholder) {
  return field(key, label, h("input", {type: "text", inputmode: "decimal", autocomplete: "off", placeholder: placeholder == null ? "" : String(placeholder), oninput: () => schedule()}));
}
function choiceBox(key, name, label) {
  const options = OPTIONS.choices[name] || [], dflt = OPTIONS.workload[name];
  const sel = h("select", {"data-default": dflt == null ? "" : dflt, onchange: () => schedule(0)}, dflt == null ? h("option", {value: ""}, "default") : null,
    options.map(o => h("option", {value: o, selected: o === dflt ? "" : null}, o)));
  return field(key, label, sel);
}
function useUpload(name, config) {
  upload = {name, config, label: `${name} (uploaded)`};
  ctl("model").value = upload.label;
  try { sessionStorage.setItem(UPLOAD_KEY, JSON.stringify({name, config})); } catch (e) { /* storage full or off: the URL cannot restore it */ }
}
function readUpload(ev) {
  const file = ev.target.files[0];
  if (!file) return;
  status("pending", `reading ${file.name}…`);
  file.text().then(t => {
    let config;
    try { config = JSON.parse(t); } catch (e) { fail({message: `model: ${file.name} is not JSON (${e.message})`, field: "model"}); return; }
    useUpload(file.name, config); schedule(0);
  });
}
function toggleDevice(id, on) { devices = on ? [...devices.filter(d => d !== id), id] : devices.filter(d => d !== id); state.cur = 0; schedule(0); }
function deviceList() {
  const filter = h("input", {type: "search", id: "ctl-device-filter", placeholder: "filter devices", "aria-label": "filter devices",
    oninput: ev => { const q = ev.target.value.toLowerCase(); for (const l of document.querySelectorAll(".devlist label")) l.hidden = !l.dataset.words.includes(q); }});
  return h("fieldset", {id: "ctl-devices", class: "span devices"}, h("legend", {}, "devices (the first is the reference; several: compared)"), filter,
    h("div", {class: "devlist"}, HARDWARE.map(d => h("label", {"data-words": `${d.id} ${d.name} ${d.vendor}`.toLowerCase()},
      h("input", {type: "checkbox", value: d.id, id: "dev-" + d.id, onchange: ev => toggleDevice(d.id, ev.target.checked)}),
      h("span", {}, d.name, h("span", {class: "muted small"}, ` ${si(d.bandwidth_bytes_per_s, "B/s")} · ${si(d.memory_bytes, "B")}`))))));
}
function controls() {
  const models = h("datalist", {id: "model-list"}, MODELS.map(m => h("option", {value: m.alias}, `${m.id} · ${params(m.parameters)}`)));
  const model = h("input", {id: "ctl-model", list: "model-list", autocomplete: "off", spellcheck: "false", placeholder: "search presets", onchange: () => { upload = upload && ctl("model").value === upload.label ? upload : null; schedule(0); }});
  const workload = WORKLOAD.filter(([, f]) => f in OPTIONS.workload && !(f === "engine" && !OPTIONS.engines.length)).map(([key, f, label]) =>
    OPTIONS.choices[f] ? choiceBox(key, f, label) : numberBox(key, label, f === "context_len" ? "= prompt" : OPTIONS.workload[f]));
  const layout = LAYOUT.filter(([, f]) => f in OPTIONS.layout).map(([key, f, label]) => numberBox(key, label, OPTIONS.layout[f]));
  const curve = CURVE.map(([key, , label]) => numberBox(key, label, "none"));
  const plan = PLAN.map(([key, , label]) => numberBox(key, label, key === "total" ? "8" : "none"));
  return h("section", {class: "card"},
    h("div", {class: "row"}, h("h2", {}, "Inputs"), h("p", {id: "status", class: "small muted", role: "status", "aria-live": "polite"}, "")),
    h("div", {class: "controls"}, h("label", {for: "ctl-model", class: "wide"}, "model", model, models),
      h("label", {for: "ctl-upload"}, "or upload a config.json", h("input", {type: "file", id: "ctl-upload", accept: ".json,application/json", onchange: readUpload})),
      ...workload, ...layout, ...curve, ...plan, h("output", {id: "cost", class: "span small", for: "ctl-price"}), deviceList()),
    h("p", {id: "error", class: "alert", role: "alert", hidden: ""}),
    h("div", {class: "pills", role: "tablist", "aria-label": "views"}, TABS.map(([t, label, box]) =>
      h("button", {role: "tab", id: "tab-" + t, "aria-selected": "false", "aria-controls": box, onclick: () => setTab(t)}, label))));
}
async function boot() {
  status("busy", "loading…");
  try { [OPTIONS, MODELS, HARDWARE] = await Promise.all(["options", "models", "hardware"].map(p => call(p))); }
  catch (e) { live.hidden = false; live.replaceChildren(h("p", {id: "error", class: "alert", role: "alert"}, `cannot reach the app's API: ${e.message}`)); return; }
  live.replaceChildren(controls());
  document.getElementById("app").after(h("div", {id: "curve", hidden: ""}), h("div", {id: "plan", hidden: ""}));
  live.hidden = false;
  readURL();
  update();
}
let resizing;
addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(() => shown && drawCurve(...shown), 150); });
boot();
})();
