// mgkg web page, the case form: gather a case, POST /case, show its explanation and the whole-case picture.
// Exposures are offered from the graph (the causes of hypomagnesemia, GET /causes); nothing leaves the host.
// The picture is Graphviz SVG (POST /case?format=svg) whose element ids match the Cytoscape.js JSON
// (POST /case?format=cyjs), which carries each step's citations, shown when the step is clicked.
// Every number shown is marked data-figure="KEY"; the answer's `figures` say what each KEY means.
"use strict";

(function () {
  const $c = (selector) => document.querySelector(selector);
  const picture = { nodes: new Map(), edges: new Map() };

  function node(tag, text, cls) {
    const made = document.createElement(tag);
    if (text !== undefined) made.textContent = text;
    if (cls) made.className = cls;
    return made;
  }

  function figure(key, text) {
    const made = node("span", text, "figure");
    made.dataset.figure = key;
    return made;
  }

  function item(...parts) {
    const made = node("li");
    made.append(...parts);
    return made;
  }

  function names(text) {
    return text.split(",").map((s) => s.trim()).filter(Boolean);
  }

  function gather() {
    const labs = {};
    for (const select of document.querySelectorAll("#case-form select[data-lab]")) {
      if (!select.value) continue;
      labs[select.dataset.lab] = select.dataset.lab === "alkalosis" ? select.value === "true" : select.value;
    }
    const fe = $c("#case-fe_mg_percent").value.trim();
    if (fe) labs.fe_mg_percent = Number(fe);
    const exposures = [...document.querySelectorAll("#case-exposures input:checked")].map((box) => box.value);
    const treatments = [...document.querySelectorAll("#case-treatments select")]
      .filter((select) => select.value)
      .map((select) => ({ intervention: select.dataset.intervention, response: select.value }));
    return {
      findings: names($c("#case-findings").value), absent: names($c("#case-absent").value),
      labs, exposures, treatments,
    };
  }

  function section(title, items, id) {
    const wrap = node("div");
    if (id) wrap.id = id;
    wrap.append(node("h3", title));
    const list = node("ul");
    for (const entry of items) list.append(entry instanceof Node ? entry : node("li", entry));
    if (!items.length) list.append(node("li", "(none)"));
    wrap.append(list);
    return wrap;
  }

  function cites(citations) {
    return citations.length ? ` [${citations.map((c) => c.identifier).join("] [")}]` : "";
  }

  function explainedItem(f) {
    const entry = item(node("strong", f.finding.label), ` (from ${f.origins.join(", ")}; `
      + `${f.mechanisms.map((m) => m.label).join(", ")})`);
    const paths = node("ol");
    for (const path of f.paths) {
      paths.append(item(figure("path-rank", `path ${path.rank}`), `: ${path.explanation}`));
    }
    entry.append(paths);
    entry.dataset.finding = f.finding.iri;
    return entry;
  }

  function proofItem(p) {
    const inferred = p.inferred
      ? [", entailed by ", figure("proof-chains", `${p.inferred.chains.length} chain(s)`),
        ` of asserted links (OWL 2 RL ${p.inference_rules.map((r) => r.split(" ")[0]).join(", ")})`]
      : [", no entailed upstream triple"];
    return item(node("strong", p.conclusion), ": ", figure("proof-links", `${p.links.length} asserted link(s)`),
      ", ", figure("citations", `${p.citations.length} citation(s)`), ...inferred,
      `; readings: ${p.readings.map((o) => `${o.field} = ${o.value}`).join(", ") || "none"}`,
      `; rules: ${p.consistency.join(" ")}`);
  }

  function figuresLegend(answer) {
    const wrap = node("div");
    wrap.id = "case-figures";
    wrap.append(node("h3", "How to read the figures"));
    const list = node("dl");
    for (const f of answer.figures) {
      const term = node("dt", f.name);
      term.dataset.figure = f.key;
      list.append(term, node("dd", f.meaning));
    }
    wrap.append(list, node("p", answer.ranking, "hint"));
    return wrap;
  }

  function show(answer) {
    $c("#case-summary").textContent = answer.summary;
    $c("#case-disclaimer").textContent = answer.disclaimer;
    $c("#case-sections").replaceChildren(
      section("Readings of the observations", answer.observations.map((o) => `${o.field} = ${o.value}: `
        + `${o.reading}${o.curator_inference ? " (curator inference)" : ""}${cites(o.citations)}`), "case-readings"),
      section("Explained", answer.explained.map(explainedItem)),
      section("Not explained", answer.not_explained.map((f) => `${f.finding.label}: ${f.message}`)),
      section("Absent (never claimed explained)", answer.absent.map((a) => a.label)),
      section("Shared mechanism", answer.shared.map(
        (s) => `${s.node.label}: ${s.findings.map((f) => f.label).join(", ")}`)),
      section("Where the loss comes from", [answer.loss.message, ...answer.loss.causes.map(
        (c) => item(figure("cause-rank", `${c.rank}.`),
          ` ${c.cause.label} (${c.kind}${c.reported ? ", reported" : ""}): ${c.explanation}`))], "case-loss"),
      section("What argues against it", answer.against.map((c) => item(
        node("span", `[${c.rule}] `, "rule"), `${c.observation}: ${c.message}`)), "case-against"),
      section("What if", answer.what_if.map((w) => w.message
        + (w.tried ? ` (tried: ${w.tried}; ${w.agrees ? "as expected" : "not as expected"})` : "")), "case-what-if"),
      section("Mechanisms ranked", answer.hypotheses.map((h) => item(figure("mechanism-rank", `${h.rank}.`),
        ` ${h.mechanism.label}: `, figure("explains", `explains ${h.explains.length} finding(s)`), ", ",
        figure("contradicted", `contradicted by ${h.contradicted_by.length}`), ", ",
        figure("citations", `${h.citation_count} citation(s)`))), "case-hypotheses"),
      section("What the sources advise", answer.recommendations.map(
        (r) => `${r.recommendation.text}${cites(r.recommendation.citations)}`), "case-advice"),
      section("Proofs", answer.proofs.map(proofItem), "case-proofs"),
      figuresLegend(answer),
    );
    $c("#case-answer").hidden = false;
  }

  async function problem(response) {
    try {
      const body = await response.json();
      return body.detail || body.title;
    } catch {
      return `${response.status} ${response.statusText}`;
    }
  }

  function split(text, separator) {
    return text ? String(text).split(separator).filter(Boolean) : [];
  }

  function showStep(id) {
    const data = picture.edges.get(id);
    const target = $c("#case-step");
    if (!data) return;
    const from = picture.nodes.get(data.source);
    const to = picture.nodes.get(data.target);
    const context = [data.severity && `${data.severity} deficiency`, data.conditions, data.tissues && `in ${data.tissues}`]
      .filter(Boolean).join("; ");
    const citations = node("ul");
    for (const line of split(data.citation_details, "\n")) citations.append(node("li", line));
    target.replaceChildren(
      node("h3", "Step"),
      node("p", `${from ? from.label : data.source} ${data.symbol} ${data.label} ${to ? to.label : data.target}`),
      node("p", `Context: ${context || "any (not context-dependent)"}. Mechanism: ${data.mechanisms || "—"}.`
        + ` Evidence: ${data.evidence_types || "—"}${data.curator_inference ? " (curator inference)" : ""}.`),
      node("h3", `Citations (${data.citation_count})`),
      citations,
      node("p", data.evidence_summary || "No summary recorded.", "summary"),
    );
    target.hidden = false;
  }

  function showNode(id) {
    const data = picture.nodes.get(id);
    const target = $c("#case-step");
    if (!data) return;
    target.replaceChildren(node("h3", data.label),
      node("p", `${data.kind} (${data.category}); ${data.curie}${data.xrefs ? `; ${data.xrefs}` : ""}`));
    target.hidden = false;
  }

  function onPictureClick(event) {
    clickPicture(event, "#case-picture", showStep, showNode); // app.js, loaded before this script
  }

  async function drawPicture(body) {
    const target = $c("#case-picture");
    const post = (format) => fetch(`/case?format=${format}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body,
    });
    const [svgResponse, cyResponse] = await Promise.all([post("svg"), post("cyjs")]);
    if (cyResponse.ok) {
      const cy = await cyResponse.json();
      picture.nodes = new Map(cy.elements.nodes.map((n) => [n.data.id, n.data]));
      picture.edges = new Map(cy.elements.edges.map((e) => [e.data.id, e.data]));
    }
    if (!svgResponse.ok) {
      target.replaceChildren(node("p", await problem(svgResponse), "hint"));
      return;
    }
    const svg = new DOMParser().parseFromString(await svgResponse.text(), "image/svg+xml").documentElement;
    target.replaceChildren(document.importNode(svg, true));
  }

  async function submit(event) {
    event.preventDefault();
    const status = $c("#case-status");
    status.textContent = "Explaining the case…";
    status.classList.remove("error");
    delete status.dataset.done;
    $c("#case-step").hidden = true;
    const body = JSON.stringify(gather());
    const response = await fetch("/case", {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body,
    });
    if (!response.ok) {
      status.textContent = await problem(response);
      status.classList.add("error");
      return;
    }
    const answer = await response.json();
    show(answer);
    status.replaceChildren(figure("counts",
      `${answer.explained.length} finding(s) explained, ${answer.not_explained.length} not.`));
    await drawPicture(body);
    status.dataset.done = "true";
  }

  async function loadExposures() {
    const response = await fetch("/causes?finding=hypomagnesemia&max_paths=1", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const answer = await response.json();
    const box = $c("#case-exposures");
    for (const cause of answer.causes) {
      const label = answer.nodes && answer.nodes[cause.cause] ? answer.nodes[cause.cause].label : cause.cause.label || cause.cause;
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = label;
      const wrap = node("label");
      wrap.append(input, ` ${label}`);
      box.append(wrap);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $c("#case-form").addEventListener("submit", submit);
    $c("#case-picture").addEventListener("click", onPictureClick);
    loadExposures();
  });
})();
