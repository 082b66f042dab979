"""Answer a why-question: ranked, signed, cited paths from a source to a finding, grouped by mechanism.

The search is kg.causal.search's, each path is built into steps by kg.causal.steps and worded by
kg.causal.prose; here the paths are split into explaining and contradicting ones, ranked, and the
answer's status and sentence decided (why there is no answer, when there is none).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import get_args

from kg.causal.consistency import Violation, check_path, summarize
from kg.causal.network import DEFAULT_SOURCE, CausalNetwork
from kg.causal.prose import write_question
from kg.causal.ranking import rank_paths
from kg.causal.search import DEFAULT_MAX_WORK, PathSearch, search_paths
from kg.causal.steps import build_path, group_paths
from kg.model.types import CausalPath, Explanation, ExplanationStatus, Severity

logger = logging.getLogger(__name__)


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
    built = [build_path(network, signed) for signed in search.paths]
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
        question=write_question(source_ref, finding_ref, is_state, context),
        source=source_ref,
        finding=finding_ref,
        context=context,
        status=status,
        message=message,
        paths=tuple(ranked),
        mechanisms=group_paths(ranked),
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
        groups = group_paths(paths)
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
