"""Answer a why-question: ranked, signed, cited paths from a source to a finding, grouped by mechanism."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Final, Literal, get_args

from kg.causal.consistency import Violation, check_path, summarize
from kg.causal.links import LinkData
from kg.causal.network import DEFAULT_SOURCE, CausalNetwork
from kg.causal.ranking import rank_paths
from kg.causal.search import DEFAULT_MAX_WORK, PathSearch, SignedPath, search_paths
from kg.model.types import (
    CausalPath,
    Citation,
    Context,
    Explanation,
    ExplanationStatus,
    MechanismGroup,
    NodeRef,
    Ref,
    Severity,
    Step,
)
from kg.model.vocab import ECO_CURATOR_INFERENCE, MGKG, to_curie
from kg.model.wording import step_notes

logger = logging.getLogger(__name__)

_CURATOR_INFERENCE: Final = to_curie(str(ECO_CURATOR_INFERENCE)) or str(ECO_CURATOR_INFERENCE)


def explain(
    network: CausalNetwork,
    finding: str,
    source: str = DEFAULT_SOURCE,
    context: Severity | None = None,
    max_paths: int = 20,
    max_hops: int = 10,
    max_work: int = DEFAULT_MAX_WORK,
) -> Explanation:
    """Explain why ``source`` (hypomagnesemia by default) leads to ``finding``.

    Finds up to ``max_paths`` simple paths of at most ``max_hops`` asserted causal links, keeping only
    links that hold in ``context`` ('mild' drops links tagged severe and vice versa). For a finding
    that is a state (every clinical finding is one) only paths with net sign +1 explain it; the others
    are reported in ``contradicting``. For an entity or a process every path explains, labelled with
    its net effect. Raises UnknownNodeError (with the closest names) when a name matches no node.
    The search examines at most ``max_work`` links; an answer cut short by that bound says so in its
    message. The signed-node index searched is built once per network and context, not per question.
    Only paths whose links can hold together are offered (kg/causal/consistency.py); when no sound path
    explains the finding, the message says which rules set the candidate chains aside, and the status
    is ``inconsistent`` if that is why there is no answer at all.
    """
    if context is not None and context not in get_args(Severity):
        raise ValueError(f"context must be one of {get_args(Severity)} or None, not {context!r}")
    target = network.resolve(finding, "finding")
    start = network.resolve(source, "source")
    search = search_paths(
        network.graph,
        start,
        target,
        max_hops,
        max_paths,
        index=network.signed_index(context),
        max_work=max_work,
    )
    built = [_path(network, signed) for signed in search.paths]
    is_state = network.is_state(target)
    explaining = [p for p in built if not is_state or p.net_sign == 1]
    contradicting = [p for p in built if is_state and p.net_sign == -1]
    ranked = rank_paths(explaining, context)
    ranked_contra = rank_paths(contradicting, context)
    source_ref, finding_ref = network.node(start), network.node(target)
    status, message = _status(
        network, start, target, ranked, ranked_contra, context, max_hops, max_paths, max_work
    )
    if search.truncated:
        message += truncation_note(search)
    return Explanation(
        question=_question(source_ref, finding_ref, is_state, context),
        source=source_ref,
        finding=finding_ref,
        context=context,
        status=status,
        message=message,
        paths=tuple(ranked),
        mechanisms=_groups(ranked),
        contradicting=tuple(ranked_contra),
        max_hops=max_hops,
        max_paths=max_paths,
    )


def truncation_note(search: PathSearch) -> str:
    """The sentence an answer carries when the path search hit its work bound (never cut silently).

    >>> truncation_note(PathSearch((), True, 60001))
    ' The path search stopped at its work limit (60001 links examined) before it had tried every path; \
more paths may exist: ask with a smaller max_hops or a context.'
    """
    return (
        f" The path search stopped at its work limit ({search.work} links examined) before it had tried"
        " every path; more paths may exist: ask with a smaller max_hops or a context."
    )


def choose_mechanism(per_step: Sequence[Sequence[str]]) -> str | None:
    """The mechanism held by the most links of a path; ties go to the one nearest the end (the finding).

    ``per_step`` lists, for each link of the path in order, the mechanisms that link belongs to.

    >>> choose_mechanism([["a"], ["a", "b"], ["b"]])
    'b'
    >>> choose_mechanism([["a"], ["a"], ["b"]])
    'a'
    >>> choose_mechanism([[], []]) is None
    True
    """
    counts: Counter[str] = Counter()
    last_seen: dict[str, int] = {}
    for position, mechanisms in enumerate(per_step):
        for mechanism in mechanisms:
            counts[mechanism] += 1
            last_seen[mechanism] = position
    if not counts:
        return None
    return max(counts, key=lambda m: (counts[m], last_seen[m]))


def sentence_case(text: str) -> str:
    """Capitalize the first letter unless the first word has capitals of its own (cAMP, PTH).

    >>> sentence_case("hypomagnesemia lowers Mg-ATP")
    'Hypomagnesemia lowers Mg-ATP'
    >>> sentence_case("cAMP drives PTH secretion")
    'cAMP drives PTH secretion'
    """
    first = text.split(" ", 1)[0]
    return text if first != first.lower() else text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word has capitals of its own (NMDA, ROMK).

    >>> lower_first("Impaired PTH secretion")
    'impaired PTH secretion'
    >>> lower_first("NMDA receptor hyperexcitability")
    'NMDA receptor hyperexcitability'
    """
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first[1:] == first[1:].lower() else text


