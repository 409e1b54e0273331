/* trollscope workbench: views over the JSON API. The hash holds each view's state
   (#/cluster/3?layer=co-repost&min_weight=5), so a link reopens the same view. Every value from
   the data is put in the page as text (textContent), never as HTML. */
"use strict";

const LAYER_COLORS = {
  "co-repost": "#e15759", "co-post": "#4e79a7", "near-dup": "#f28e2b", "co-hashtag": "#59a14f",
  "co-link": "#b07aa1", "co-mention": "#9c755f", "co-reply": "#edc948", "similarity": "#76b7b2",
  "cross-platform": "#ff9da7",
};
const EXTRA_COLORS = ["#bab0ac", "#86bcb6", "#d37295", "#a0cbe8", "#8cd17d"];
const CLUSTER_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
  "#ff9da7", "#9c755f", "#bab0ac", "#499894", "#d37295", "#86bcb6", "#8cd17d", "#b6992d", "#a0cbe8"];
const PAGE = 50;
const state = { sigma: null, summary: null };
window.workbench = state; // read by the browser test and handy in the console

function layerColor(layer) {
  if (!(layer in LAYER_COLORS)) {
    LAYER_COLORS[layer] = EXTRA_COLORS[Object.keys(LAYER_COLORS).length % EXTRA_COLORS.length];
  }
  return LAYER_COLORS[layer];
}

// -- DOM helpers -----------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "style") Object.assign(e.style, v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const fmt = (n) => (n === null || n === undefined ? "–" : typeof n === "number" ? n.toLocaleString("en-US", { maximumFractionDigits: 3 }) : String(n));
const fmtP = (p) => (p === null || p === undefined ? "–" : p === 0 ? "< 1e-300" : p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const day = (t) => (t ? String(t).slice(0, 10) : "–");
const accountLink = (id, handle) => el("a", { href: "#/account/" + encodeURIComponent(id) }, "@" + (handle || id));
const clusterLink = (id) => el("a", { href: "#/cluster/" + id }, "cluster " + id);
function pill(layer) { return el("span", { class: "pill", style: { background: layerColor(layer) } }, layer); }
function card(value, label) { return el("div", { class: "card" }, el("b", {}, fmt(value)), el("span", {}, label)); }

function tableOf(columns, rows, empty) {
  if (!rows.length) return el("p", { class: "muted" }, empty || "Nothing to show.");
  return el("table", {},
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { class: c.num ? "num" : null }, c.label)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, columns.map((c) => el("td", { class: c.num ? "num" : c.text ? "text" : null }, c.cell(r)))))));
}

// -- the API ----------------------------------------------------------------------------------
async function api(path, params) {
  const qs = params ? "?" + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "")) : "";
  const r = await fetch("/api/" + path + qs, { headers: { accept: "application/json" } });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}
const exportUrl = (path, params) => "/api/" + path + "?" + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== ""));

// -- routing ----------------------------------------------------------------------------------
function route() {
  const h = location.hash.replace(/^#/, "") || "/";
  const [path, query] = h.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || "home", arg: parts[1], params: new URLSearchParams(query || "") };
}
function go(view, arg, params) {
  const qs = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== null && v !== undefined && v !== "")).toString();
  location.hash = "#/" + view + (arg !== undefined && arg !== null ? "/" + encodeURIComponent(arg) : "") + (qs ? "?" + qs : "");
}
function setParam(key, value) { // the view's state changes without redrawing it (a chosen edge)
  const r = route();
  if (value === null) r.params.delete(key); else r.params.set(key, value);
  const qs = r.params.toString();
  history.replaceState(null, "", "#/" + [r.view, r.arg].filter((x) => x !== undefined).map(encodeURIComponent).join("/") + (qs ? "?" + qs : ""));
}

