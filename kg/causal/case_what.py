"""What if: for each intervention tried or advised, which observed findings the graph expects it to
correct (a path from it that works against the finding) or to leave in place (the advice that cautions
against it, and the mechanism paths it does not reach)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

from kg.causal.case_model import Response, load_case_rules
from kg.causal.case_read import CaseReading
from kg.causal.case_types import CaseFinding, WhatIf
from kg.causal.network import CausalNetwork
from kg.causal.recommend import RecommendationCatalog, citation_markers
from kg.causal.why import explain
from kg.model.types import CausalPath, NodeRef, Recommendation, Severity
from kg.model.wording import lower_first

log = logging.getLogger(__name__)


def expect_interventions(
    network: CausalNetwork,
    catalog: RecommendationCatalog,
    read: CaseReading,
    explained: Sequence[CaseFinding],
    severity: Severity | None,
    max_hops: int,
) -> tuple[WhatIf, ...]:
    """For every intervention tried, recommended or cautioned against for the explained findings, what the
    graph expects it to do to each of them, compared with the response seen when it was tried."""
    alone = load_case_rules().alone
    tried = dict(read.treatments)
    advice = {f.finding.iri: catalog.select(f.finding.iri, f.paths) for f in explained}
    candidates = dict.fromkeys(tried)
    for recs in advice.values():
        for rec in recs:
            candidates.update(dict.fromkeys(n.iri for n in (*rec.recommends, *rec.cautions_against)))
    out: list[WhatIf] = []
    for intervention in candidates:
        try:
            name = network.node(intervention)
        except KeyError:
            continue  # named only by the advice (no causal link touches it): nothing to expect of it
        linked = intervention in network.graph
        for finding in explained:
            response = tried.get(intervention)
            answer = (
                explain(
                    network,
                    finding.finding.iri,
                    source=intervention,
                    context=severity,
                    max_paths=2,
                    max_hops=max_hops,
                )
                if linked
                else None
            )
            if answer is not None and answer.contradicting:
                best = answer.contradicting[0]
                message = f"{name.label} is expected to correct {finding.finding.label}: {best.explanation}"
                out.append(_what(name, finding, "corrects", message, response, answer.contradicting[:2], ()))
                continue
            cautions = _cautions(advice[finding.finding.iri], {intervention, alone.get(intervention, "")})
            if not cautions:
                continue  # no source says anything about this intervention and this finding
            out.append(_persists(name, finding, cautions, response))
    log.debug("what-if: %d expectations for %d interventions", len(out), len(candidates))
    return tuple(out)


def _cautions(recs: Sequence[Recommendation], names: set[str]) -> list[Recommendation]:
    return [r for r in recs if any(n.iri in names for n in r.cautions_against)]


def _persists(
    name: NodeRef, finding: CaseFinding, cautions: list[Recommendation], response: Response | None
) -> WhatIf:
    """The finding stays: no path from the intervention corrects it; the advice says what stays in place."""
    label = name.label
    kept = {ref.iri for rec in cautions for ref in rec.rationale}
    paths = tuple(
        p
        for p in finding.paths
        if (p.mechanism is not None and p.mechanism.iri in kept) or any(s.object.iri in kept for s in p.steps)
    )
    message = f"{label} is not expected to correct {finding.finding.label}: no path of the graph from it does"
    if paths:
        mechanisms = dict.fromkeys(lower_first(p.mechanism.label) for p in paths if p.mechanism is not None)
        message += f", so {' and '.join(mechanisms)} stays in place"
    message += "."
    for rec in cautions:
        message += f" {rec.text} {citation_markers(rec.citations)}".rstrip()
    return _what(name, finding, "persists", message, response, paths, tuple(r.iri for r in cautions))


def _what(
    name: NodeRef,
    finding: CaseFinding,
    expectation: Literal["corrects", "persists"],
    message: str,
    response: Response | None,
    paths: Sequence[CausalPath],
    recommendations: tuple[str, ...],
) -> WhatIf:
    """One expectation, with whether the response seen (when tried) agrees with it."""
    agrees = None if response is None else (response == "corrected") == (expectation == "corrects")
    return WhatIf(
        intervention=name,
        finding=finding.finding,
        expectation=expectation,
        message=message,
        tried=response,
        agrees=agrees,
        paths=tuple(paths),
        recommendations=recommendations,
    )