def _links(network: CausalNetwork, u: Hashable, v: Hashable, keys: Sequence[Hashable]) -> list[LinkData]:
    return [network.link(str(u), str(v), str(key)) for key in keys]


def _union_context(contexts: Sequence[Context], *, every: bool) -> Context:
    """Merge link contexts: tissues and conditions united.

    With ``every`` the severity is kept only when every context has it (a step holds without a
    severity restriction if one of its links is untagged); otherwise it is kept when the tagged
    contexts agree on one.
    """
    severities = {c.severity for c in contexts}
    if not every:
        severities.discard(None)
    return Context(
        severity=severities.pop() if len(severities) == 1 else None,
        tissues=tuple(sorted({t for c in contexts for t in c.tissues})),
        conditions=tuple(sorted({x for c in contexts for x in c.conditions})),
    )


def _unique_citations(groups: Sequence[Sequence[Citation]]) -> tuple[Citation, ...]:
    seen: dict[Citation, None] = {}
    for group in groups:
        for citation in group:
            seen.setdefault(citation, None)
    return tuple(seen)


def _step(network: CausalNetwork, u: Hashable, v: Hashable, sign: int, links: Sequence[LinkData]) -> Step:
    evidence = sorted({e for link in links for e in link.evidence_types})
    summaries = dict.fromkeys(link.summary for link in links if link.summary)
    return Step(
        subject=network.node(str(u)),
        predicate="increases" if sign > 0 else "decreases",
        predicate_iri=str(MGKG.increases if sign > 0 else MGKG.decreases),
        object=network.node(str(v)),
        sign=1 if sign > 0 else -1,
        polarity="positive" if sign > 0 else "negative",
        links=tuple(link.ref for link in links),
        context=_union_context([link.context for link in links], every=True),
        citations=_unique_citations([link.citations for link in links]),
        evidence_types=tuple(evidence),
        curator_inference=bool(links) and all(_CURATOR_INFERENCE in link.evidence_types for link in links),
        evidence_summary=" ".join(summaries),
    )


def _path(network: CausalNetwork, signed: SignedPath) -> CausalPath:
    hops = list(zip(signed.nodes[:-1], signed.nodes[1:], signed.signs, signed.edges, strict=True))
    link_groups = [_links(network, u, v, keys) for u, v, _, keys in hops]
    steps = tuple(
        _step(network, u, v, sign, links) for (u, v, sign, _), links in zip(hops, link_groups, strict=True)
    )
    mechanisms = {m.iri: m for links in link_groups for link in links for m in link.mechanisms}
    chosen = choose_mechanism([[m.iri for m in link.mechanisms] for links in link_groups for link in links])
    mechanism = mechanisms[chosen] if chosen is not None else None
    citations = _unique_citations([step.citations for step in steps])
    net_sign: Literal[1, -1] = 1 if signed.net_sign > 0 else -1
    path_context = _union_context([link.context for links in link_groups for link in links], every=False)
    return CausalPath(
        rank=0,
        mechanism=mechanism,
        net_sign=net_sign,
        net_polarity="increases" if net_sign > 0 else "decreases",
        steps=steps,
        explanation=_paragraph(network, steps, mechanism, net_sign, path_context),
        hops=len(steps),
        citation_count=len(citations),
        context=path_context,
    )


def _groups(paths: Sequence[CausalPath]) -> tuple[MechanismGroup, ...]:
    """Group ranked paths by mechanism; groups ordered by their best path."""
    groups: dict[str | None, list[CausalPath]] = {}
    refs: dict[str | None, Ref | None] = {}
    for path in paths:
        key = path.mechanism.iri if path.mechanism is not None else None
        groups.setdefault(key, []).append(path)
        refs[key] = path.mechanism
    return tuple(MechanismGroup(mechanism=refs[key], paths=tuple(members)) for key, members in groups.items())


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


