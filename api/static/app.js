// mgkg web page: ask a why-question, draw the answer (server-rendered SVG), pan/zoom, details, SPARQL.
// No library: the picture is Graphviz SVG from GET /why?format=svg, its element ids match the
// Cytoscape.js JSON from GET /why?format=cyjs, which carries the citations shown on click.
"use strict";

const $ = (selector) => document.querySelector(selector);
const FORMATS = [
  ["svg", "SVG"], ["png", "PNG"], ["dot", "DOT"], ["graphml", "GraphML"],
  ["cyjs", "Cytoscape.js"], ["mermaid", "Mermaid"], ["nodelink", "node-link"], ["json", "JSON"],
];

const state = { nodes: new Map(), edges: new Map(), view: null, full: null, explanation: null, numbers: new Map() };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== "") {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function setStatus(target, text, isError = false) {
  target.textContent = text;
  target.classList.toggle("error", isError);
}

async function problemText(response) {
  // A problem+json body says what went wrong; fall back to the status line.
  try {
    const body = await response.json();
    const more = Array.isArray(body.suggestions) && body.suggestions.length
      ? ` Did you mean: ${body.suggestions.join(", ")}?` : "";
    return (body.detail || body.title || response.statusText) + (body.detail && body.detail.includes("Did you mean") ? "" : more);
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

function endpoint() {
  // "why?" asks /why (how hypomagnesemia leads to the finding), "what causes it?" asks /causes.
  const chosen = document.querySelector('input[name="question"]:checked');
  return chosen && chosen.value === "causes" ? "/causes" : "/why";
}

function askParams(format) {
  const params = new URLSearchParams({ finding: $("#finding").value.trim() });
  const context = document.querySelector('input[name="context"]:checked').value;
  if (context) params.set("context", context);
  if (format) params.set("format", format);
  return params;
}

// ---------------------------------------------------------------------------------------------
// Asking and drawing
// ---------------------------------------------------------------------------------------------

async function ask(event) {
  if (event) event.preventDefault();
  const finding = $("#finding").value.trim();
  if (!finding) return;
  const status = $("#status");
  const path = endpoint();
  setStatus(status, path === "/causes" ? `Looking for causes of ${finding}…` : `Explaining ${finding}…`);
  const shown = askParams();
  if (path === "/causes") shown.set("question", "causes");
  history.replaceState(null, "", `/?${shown.toString()}`);
  const answer = await fetch(`${path}?${askParams()}`, { headers: { Accept: "application/json" } });
  if (!answer.ok) {
    setStatus(status, await problemText(answer), true);
    return;
  }
  const explanation = await answer.json();
  state.explanation = explanation;
  state.numbers = referenceNumbers(explanation);
  setStatus(status, explanation.message || explanation.question || "");
  $("#mechanisms-title").textContent = path === "/causes" ? "Causes" : "Mechanisms";
  if (path === "/causes") showCauses(explanation);
  else showMechanisms(explanation);
  showAdvice(explanation.recommendations || [], explanation);
  showDownloads();
  await drawGraph();
}

async function drawGraph() {
  const graph = $("#graph");
  const [svgResponse, cyResponse] = await Promise.all([
    fetch(`${endpoint()}?${askParams("svg")}`), fetch(`${endpoint()}?${askParams("cyjs")}`),
  ]);
  if (cyResponse.ok) {
    const cy = await cyResponse.json();
    state.nodes = new Map(cy.elements.nodes.map((n) => [n.data.id, n.data]));
    state.edges = new Map(cy.elements.edges.map((e) => [e.data.id, e.data]));
  }
  if (!svgResponse.ok) {
    graph.replaceChildren(el("p", { class: "placeholder error" }, await problemText(svgResponse)));
    return;
  }
  const doc = new DOMParser().parseFromString(await svgResponse.text(), "image/svg+xml");
  const svg = document.importNode(doc.documentElement, true);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  for (const path of svg.querySelectorAll("g.edge path")) {
    const hit = path.cloneNode(false);   // a wide transparent stroke: arrows are easy to click
    hit.setAttribute("class", "hit");
    hit.removeAttribute("stroke-dasharray");
    path.parentNode.insertBefore(hit, path);
  }
  graph.replaceChildren(svg);
  const box = svg.viewBox.baseVal;
  state.full = { x: box.x, y: box.y, w: box.width, h: box.height };
  fitHeight();
  fitView();
  graph.dataset.ready = "true";
}

// ---------------------------------------------------------------------------------------------
// Pan and zoom on the SVG viewBox
// ---------------------------------------------------------------------------------------------

function applyView() {
  const svg = $("#graph svg");
  if (!svg || !state.view) return;
  const v = state.view;
  svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
}

function fitView() {
  if (!state.full) return;
  const pad = 0.02;
  const f = state.full;
  state.view = { x: f.x - f.w * pad, y: f.y - f.h * pad, w: f.w * (1 + 2 * pad), h: f.h * (1 + 2 * pad) };
  applyView();
}

function fitHeight() {
  // A wide, flat drawing gets a shorter box, a tall one up to most of the screen: no empty bands.
  const graph = $("#graph");
  const wanted = graph.clientWidth * (state.full.h / state.full.w) * 1.08 + 16;
  const most = Math.max(280, window.innerHeight * 0.7);
  graph.style.height = `${Math.round(Math.min(Math.max(wanted, 220), most))}px`;
}

function zoom(factor, cx = 0.5, cy = 0.5) {
  // factor < 1 zooms in; (cx, cy) is the fixed point as a fraction of the visible box.
  const v = state.view;
  if (!v) return;
  const w = Math.min(Math.max(v.w * factor, state.full.w / 40), state.full.w * 4);
  const h = v.h * (w / v.w);
  state.view = { x: v.x + (v.w - w) * cx, y: v.y + (v.h - h) * cy, w, h };
  applyView();
}

function fractionInBox(event) {
  // Where the pointer is, as a fraction of the SVG's drawn viewBox (which preserveAspectRatio centres).
  const svg = $("#graph svg");
  const point = svg.createSVGPoint();
  point.x = event.clientX;
  point.y = event.clientY;
  const inner = point.matrixTransform(svg.getScreenCTM().inverse());
  const v = state.view;
  return [(inner.x - v.x) / v.w, (inner.y - v.y) / v.h];
}

function setUpPanZoom() {
  const graph = $("#graph");
  let drag = null;
  graph.addEventListener("wheel", (event) => {
    if (!state.view) return;
    event.preventDefault();
    const [cx, cy] = fractionInBox(event);
    zoom(event.deltaY < 0 ? 0.85 : 1 / 0.85, cx, cy);
  }, { passive: false });
  graph.addEventListener("pointerdown", (event) => {
    if (!state.view || event.button !== 0) return;
    const svg = $("#graph svg");
    const scale = state.view.w / svg.getBoundingClientRect().width;
    drag = { x: event.clientX, y: event.clientY, view: { ...state.view }, scale, moved: false, id: event.pointerId };
  });
  graph.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    if (!drag.moved) {
      drag.moved = true;
      graph.setPointerCapture(drag.id);
      graph.classList.add("dragging");
    }
    state.view = { ...drag.view, x: drag.view.x - dx * drag.scale, y: drag.view.y - dy * drag.scale };
    applyView();
  });
  const stop = (event) => {
    if (drag && drag.moved) {
      graph.classList.remove("dragging");
      graph.dataset.justDragged = "true";
      setTimeout(() => delete graph.dataset.justDragged, 0);
    }
    if (drag && graph.hasPointerCapture(event.pointerId)) graph.releasePointerCapture(event.pointerId);
    drag = null;
  };
  graph.addEventListener("pointerup", stop);
  graph.addEventListener("pointercancel", stop);
  graph.addEventListener("keydown", (event) => {
    const step = state.view ? state.view.w * 0.1 : 0;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (event.key in moves && state.view) {
      event.preventDefault();
      state.view.x += moves[event.key][0];
      state.view.y += moves[event.key][1];
      applyView();
    } else if (event.key === "+" || event.key === "=") zoom(0.8);
    else if (event.key === "-") zoom(1.25);
    else if (event.key === "0") fitView();
  });
  graph.addEventListener("click", onGraphClick);
  $("#zoom-in").addEventListener("click", () => zoom(0.8));
  $("#zoom-out").addEventListener("click", () => zoom(1.25));
  $("#zoom-fit").addEventListener("click", fitView);
}

// ---------------------------------------------------------------------------------------------
// Details of a clicked edge or node
// ---------------------------------------------------------------------------------------------

function onGraphClick(event) {
  if ($("#graph").dataset.justDragged) return;
  clickPicture(event, "#graph", showEdge, showNode);
}

function clickPicture(event, picture, onEdge, onNode) {
  // A click on a Graphviz picture (this page's graph, case.js's whole-case picture): the edge or node it
  // hit becomes the one selected, and is shown by onEdge or onNode (given its SVG id).
  const hit = event.target.closest(`${picture} g.edge, ${picture} g.node`);
  for (const old of document.querySelectorAll(`${picture} g.selected`)) old.classList.remove("selected");
  if (!hit) return;
  hit.classList.add("selected");
  if (hit.classList.contains("edge")) onEdge(hit.id);
  else onNode(hit.id);
}

function list(items) {
  return el("ul", {}, items.map((item) => el("li", {}, item)));
}

function split(text, separator = "; ") {
  return text ? String(text).split(separator).filter(Boolean) : [];
}

function showEdge(id) {
  const data = state.edges.get(id);
  const details = $("#details");
  if (!data) return;
  const source = [...state.nodes.values()].find((n) => n.id === data.source);
  const target = [...state.nodes.values()].find((n) => n.id === data.target);
  const up = data.sign > 0;
  const context = [data.severity && `${data.severity} deficiency`, data.conditions, data.tissues && `in ${data.tissues}`]
    .filter(Boolean).join("; ");
  details.replaceChildren(
    el("h2", {}, "Step"),
    el("p", {}, el("strong", {}, source ? source.label : data.source), " ",
      el("span", { class: `badge ${up ? "up" : "down"}` }, `${data.symbol} ${data.label}`), " ",
      el("strong", {}, target ? target.label : data.target)),
    el("dl", {},
      el("dt", {}, "Context"), el("dd", {}, context || "any (not context-dependent)"),
      el("dt", {}, "Mechanism"), el("dd", {}, data.mechanisms || "—"),
      el("dt", {}, "Evidence"), el("dd", {}, data.evidence_types || "—",
        data.curator_inference ? " (curator inference)" : ""),
      el("dt", {}, "Links"), el("dd", {}, data.links || "—")),
    el("h3", {}, `Citations (${data.citation_count})`),
    list(split(data.citation_details, "\n")),
    el("h3", {}, "Evidence summary"),
    el("p", { class: "summary" }, data.evidence_summary || "No summary recorded."),
  );
}

function showNode(id) {
  const data = state.nodes.get(id);
  const details = $("#details");
  if (!data) return;
  const xrefs = split(data.xrefs);
  details.replaceChildren(
    el("h2", {}, data.label),
    el("dl", {},
      el("dt", {}, "Kind"), el("dd", {}, `${data.kind} (${data.category})`),
      el("dt", {}, "CURIE"), el("dd", {}, el("code", {}, data.curie)),
      el("dt", {}, "IRI"), el("dd", {}, el("code", {}, data.iri))),
    el("h3", {}, "Standard identifiers"),
    xrefs.length ? list(xrefs.map((x) => el("code", {}, x))) : el("p", { class: "hint" }, "None recorded."),
  );
}

// ---------------------------------------------------------------------------------------------
// Mechanisms beside the picture
// ---------------------------------------------------------------------------------------------

// The /why answer says each node, step and citation once, in top-level tables (nodes, steps,
// citations, mechanism_refs) that paths refer to by key.

function stepEdgeIds(path) {
  const answer = state.explanation;
  const byCurie = new Map([...state.nodes.values()].map((n) => [n.curie, n.id]));
  const ids = new Set();
  for (const key of path.steps || []) {
    const step = answer.steps[key];
    const s = byCurie.get(step.subject);
    const o = byCurie.get(step.object);
    for (const edge of state.edges.values()) {
      if (edge.source === s && edge.target === o && edge.sign === step.sign) ids.add(edge.id);
    }
    ids.add(s);
    ids.add(o);
  }
  return ids;
}

function highlight(path, item) {
  const graph = $("#graph");
  const wasOn = item.classList.contains("on");
  for (const other of document.querySelectorAll(".path.on")) other.classList.remove("on");
  for (const old of graph.querySelectorAll(".on")) old.classList.remove("on");
  graph.classList.toggle("highlighting", !wasOn);
  if (wasOn) return;
  item.classList.add("on");
  for (const id of stepEdgeIds(path)) {
    const node = id && document.getElementById(id);
    if (node) node.classList.add("on");
  }
}

function referenceNumbers(answer) {
  // The citations shown (paths, their summaries, then the advice), numbered in order of first use: the
  // page's reference list. /why and /causes answers share the same tables, so either works here.
  const numbers = new Map();
  const paths = answer.causes ? answer.causes.flatMap((cause) => cause.paths) : answer.paths || [];
  const keys = [
    ...paths.flatMap((path) => [
      ...path.steps.flatMap((key) => answer.steps[key].citations),
      ...(path.corroboration || []).flatMap((summary) => summary.citations),
    ]),
    ...(answer.recommendations || []).flatMap((rec) => rec.citations),
  ];
  for (const key of keys) if (!numbers.has(key)) numbers.set(key, numbers.size + 1);
  return numbers;
}

function referenceList(answer, numbers) {
  return [
    el("h3", {}, "References"),
    el("ol", { class: "references", id: "references" },
      [...numbers].map(([key, number]) => el("li", { id: `ref-${number}` }, answer.citations[key].text))),
  ];
}

function markers(keys, numbers) {
  const answer = state.explanation;
  const sorted = [...keys].sort((a, b) => numbers.get(a) - numbers.get(b));
  return sorted.map((key) => el("a", {
    class: "ref", href: `#ref-${numbers.get(key)}`, title: answer.citations[key].text,
  }, `[${numbers.get(key)}]`));
}

function arrow(move) {
  return el("span", { class: move > 0 ? "move up" : "move down" }, move > 0 ? "↑" : "↓");
}

function stepLine(step, before, numbers, extra) {
  // What changes ("↓ Mg-ATP → ↓ adenylate cyclase activity"), then context in words, then citations.
  const answer = state.explanation;
  const notes = [...(step.notes || []), ...(extra ? [extra] : [])];
  return el("li", {},
    arrow(before), " ", answer.nodes[step.subject].label, " → ",
    arrow(before * step.sign), " ", answer.nodes[step.object].label,
    notes.length ? el("span", { class: "notes" }, ` (${notes.join("; ")})`) : null,
    " ", markers(step.citations, numbers));
}

function stepList(keys, numbers) {
  const answer = state.explanation;
  let move = 1;
  return el("ol", { class: "steps" }, keys.map((key) => {
    const step = answer.steps[key];
    const line = stepLine(step, move, numbers);
    move *= step.sign;
    return line;
  }));
}

function corroborationBox(summary, numbers) {
  // A coarser path the detailed one is corroborated by: its summarising steps and their citations.
  const answer = state.explanation;
  let move = 1;
  const lines = [];
  summary.steps.forEach((key, index) => {
    const step = answer.steps[key];
    const [first, last] = summary.spans[index];
    if (last > first) lines.push(stepLine(step, move, numbers, `summarises steps ${first + 1}–${last + 1}`));
    move *= step.sign;
  });
  return el("div", { class: "corroboration" }, el("span", { class: "hint" }, "Corroborated by a summary:"),
    el("ul", { class: "steps" }, lines));
}

function pathItem(path, numbers) {
  const item = el("div", { class: "path" });
  const severity = path.context && path.context.severity;
  item.append(
    el("div", { class: "path-head" },
      el("span", { class: `badge ${path.net_sign > 0 ? "up" : "down"}` }, `#${path.rank} · ${path.hops} steps`),
      severity ? el("span", { class: "badge" }, `${severity} deficiency`) : null,
      el("span", { class: "hint" }, `${path.source_count} source${path.source_count === 1 ? "" : "s"}`), " ",
      el("button", { type: "button", class: "show", onclick: () => highlight(path, item) }, "show")),
    stepList(path.steps, numbers),
    ...(path.corroboration || []).map((summary) => corroborationBox(summary, numbers)),
    el("details", {}, el("summary", {}, "In words"), el("p", { class: "summary" }, path.explanation)),
  );
  return item;
}

function showMechanisms(explanation) {
  const byRank = new Map(explanation.paths.map((path) => [path.rank, path]));
  const mechanismName = (key) => (key ? explanation.mechanism_refs[key].label : "Other links");
  showRanked(explanation, explanation.mechanisms, "No mechanism explains this finding.", (group, numbers) =>
    el("div", { class: "mechanism" },
      el("h3", {}, mechanismName(group.mechanism)),
      group.paths.map((rank) => pathItem(byRank.get(rank), numbers))));
}

function showCauses(answer) {
  // The answer of /causes: each cause (ranked) with its cited paths to the finding.
  showRanked(answer, answer.causes, "Nothing in the graph causes this finding.", (cause, numbers) =>
    el("div", { class: "mechanism cause" },
      el("h3", {}, `${cause.rank}. ${answer.nodes[cause.cause].label}`, " ", el("span", { class: "badge" }, cause.kind)),
      cause.paths.map((path) => pathItem(path, numbers))));
}

function showRanked(answer, parts, none, show) {
  // An answer's ranked parts (mechanisms of /why, causes of /causes), each drawn by `show`, then its
  // reference list; with no parts, the answer's message (else `none`) in their place.
  const box = $("#mechanisms");
  if (!(parts || []).length) {
    box.replaceChildren(el("p", { class: "hint" }, answer.message || none));
    return;
  }
  const numbers = state.numbers;
  box.replaceChildren(...parts.map((part) => show(part, numbers)), ...referenceList(answer, numbers));
}

function showAdvice(recommendations, answer) {
  // What the sources advise, in their order, with why (rationale), the paths that show it, citations.
  const box = $("#advice");
  if (!recommendations.length) {
    box.replaceChildren(el("p", { class: "hint" }, "The sources give no advice for this answer."));
    return;
  }
  const paths = new Map((answer.paths || []).map((p) => [p.rank, p]));
  box.replaceChildren(el("ol", { class: "advice-list" }, recommendations.map((rec) => {
    const against = (rec.cautions_against || []).map((key) => answer.nodes[key].label).join(", ");
    const why = (rec.rationale || []).map((r) => r.label).join("; ");
    const see = (rec.paths || []).filter((rank) => paths.has(rank)).map((rank) => `#${rank}`).join(", ");
    return el("li", { class: "recommendation" },
      rec.text, " ",
      against ? el("span", { class: "caution" }, `Not enough on its own: ${against}. `) : null,
      why ? el("span", { class: "why" }, `Why: ${why}. `) : null,
      see ? el("span", { class: "see" }, `See path ${see}. `) : null,
      el("span", { class: "cite" }, markers(rec.citations || [], state.numbers)));
  })));
}

function showDownloads() {
  const links = FORMATS.map(([format, name]) =>
    el("a", { href: `${endpoint()}?${askParams(format)}`, download: `${$("#finding").value.trim() || "answer"}.${format === "mermaid" ? "mmd" : format}` }, name));
  $("#download-links").replaceChildren(...links);
  $("#downloads").hidden = false;
}

function showWholeGraphDownloads() {
  const links = FORMATS.filter(([format]) => format !== "json").map(([format, name]) =>
    el("a", { href: `/export?format=${format}`, download: `mgkg.${format === "mermaid" ? "mmd" : format}` }, name));
  $("#download-all").replaceChildren(...links);
}

// ---------------------------------------------------------------------------------------------
// Suggestions and SPARQL
// ---------------------------------------------------------------------------------------------

function labelOf(item) {
  return typeof item === "string" ? item : item.label || item.name || item.curie || "";
}

async function loadFindings() {
  const response = await fetch("/findings", { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const body = await response.json();
  const items = Array.isArray(body) ? body : [...(body.reachable || []), ...(body.findings || [])];
  const labels = [...new Set(items.map(labelOf).filter(Boolean))];
  $("#finding-list").replaceChildren(...labels.map((label) => el("option", { value: label })));
}

const namedQueries = new Map();

async function loadQueries() {
  const response = await fetch("/queries", { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const body = await response.json();
  for (const query of Array.isArray(body) ? body : body.queries || []) {
    namedQueries.set(query.name, query);
    $("#query-select").append(el("option", { value: query.name }, query.title || query.name));
  }
}

function chooseQuery() {
  const query = namedQueries.get($("#query-select").value);
  const box = $("#query-params");
  box.replaceChildren();
  $("#query-about").textContent = query ? `${query.description} Returns ${query.returns}.` : "";
  $("#run-named").hidden = !query;
  if (!query) return;
  if (query.text) $("#sparql-text").value = query.text;
  for (const parameter of query.parameters || []) {
    const currentFinding = parameter.name === "finding" && state.explanation ? state.explanation.finding : "";
    box.append(el("label", { class: "field" },
      el("span", {}, `${parameter.name}${parameter.required ? " (required)" : ""}`),
      el("input", {
        name: parameter.name, value: currentFinding || parameter.default || "",
        placeholder: parameter.description || parameter.kind, required: parameter.required ? "" : null,
      })));
  }
}

function cell(term) {
  if (!term) return "";
  return term.type === "uri" ? el("code", {}, term.value) : term.value;
}

function showResults(result) {
  const table = $("#results");
  if ("boolean" in result) {
    table.replaceChildren(el("tbody", {}, el("tr", {}, el("td", {}, String(result.boolean)))));
    return "Answered.";
  }
  const vars = result.head.vars;
  const rows = result.results.bindings;
  table.replaceChildren(
    el("thead", {}, el("tr", {}, vars.map((v) => el("th", {}, v)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, vars.map((v) => el("td", {}, cell(row[v])))))),
  );
  return `${rows.length} row${rows.length === 1 ? "" : "s"}.`;
}

async function runSparql(request) {
  const status = $("#sparql-status");
  setStatus(status, "Running…");
  const response = await request;
  if (!response.ok) {
    setStatus(status, await problemText(response), true);
    $("#results").replaceChildren();
    return;
  }
  setStatus(status, showResults(await response.json()));
}

function runQuery() {
  runSparql(fetch("/sparql", {
    method: "POST",
    headers: { "Content-Type": "application/sparql-query", Accept: "application/sparql-results+json" },
    body: $("#sparql-text").value,
  }));
}

function runNamedQuery() {
  const name = $("#query-select").value;
  if (!name) return;
  const params = new URLSearchParams();
  for (const input of document.querySelectorAll("#query-params input")) {
    if (input.value.trim()) params.set(input.name, input.value.trim());
  }
  runSparql(fetch(`/queries/${encodeURIComponent(name)}?${params}`, {
    headers: { Accept: "application/sparql-results+json" },
  }));
}

function start() {
  setUpPanZoom();
  $("#ask").addEventListener("submit", ask);
  $("#query-select").addEventListener("change", chooseQuery);
  $("#run-query").addEventListener("click", runQuery);
  $("#run-named").addEventListener("click", runNamedQuery);
  showWholeGraphDownloads();
  loadFindings();
  loadQueries();
  const params = new URLSearchParams(location.search);
  if (params.get("finding")) {
    $("#finding").value = params.get("finding");
    const context = params.get("context") || "";
    const radio = document.querySelector(`input[name="context"][value="${CSS.escape(context)}"]`);
    if (radio) radio.checked = true;
    const question = document.querySelector(`input[name="question"][value="${CSS.escape(params.get("question") || "why")}"]`);
    if (question) question.checked = true;
    ask();
  }
}

start();
