"""A case explanation as plain text, for a person at a terminal or a text/plain client."""

from __future__ import annotations

from kg.causal.case_types import CaseExplanation
from kg.causal.recommend import describe


def format_case(answer: CaseExplanation) -> str:
    """The explanation in sections: summary, readings, explained, not explained, shared steps, loss,
    what argues against it, what if, ranked mechanisms, advice; ends with the disclaimer."""
    lines = [answer.summary, ""]
    if answer.severity is not None:
        lines.append(f"Severity implied by the observations: {answer.severity} deficiency.")
    lines.append("Readings of the observations:")
    lines += [
        f"- {o.field} = {o.value}: {o.reading}{' (curator inference)' if o.curator_inference else ''}"
        f" {''.join(f'[{c.identifier}]' for c in o.citations)}".rstrip()
        for o in answer.observations
    ] or ["- (none)"]
    lines += ["", f"Explained ({len(answer.explained)}):"]
    for finding in answer.explained:
        mechanisms = ", ".join(m.label for m in finding.mechanisms)
        lines.append(f"* {finding.finding.label} (from {', '.join(finding.origins)}; {mechanisms})")
        lines += [f"    path {p.rank}: {p.explanation}" for p in finding.paths]
    lines += _section("Not explained:", [f"* {f.finding.label}: {f.message}" for f in answer.not_explained])
    if answer.absent:
        lines += ["", f"Absent (never claimed explained): {', '.join(a.label for a in answer.absent)}."]
    lines += _section(
        "Shared mechanism (steps several findings pass through):",
        [f"* {s.node.label}: {', '.join(f.label for f in s.findings)}" for s in answer.shared],
    )
    lines += ["", answer.loss.message, f"Candidate causes of {answer.loss.target.label}:"]
    lines += [
        f"{c.rank}. {c.cause.label} ({c.kind}{', reported' if c.reported else ''}): {c.explanation}"
        for c in answer.loss.causes
    ]
    lines += _section(
        "What argues against it:", [f"* [{c.rule}] {c.observation}: {c.message}" for c in answer.against]
    )
    lines += _section("What if:", [f"* {w.message}{_tried(w.tried, w.agrees)}" for w in answer.what_if])
    lines += ["", "Mechanisms ranked (findings explained, contradictions, citations):"]
    lines += [
        f"{h.rank}. {h.mechanism.label}: explains {len(h.explains)}, contradicted {len(h.contradicted_by)},"
        f" {h.citation_count} citation(s)"
        for h in answer.hypotheses
    ]
    lines += _section(
        "What the sources advise:", [f"- {describe(r.recommendation)}" for r in answer.recommendations]
    )
    if answer.proofs:
        lines += ["", "Proofs:"]
        for proof in answer.proofs:
            lines.append(
                f"* {proof.conclusion}: {len(proof.links)} asserted link(s),"
                f" {len(proof.citations)} citation(s)"
            )
            lines += [f"    reading {o.field} = {o.value}" for o in proof.readings]
            lines += [f"    rule: {rule}" for rule in proof.consistency]
            if proof.inferred is not None:
                lines.append(
                    f"    inferred {proof.inferred.subject.curie} {proof.inferred.predicate}"
                    f" {proof.inferred.object.curie}: {len(proof.inferred.chains)} chain(s) of asserted"
                    " links,"
                    f" by OWL 2 RL {', '.join(r.split(' ', 1)[0] for r in proof.inference_rules)}"
                )
    lines += ["", "How to read the figures:"]
    lines += [f"- {figure.name}: {figure.meaning}" for figure in answer.figures]
    lines += ["", answer.disclaimer]
    return "\n".join(lines) + "\n"


def _section(heading: str, lines: list[str]) -> list[str]:
    """A section of the text: a blank line, its heading and its lines; nothing when it has no lines.

    >>> _section("What if:", ["* a"]), _section("What if:", [])
    (['', 'What if:', '* a'], [])
    """
    return ["", heading, *lines] if lines else []


def _tried(tried: str | None, agrees: bool | None) -> str:
    """What a treatment tried did, against what was expected of it (nothing when none was tried)."""
    return f" (tried: {tried}; {'as expected' if agrees else 'NOT as expected'})" if tried else ""
