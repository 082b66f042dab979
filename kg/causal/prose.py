"""A causal path in words: one clause per step with its citation markers, the net effect, the question.

The paragraph reads a path as signed nodes (each step's subject goes up or down by the product of the
signs before it), so that "less Mg-ATP means less adenylate cyclase activity" follows from a positive link
on a path along which Mg-ATP falls.
"""

from __future__ import annotations

from collections.abc import Sequence

from kg.causal.network import CausalNetwork
from kg.model.types import Context, NodeRef, Ref, Severity, Step
from kg.model.wording import citation_markers, lower_first, sentence_case, step_notes


def _amount(node: NodeRef, cumulative: int, is_state: bool) -> str:
    if is_state:
        return node.label if cumulative > 0 else f"less {node.label}"
    return f"{'more' if cumulative > 0 else 'less'} {node.label}"


def _clause(network: CausalNetwork, step: Step, position: int, cumulative: int) -> str:
    """One step in words, e.g. 'less intracellular Mg2+ means less Mg-ATP'."""
    object_state = network.is_state(step.object.iri)
    after = cumulative * step.sign
    if position == 0:
        if object_state:
            verb = "leads to" if step.sign > 0 else "works against"
        else:
            verb = "raises" if step.sign > 0 else "lowers"
        return f"{step.subject.label} {verb} {step.object.label}"
    subject = _amount(step.subject, cumulative, network.is_state(step.subject.iri))
    if object_state and after > 0:
        return f"{subject} leads to {step.object.label}"
    return f"{subject} means {_amount(step.object, after, object_state)}"


def write_paragraph(
    network: CausalNetwork, steps: Sequence[Step], mechanism: Ref | None, net_sign: int, context: Context
) -> str:
    """The plain-English paragraph of a path, one clause per step with its citation markers."""
    clauses: list[str] = []
    cumulative = 1
    for position, step in enumerate(steps):
        clause = _clause(network, step, position, cumulative)
        notes = step_notes(step)
        if notes:
            clause += f" ({'; '.join(notes)})"
        markers = citation_markers(step.citations)
        clauses.append(f"{clause} {markers}" if markers else clause)
        cumulative *= step.sign
    text = sentence_case("; ".join(clauses)) + "."
    source, finding = steps[0].subject, steps[-1].object
    through = f" through {lower_first(mechanism.label)}" if mechanism is not None else ""
    if network.is_state(finding.iri):
        if net_sign > 0:
            text += f" Net effect: {source.label} leads to {finding.label}{through}."
        else:
            text += (
                f" Net effect: along this path {source.label} works against {finding.label}, which"
                " contradicts the finding; it is reported apart from the explanations."
            )
    else:
        effect = "increases" if net_sign > 0 else "decreases"
        text += f" Net effect: {source.label} {effect} {finding.label}{through}."
    required = sorted({step.context.severity for step in steps if step.context.severity is not None})
    if required:
        text += f" This path holds in {' and '.join(required)} magnesium deficiency."
    elif context.severity is not None:
        text += f" One of its sources places a step in {context.severity} magnesium deficiency."
    return sentence_case(text)


def write_question(source: NodeRef, finding: NodeRef, is_state: bool, context: Severity | None) -> str:
    """The question an answer answers, as a reader would ask it."""
    where = f" in {context} magnesium deficiency" if context is not None else ""
    if is_state:
        return f"Why does {source.label} lead to {finding.label}{where}?"
    return f"How does {source.label} affect {finding.label}{where}?"