async function render() {
  const view = document.getElementById("view");
  if (state.sigma) { state.sigma.kill(); state.sigma = null; }
  state.chosenEdge = null;
  const r = route();
  const views = { home, cluster: clusterView, graph: graphView, account: accountView, posts: postsView };
  const fn = views[r.view];
  view.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  try {
    if (!fn) throw new Error("no such view: " + r.view);
    const content = await fn(r);
    view.replaceChildren(...[content].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
    if (content.after) content.after();
  } catch (e) {
    view.replaceChildren(el("h1", {}, "Could not show this view"), el("p", { class: "error" }, e.message), el("p", {}, el("a", { href: "#/" }, "Back to the overview")));
  }
  view.dataset.ready = r.view;
}

// -- charts -----------------------------------------------------------------------------------
const SVGNS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
/* A line per series over time; `share` divides each series by its own total, so a cluster of a few
   accounts can be compared with the rest of the collection. */
function timeline(rows, series, share) {
  const W = 1000, H = 140, L = 40, B = 18, T = 8;
  const svg = svgEl("svg", { class: "timeline", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img" });
  if (!rows.length) { svg.append(svgEl("text", { x: 10, y: 20 }, "no dated posts")); return svg; }
  const t = rows.map((r) => Date.parse(String(r.period).replace(" ", "T") + "Z"));
  const t0 = Math.min(...t), t1 = Math.max(...t) || t0 + 1;
  const x = (v) => L + ((v - t0) / Math.max(t1 - t0, 1)) * (W - L - 8);
  let ymax = 0;
  const values = series.map((s) => {
    const tot = rows.reduce((a, r) => a + (r[s.key] || 0), 0) || 1;
    const v = rows.map((r) => (r[s.key] || 0) / (share ? tot : 1));
    ymax = Math.max(ymax, ...v);
    return v;
  });
  ymax = ymax || 1;
  const y = (v) => H - B - (v / ymax) * (H - B - T);
  series.forEach((s, i) => {
    const pts = values[i].map((v, j) => `${x(t[j]).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    svg.append(svgEl("polyline", { points: pts, fill: "none", stroke: s.color, "stroke-width": 1.5, "vector-effect": "non-scaling-stroke" }));
  });
  svg.append(svgEl("line", { x1: L, x2: W, y1: H - B, y2: H - B, stroke: "#d9dee7" }));
  const y0 = new Date(t0).getUTCFullYear(), y1 = new Date(t1).getUTCFullYear();
  for (let yr = y0; yr <= y1 + 1; yr++) {
    const tx = Date.UTC(yr, 0, 1);
    if (tx < t0 || tx > t1) continue;
    svg.append(svgEl("text", { x: x(tx), y: H - 4 }, String(yr)));
  }
  svg.append(svgEl("text", { x: 2, y: T + 8 }, share ? (ymax * 100).toFixed(1) + "%" : fmt(ymax)));
  return svg;
}
function seriesLegend(series) {
  return el("div", { class: "legend" }, series.map((s) => el("span", {}, el("i", { style: { background: s.color } }), s.label)));
}
function scaleFilter(params, onChange) {
  return el("label", {}, "time scale", el("select", { name: "scale", onchange: (e) => onChange(e.target.value) },
    ["day", "week", "month"].map((s) => el("option", { value: s, selected: (params.get("scale") || "week") === s ? "selected" : null }, s))));
}

// -- views ------------------------------------------------------------------------------------
function groupsTable(groups) { // whatever columns detection wrote; lists (members) shown as accounts
  const cols = Object.keys(groups[0]).filter((k) => !k.endsWith("_count"));
  return tableOf(cols.map((k) => ({
    label: k, num: typeof groups[0][k] === "number",
    cell: (x) => Array.isArray(x[k])
      ? [fmt(x[k + "_count"]), ": ", x[k].map((m, i) => [i ? ", " : "", typeof m === "string" ? accountLink(m, null) : String(m)])]
      : typeof x[k] === "number" && /^(p|q|p_value|q_value)$/.test(k) ? fmtP(x[k]) : typeof x[k] === "object" && x[k] !== null ? JSON.stringify(x[k]) : fmt(x[k]),
  })), groups);
}

async function home(r) {
  const [s, c] = await Promise.all([api("summary", { scale: r.params.get("scale") }), api("clusters", { limit: 200 })]);
  state.summary = s;
  document.getElementById("ws-path").textContent = s.workspace;
  const det = s.detection || {};
  return [
    el("h1", {}, "Overview"),
    el("div", { class: "cards" }, card(s.posts, "posts"), card(s.accounts, "accounts"), card(det.clusters, "clusters"),
      card(det.flagged, "flagged accounts"), card(day(s.first_post), "first post"), card(day(s.last_post), "last post")),
    el("div", { class: "filters" }, scaleFilter(r.params, (v) => go("home", null, { scale: v }))),
    timeline(s.timeline, [{ key: "posts", color: "#4e79a7", label: "posts" }], false),
    el("h2", {}, "Clusters, strongest evidence first"),
    c.note ? el("p", { class: "muted" }, c.note) : null,
    tableOf([
      { label: "cluster", cell: (x) => clusterLink(x.cluster_id) },
      { label: "accounts", num: true, cell: (x) => fmt(x.size) },
      { label: "p-value", num: true, cell: (x) => fmtP(x.p_value) },
      { label: "score", num: true, cell: (x) => fmt(x.score) },
      { label: "layers (edges)", cell: (x) => Object.entries(x.layers || {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => el("span", {}, pill(k), fmt(v), " ")) },
      { label: "top accounts", cell: (x) => (x.top_accounts || []).map((a, i) => [i ? ", " : "", accountLink(a.account_id, a.handle)]) },
      { label: "active", cell: (x) => day(x.first_at) + " – " + day(x.last_at) },
    ], c.clusters, "No clusters: run `trollscope detect` on this workspace."),
    s.groups && s.groups.length ? [el("h2", {}, "Groups (detection's group test)"), groupsTable(s.groups)] : null,
    el("h2", {}, "Layers"),
    tableOf([
      { label: "layer", cell: (x) => pill(x.layer) },
      { label: "pairs tested", num: true, cell: (x) => fmt(x.edges) },
      { label: "significant", num: true, cell: (x) => fmt(x.significant) },
    ], s.layers || []),
    el("h2", {}, "Sources"),
    tableOf([
      { label: "inputs", cell: (x) => (x.inputs || []).join(", ") },
      { label: "readers", cell: (x) => (x.readers || []).join(", ") },
      { label: "records", num: true, cell: (x) => fmt(x.records) },
      { label: "stored", num: true, cell: (x) => fmt(x.stored) },
      { label: "rejected", num: true, cell: (x) => fmt(x.rejected) },
      { label: "duplicate", num: true, cell: (x) => fmt(x.duplicate) },
      { label: "ingested", cell: (x) => day(x.started_at) },
    ], s.sources || []),
  ];
}

const graphParams = (r) => Object.fromEntries(["layer", "min_weight", "since", "until"].map((k) => [k, r.params.get(k)]));

function graphFilters(r, layers, view, arg) {
  const p = r.params;
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    go(view, arg, { layer: f.get("layer"), min_weight: f.get("min_weight"), since: f.get("since"), until: f.get("until"), scale: p.get("scale") });
  };
  return el("form", { class: "filters", onsubmit: submit },
    el("label", {}, "layer", el("select", { name: "layer" }, el("option", { value: "" }, "all layers"),
      layers.map((l) => el("option", { value: l, selected: p.get("layer") === l ? "selected" : null }, l)))),
    el("label", {}, "minimum weight (co-actions)", el("input", { name: "min_weight", type: "number", min: 0, step: 1, value: p.get("min_weight") || "" })),
    el("label", {}, "active from (UTC)", el("input", { name: "since", type: "date", value: p.get("since") || "" })),
    el("label", {}, "to (inclusive)", el("input", { name: "until", type: "date", value: p.get("until") || "" })),
    el("button", { type: "submit" }, "Apply"));
}

function drawGraph(g, container, onEdge) {
  const t0 = performance.now();
  const graph = new graphology.MultiUndirectedGraph();
  let seed = 42;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const maxPosts = Math.max(1, ...g.nodes.map((n) => n.posts || 0));
  for (const n of g.nodes) {
    graph.addNode(n.id, {
      label: "@" + (n.handle || n.id), x: rand(), y: rand(),
      size: (g.nodes.length > 200 ? 2 : 3) + (g.nodes.length > 200 ? 5 : 9) * Math.sqrt((n.posts || 0) / maxPosts),
      color: g.cluster === null && n.cluster ? CLUSTER_COLORS[n.cluster % CLUSTER_COLORS.length] : "#44506a",
    });
  }
  const maxW = Math.max(1, ...g.edges.map((e) => e.weight));
  for (const e of g.edges) {
    if (!graph.hasNode(e.source) || !graph.hasNode(e.target)) continue;
    graph.addEdgeWithKey(e.layer + "|" + e.source + "|" + e.target, e.source, e.target, {
      color: layerColor(e.layer), size: 1.5 + 3 * Math.sqrt(e.weight / maxW), layer: e.layer, weight: e.weight,
    });
  }
  const fa2 = graphologyLibrary.layoutForceAtlas2;
  const order = graph.order;
  fa2.assign(graph, { iterations: order > 1000 ? 60 : order > 300 ? 100 : 200, settings: { ...fa2.inferSettings(graph), barnesHutOptimize: order > 300 } });
  const sigma = new Sigma(graph, container, { enableEdgeEvents: true, labelRenderedSizeThreshold: 8, defaultEdgeType: "line", zIndex: true });
  state.sigma = sigma;
  state.graph = graph;
  sigma.setSetting("edgeReducer", (edge, d) => (!state.chosenEdge ? d : edge === state.chosenEdge
    ? { ...d, size: d.size + 3, zIndex: 1 } : { ...d, color: "#d9dee7", zIndex: 0 }));
  sigma.on("clickEdge", ({ edge }) => onEdge(edge));
  sigma.on("clickNode", ({ node }) => go("account", node));
  sigma.on("enterEdge", ({ edge }) => { state.hoverEdge = edge; container.style.cursor = "pointer"; });
  sigma.on("leaveEdge", () => { state.hoverEdge = null; container.style.cursor = ""; });
  sigma.on("enterNode", ({ node }) => { state.hoverNode = node; container.style.cursor = "pointer"; });
  sigma.on("leaveNode", () => { state.hoverNode = null; container.style.cursor = ""; });
  sigma.refresh();
  state.drawMs = performance.now() - t0;
  return state.drawMs;
}

async function showEvidence(edgeKey, panel) {
  const [layer, a, ...rest] = edgeKey.split("|");
  const b = rest.join("|");
  setParam("edge", edgeKey);
  state.chosenEdge = edgeKey;
  if (state.sigma) state.sigma.refresh();
  panel.replaceChildren(el("p", { class: "muted" }, "Loading the evidence…"));
  try {
    const ev = await api("evidence", { layer, a, b });
    const e = ev.edge;
    panel.replaceChildren(
      el("h2", {}, pill(layer), " ", accountLink(e.account_a, e.handle_a), " – ", accountLink(e.account_b, e.handle_b)),
      el("dl", { class: "facts" },
        el("dt", {}, "co-actions"), el("dd", {}, fmt(e.count)),
        el("dt", {}, "expected by chance"), el("dd", {}, fmt(e.expected)),
        el("dt", {}, "p-value / q-value"), el("dd", {}, fmtP(e.p_value) + " / " + fmtP(e.q_value)),
        el("dt", {}, "active"), el("dd", {}, day(e.first_at) + " – " + day(e.last_at))),
      ev.evidence.length ? el("div", { class: "evidence" }, ev.evidence.map((x) => el("div", { class: "evidence-pair" },
        el("div", { class: "post" }, el("time", {}, x.time_a || "–"), el("b", {}, "@" + (x.handle_a || "?") + " "), el("span", { class: "text" }, x.text_a || "")),
        el("div", { class: "post" }, el("time", {}, x.time_b || "–"), el("b", {}, "@" + (x.handle_b || "?") + " "), el("span", { class: "text" }, x.text_b || "")),
        el("div", { class: "muted" }, fmt(x.seconds_apart) + " s apart")))) :
        el("p", { class: "muted" }, "This layer keeps no example posts (similarity ties accounts by what they share overall)."));
  } catch (err) {
    panel.replaceChildren(el("p", { class: "error" }, err.message));
  }
}

function graphSection(r, g, view, arg, layers) {
  const container = el("div", { id: "graph", role: "img", "aria-label": "coordination network" });
  const panel = el("div", { class: "panel", id: "evidence" }, el("p", { class: "muted" }, "Click an edge to read the posts behind it; click an account to open it."));
  const info = el("p", { class: "muted", id: "graph-info" });
  const used = g.layers.length ? g.layers : layers;
  const params = { cluster: g.cluster, ...graphParams(r) };
  const section = [
    graphFilters(r, layers, view, arg),
    el("div", { class: "legend" }, used.map((l) => el("span", {}, el("i", { style: { background: layerColor(l) } }), l))),
    el("div", { class: "grid2" }, el("div", {}, container, info), panel),
    el("div", { class: "exports" },
      el("a", { class: "button light", href: exportUrl("graph.gexf", params), download: "" }, "Export GEXF (Gephi)"),
      el("a", { class: "button light", href: exportUrl("graph.csv", params), download: "" }, "Export edges CSV")),
  ];
  section.after = () => {
    if (!g.nodes.length) { container.append(el("p", { class: "muted", style: { padding: "1rem" } }, "No edges to draw with these filters.")); return; }
    const ms = drawGraph(g, container, (edge) => showEvidence(edge, panel));
    info.textContent = `${fmt(g.nodes.length)} accounts, ${fmt(g.edges.length)} edges${g.truncated ? " (the strongest only)" : ""}; laid out and drawn in ${Math.round(ms)} ms`;
    const chosen = r.params.get("edge");
    if (chosen && state.graph.hasEdge(chosen)) showEvidence(chosen, panel);
  };
  return section;
}

async function clusterView(r) {
  const id = r.arg;
  const [c, g, s] = await Promise.all([
    api("clusters/" + encodeURIComponent(id), { scale: r.params.get("scale") }),
    api("graph", { cluster: id, ...graphParams(r) }),
    state.summary ? Promise.resolve(state.summary) : api("summary"),
  ]);
  state.summary = s;
  const k = c.cluster;
  const layers = (s.layers || []).map((x) => x.layer);
  const graph = graphSection(r, g, "cluster", id, layers);
  const out = [
    el("h1", {}, "Cluster " + k.cluster_id),
    el("div", { class: "cards" }, card(k.size, "accounts"), card(fmtP(k.p_value), "p-value"), card(k.score, "score"),
      card(k.density, "density"), card(day(k.first_at), "first co-action"), card(day(k.last_at), "last co-action")),
    ...graph,
    el("h2", {}, "When the cluster posts, against everyone else"),
    el("div", { class: "filters" }, scaleFilter(r.params, (v) => go("cluster", id, { ...graphParams(r), scale: v }))),
    seriesLegend([{ color: "#e15759", label: "this cluster (share of its posts)" }, { color: "#4e79a7", label: "the rest (share of theirs)" }]),
    timeline(c.timeline, [{ key: "cluster", color: "#e15759" }, { key: "rest", color: "#4e79a7" }], true),
    el("h2", {}, "Members"),
    el("div", { class: "exports" },
      el("a", { class: "button light", href: "/api/clusters/" + encodeURIComponent(id) + "/members.csv", download: "" }, "Export members CSV"),
      el("a", { class: "button light", href: exportUrl("posts.csv", { cluster: id }), download: "" }, "Export the cluster's posts CSV"),
      el("a", { class: "button light", href: "#/posts?cluster=" + encodeURIComponent(id) }, "Search its posts")),
    tableOf([
      { label: "account", cell: (x) => accountLink(x.account_id, x.handle) },
      { label: "score", num: true, cell: (x) => fmt(x.score) },
      { label: "ties", num: true, cell: (x) => fmt(x.ties) },
      { label: "posts", num: true, cell: (x) => fmt(x.posts) },
      { label: "label", cell: (x) => x.label || "" },
    ], c.members),
  ];
  out.after = graph.after;
  return out;
}

async function graphView(r) {
  const [g, s] = await Promise.all([
    api("graph", { ...graphParams(r), max_nodes: r.params.get("max_nodes") }),
    state.summary ? Promise.resolve(state.summary) : api("summary"),
  ]);
  state.summary = s;
  const graph = graphSection(r, g, "graph", null, (s.layers || []).map((x) => x.layer));
  const out = [el("h1", {}, "Network of the flagged accounts"), el("p", { class: "muted" }, "Accounts are coloured by cluster, edges by layer."), ...graph];
  out.after = graph.after;
  return out;
}

function postsTable(res) {
  return tableOf([
    { label: "time (UTC)", cell: (x) => x.created_at || "–" },
    { label: "account", cell: (x) => accountLink(x.account_id, x.handle) },
    { label: "kind", cell: (x) => x.kind || "" },
    { label: "text", text: true, cell: (x) => x.text || "" },
  ], res.posts, "No posts match.");
}
function pager(res, onPage) {
  const from = res.total ? res.offset + 1 : 0, to = Math.min(res.offset + res.posts.length, res.total);
  return el("div", { class: "pager" },
    el("span", { class: "muted", id: "post-count" }, `${fmt(from)}–${fmt(to)} of ${fmt(res.total)} posts`),
    res.offset > 0 ? el("button", { type: "button", onclick: () => onPage(Math.max(0, res.offset - res.limit)) }, "Previous") : null,
    to < res.total ? el("button", { type: "button", onclick: () => onPage(res.offset + res.limit) }, "Next") : null);
}

async function accountView(r) {
  const key = r.arg;
  const offset = Number(r.params.get("offset") || 0);
  const [a, p] = await Promise.all([api("accounts/" + encodeURIComponent(key), { scale: r.params.get("scale") }), api("posts", { account: key, limit: PAGE, offset })]);
  const d = a.detection || {};
  const prof = a.profile || {};
  const labels = prof.labels ? Object.entries(prof.labels) : [];
  return [
    el("h1", {}, "@" + (a.handle || a.account_id)),
    el("div", { class: "cards" }, card(a.posts, "posts"), card(day(a.first_post), "first post"), card(day(a.last_post), "last post"),
      card(d.score, "detection score"), card(d.flagged === undefined ? "–" : d.flagged ? "yes" : "no", "flagged"),
      a.classifier ? card(a.classifier.score, "classifier score") : null),
    el("dl", { class: "facts panel" },
      el("dt", {}, "account id"), el("dd", {}, a.account_id),
      el("dt", {}, "clusters"), el("dd", {}, a.clusters.length ? a.clusters.map((c, i) => [i ? ", " : "", clusterLink(c)]) : "none"),
      el("dt", {}, "layers"), el("dd", {}, (d.layers || []).map(pill)),
      el("dt", {}, "labels"), el("dd", {}, labels.length ? labels.map(([k, v]) => k + "=" + v).join("; ") : "none"),
      prof.name ? [el("dt", {}, "name"), el("dd", {}, prof.name)] : null,
      prof.description ? [el("dt", {}, "description"), el("dd", {}, prof.description)] : null,
      el("dt", {}, "posts by kind"), el("dd", {}, Object.entries(a.kinds).map(([k, v]) => k + " " + fmt(v)).join(", "))),
    el("div", { class: "filters" }, scaleFilter(r.params, (v) => go("account", key, { scale: v }))),
    timeline(a.timeline, [{ key: "posts", color: "#4e79a7" }], false),
    el("h2", {}, "Co-acts with"),
    tableOf([
      { label: "account", cell: (x) => accountLink(x.account_id, x.handle) },
      { label: "layers", cell: (x) => x.layers.map(pill) },
      { label: "co-actions", num: true, cell: (x) => fmt(x.count) },
      { label: "smallest p-value", num: true, cell: (x) => fmtP(x.p_value) },
    ], a.partners, "No significant co-action with anyone."),
    el("h2", {}, "Posts"),
    el("div", { class: "exports" }, el("a", { class: "button light", href: exportUrl("posts.csv", { account: a.account_id }), download: "" }, "Export posts CSV")),
    pager(p, (o) => go("account", key, { offset: o, scale: r.params.get("scale") })),
    postsTable(p),
  ];
}

async function postsView(r) {
  const p = r.params;
  const s = state.summary || (state.summary = await api("summary"));
  const filters = Object.fromEntries(["q", "account", "cluster", "layer", "kind", "since", "until"].map((k) => [k, p.get(k)]));
  const res = await api("posts", { ...filters, limit: PAGE, offset: p.get("offset") });
  const submit = (e) => {
    e.preventDefault();
    go("posts", null, Object.fromEntries(new FormData(e.target)));
  };
  const input = (name, label, attrs) => el("label", {}, label, el("input", { name, value: p.get(name) || "", ...attrs }));
  return [
    el("h1", {}, "Posts"),
    el("form", { class: "filters", id: "search", onsubmit: submit },
      input("q", "text contains", { type: "search", size: 28 }),
      input("account", "account (id or handle)", { size: 16 }),
      input("cluster", "cluster", { type: "number", min: 0, step: 1 }),
      el("label", {}, "layer", el("select", { name: "layer" }, el("option", { value: "" }, "any"),
        (s.layers || []).map((l) => el("option", { value: l.layer, selected: p.get("layer") === l.layer ? "selected" : null }, l.layer)))),
      el("label", {}, "kind", el("select", { name: "kind" }, el("option", { value: "" }, "any"),
        ["original", "repost", "quote", "reply"].map((k) => el("option", { value: k, selected: p.get("kind") === k ? "selected" : null }, k)))),
      input("since", "from (UTC)", { type: "date" }),
      input("until", "to (UTC, inclusive)", { type: "date" }),
      el("button", { type: "submit" }, "Search")),
    el("div", { class: "exports" }, el("a", { class: "button light", href: exportUrl("posts.csv", filters), download: "" }, "Export these posts CSV")),
    pager(res, (o) => go("posts", null, { ...filters, offset: o })),
    postsTable(res),
  ];
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("quick").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = document.getElementById("quick-q").value.trim();
    if (q.startsWith("@") && q.length > 1) go("account", q.slice(1));
    else go("posts", null, { q });
  });
  window.addEventListener("hashchange", render);
  render();
});