def _markers(citations: Sequence[Citation]) -> str:
    identifiers = dict.fromkeys(c.identifier for c in citations)
    return "".join(f"[{identifier}]" for identifier in identifiers)


def _paragraph(
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
        markers = _markers(step.citations)
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


def _question(source: NodeRef, finding: NodeRef, is_state: bool, context: Severity | None) -> str:
    where = f" in {context} magnesium deficiency" if context is not None else ""
    if is_state:
        return f"Why does {source.label} lead to {finding.label}{where}?"
    return f"How does {source.label} affect {finding.label}{where}?"


def _status(
    network: CausalNetwork,
    start: str,
    target: str,
    paths: Sequence[CausalPath],
    contradicting: Sequence[CausalPath],
    context: Severity | None,
    max_hops: int,
    max_paths: int,
    max_work: int = DEFAULT_MAX_WORK,
) -> tuple[ExplanationStatus, str]:
    """The status of an answer and the sentence that sums it up."""
    source, finding = network.node(start).label, network.node(target).label
    is_state = network.is_state(target)
    aside = (
        f" {len(contradicting)} path(s) whose net effect contradicts {finding} are listed separately."
        if contradicting
        else ""
    )
    if paths:
        groups = _groups(paths)
        verb = "leads to" if is_state else "affects"
        names = ", ".join(g.mechanism.label if g.mechanism else "unassigned mechanism" for g in groups)
        return (
            ExplanationStatus.EXPLAINED,
            f"{len(paths)} path(s) in {len(groups)} mechanism(s) explain how {source} {verb} {finding}:"
            f" {names}.{aside}",
        )
    rejected = find_rejections(network, start, target, context, max_hops, max_paths, max_work)
    set_aside = (
        f" {len(rejected)} chain(s) of links that would explain it were set aside because their links cannot"
        f" hold together: {summarize(rejected)}."
        if rejected
        else ""
    )
    if contradicting:
        if start in network.rules.interventions and is_state:
            return (
                ExplanationStatus.ONLY_CONTRADICTING,
                f"{source} is an intervention: the {len(contradicting)} path(s) found show how it is expected"
                f" to correct {finding}, not to cause it (they are listed as contradicting paths). No source"
                f" says {source} causes {finding}.",
            )
        return (
            ExplanationStatus.ONLY_CONTRADICTING,
            f"Every path found from {source} to {finding} works against {finding}, which contradicts the"
            f" finding; none explains it.{aside}{set_aside}",
        )
    if (
        context is not None
        and search_paths(network.graph, start, target, max_hops, 1, index=network.signed_index(None)).paths
    ):
        return (
            ExplanationStatus.FILTERED_BY_CONTEXT,
            f"No path from {source} to {finding} holds in {context} magnesium deficiency; paths exist in"
            " other contexts (ask without a context to see them).",
        )
    if rejected:
        return (
            ExplanationStatus.INCONSISTENT,
            f"Chains of links lead from {source} to {finding}, but none can hold: {summarize(rejected)}."
            " No path is offered.",
        )
    return (
        ExplanationStatus.NO_PATH,
        f"No chain of at most {max_hops} asserted causal links leads from {source} to {finding} in the"
        " knowledge graph.",
    )


def find_rejections(
    network: CausalNetwork,
    start: str,
    target: str,
    context: Severity | None,
    max_hops: int,
    max_paths: int,
    max_work: int,
) -> list[Violation]:
    """The rules broken by the chains that would explain the finding if the rules were not applied.

    Searched again without the consistency check (explain calls it only when no sound path explains the
    finding), so the answer can say which rule ruled the candidates out instead of pretending there was no
    chain at all. ``start`` and ``target`` are node IRIs; /causes can call it the same way.
    """
    index = network.signed_index(context).unchecked()
    search = search_paths(network.graph, start, target, max_hops, max_paths, index=index, max_work=max_work)
    is_state = network.is_state(target)
    refused = []
    for path in search.paths:
        if is_state and path.net_sign != 1:
            continue
        violation = check_path(network.rules, path.nodes, path.signs, path.edges)
        if violation is not None:
            route = " -> ".join(network.node(str(n)).label for n in path.nodes)
            logger.debug("refused the path %s: rule %s, %s", route, violation.rule.value, violation.reason)
            refused.append(violation)
    return refused
