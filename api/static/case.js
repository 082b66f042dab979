// mgkg web page, the case form: gather a case, POST /case, show its explanation and the whole-case picture.
// Exposures are offered from the graph (the causes of hypomagnesemia, GET /causes); nothing leaves the host.
"use strict";

(function () {
  const $c = (selector) => document.querySelector(selector);

  function node(tag, text, cls) {
    const made = document.createElement(tag);
    if (text !== undefined) made.textContent = text;
    if (cls) made.className = cls;
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

  function section(title, items) {
    const wrap = node("div");
    wrap.append(node("h3", title));
    const list = node("ul");
    for (const item of items) list.append(item instanceof Node ? item : node("li", item));
    if (!items.length) list.append(node("li", "(none)"));
    wrap.append(list);
    return wrap;
  }

  function show(answer) {
    $c("#case-summary").textContent = answer.summary;
    $c("#case-disclaimer").textContent = answer.disclaimer;
    const parts = $c("#case-sections");
    parts.replaceChildren(
      section("Explained", answer.explained.map((f) => {
        const item = node("li");
        item.append(node("strong", f.finding.label), ` (from ${f.origins.join(", ")}; `
          + `${f.mechanisms.map((m) => m.label).join(", ")})`);
        const paths = node("ol");
        for (const path of f.paths) paths.append(node("li", path.explanation));
        item.append(paths);
        item.dataset.finding = f.finding.iri;
        return item;
      })),
      section("Not explained", answer.not_explained.map((f) => `${f.finding.label}: ${f.message}`)),
      section("Absent (never claimed explained)", answer.absent.map((a) => a.label)),
      section("Shared mechanism", answer.shared.map(
        (s) => `${s.node.label}: ${s.findings.map((f) => f.label).join(", ")}`)),
      section("Where the loss comes from", [answer.loss.message, ...answer.loss.causes.map(
        (c) => `${c.rank}. ${c.cause.label} (${c.kind}${c.reported ? ", reported" : ""}): ${c.explanation}`)]),
      section("What argues against it", answer.against.map((c) => {
        const item = node("li");
        item.append(node("span", `[${c.rule}] `, "rule"), `${c.observation}: ${c.message}`);
        return item;
      })),
      section("What if", answer.what_if.map((w) => w.message
        + (w.tried ? ` (tried: ${w.tried}; ${w.agrees ? "as expected" : "not as expected"})` : ""))),
      section("Mechanisms ranked", answer.hypotheses.map((h) => `${h.rank}. ${h.mechanism.label}: explains `
        + `${h.explains.length} finding(s), contradicted by ${h.contradicted_by.length}, `
        + `${h.citation_count} citation(s)`)),
      section("What the sources advise", answer.recommendations.map((r) => r.recommendation.text)),
      node("p", answer.ranking, "hint"),
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

  async function drawPicture(body) {
    const target = $c("#case-picture");
    const response = await fetch("/case?format=svg", {
      method: "POST", headers: { "Content-Type": "application/json" }, body,
    });
    if (!response.ok) {
      target.replaceChildren(node("p", await problem(response), "hint"));
      return;
    }
    const svg = new DOMParser().parseFromString(await response.text(), "image/svg+xml").documentElement;
    target.replaceChildren(document.importNode(svg, true));
  }

  async function submit(event) {
    event.preventDefault();
    const status = $c("#case-status");
    status.textContent = "Explaining the case…";
    status.classList.remove("error");
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
    status.textContent = `${answer.explained.length} finding(s) explained, ${answer.not_explained.length} not.`;
    await drawPicture(body);
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
    loadExposures();
  });
})();
