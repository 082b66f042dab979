"""Reason upstream: the causes a finding can come from (etiologies, drugs, disorders, loss routes), cited.

There is no second path search here: every cause is a candidate source asked the why-question
``explain(network, finding, source=candidate)``, so whatever explain() holds a path to (context,
polarity, and the consistency rules of kg.causal.why) holds for causes too. A candidate is offered only
when explain() explains the finding from it.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Final, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from kg.causal.network import CausalNetwork
from kg.causal.ranking import path_key
from kg.causal.recommend import RecommendationCatalog
from kg.causal.why import explain
from kg.model.types import CausalPath, Explanation, ExplanationStatus, NodeRef, Recommendation, Severity
from kg.model.vocab import MGKG

logger = logging.getLogger(__name__)

CauseKind = Literal["drug", "genetic disorder", "loss route", "etiology"]
"""What kind of cause a node is (its most specific subclass of mgkg:Etiology)."""

_KINDS: Final[tuple[tuple[str, CauseKind], ...]] = (
    (str(MGKG.Drug), "drug"),
    (str(MGKG.GeneticDisorder), "genetic disorder"),
    (str(MGKG.LossRoute), "loss route"),
    (str(MGKG.Etiology), "etiology"),
)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cause(_Value):
    """One cause of a finding with the cited paths by which it leads there, best first."""

    rank: int = Field(
        description="1-based position among the causes: fewer steps first, then best paths as /why ranks."
    )
    cause: NodeRef
    kind: CauseKind = Field(description="drug, genetic disorder, loss route, or another etiology.")
    paths: tuple[CausalPath, ...] = Field(
        description="The paths from the cause to the finding, ranked as /why ranks."
    )
    hops: int = Field(description="Steps of the best path.")
    citation_count: int = Field(description="Distinct citations of the best path.")
    explanation: str = Field(description="The best path's paragraph, with [citation] markers.")


class CausesStatus(StrEnum):
    """Whether any cause was found."""

    FOUND = "found"
    """At least one etiology, drug, disorder or loss route explains the finding."""
    NO_CAUSE = "no_cause"
    """No cause in the graph leads to the finding by a path that explains it."""


class Causes(_Value):
    """The answer to 'what can cause FINDING?': ranked causes, each with its cited paths."""

    question: str = Field(description="The question in words, e.g. 'What can cause high urinary magnesium?'.")
    finding: NodeRef
    context: Severity | None = Field(description="The severity context asked for; None means any.")
    status: CausesStatus
    message: str = Field(description="One sentence summing up the answer, or saying why there is none.")
    causes: tuple[Cause, ...] = Field(description="The causes, ranked.")
    recommendations: tuple[Recommendation, ...] = Field(
        default=(), description="What the sources advise for the finding and the nodes of the causes' paths."
    )
    max_hops: int = Field(description="The longest path searched, in steps.")
    max_paths: int = Field(description="The most paths given per cause.")


def cause_kind(network: CausalNetwork, iri: str) -> CauseKind | None:
    """The kind of cause a node is, or None when it is not a cause (not a mgkg:Etiology)."""
    for cls, kind in _KINDS:
        if network.is_a(iri, cls):
            return kind
    return None


def find_causes(
    network: CausalNetwork,
    finding: str,
    context: Severity | None = None,
    max_paths: int = 3,
    max_hops: int = 10,
    recommendations: RecommendationCatalog | None = None,
) -> Causes:
    """The causes (mgkg:Etiology nodes: drugs, genetic disorders, loss routes, ...) ``finding`` can come from.

    Each node upstream of the finding that is a cause is asked as the source of a why-question
    (kg.causal.why.explain, with ``context``, ``max_paths`` and ``max_hops``); it is a cause when that
    answer explains the finding, and it keeps that answer's ranked paths. Causes are ranked by their
    best path: fewer steps, then kg.causal.ranking's key, then label (:func:`_rank_key`). Raises
    UnknownNodeError for an unknown name.
    """
    target = network.resolve(finding, "finding")
    upstream = nx.ancestors(network.graph, target)
    candidates = sorted(iri for iri in upstream if cause_kind(network, iri) is not None)
    found: list[tuple[str, Explanation]] = []
    rejected = 0
    for iri in candidates:
        answer = explain(network, target, source=iri, context=context, max_paths=max_paths, max_hops=max_hops)
        if answer.status == ExplanationStatus.EXPLAINED and answer.paths:
            found.append((iri, answer))
        else:
            logger.debug("%s is upstream of %s but not offered as a cause: %s", iri, target, answer.message)
            rejected += 1
    found.sort(key=lambda item: _rank_key(item[1], context))
    causes = tuple(_cause(network, rank, iri, answer) for rank, (iri, answer) in enumerate(found, start=1))
    finding_ref = network.node(target)
    paths = [path for cause in causes for path in cause.paths]
    return Causes(
        question=_question(finding_ref, context),
        finding=finding_ref,
        context=context,
        status=CausesStatus.FOUND if causes else CausesStatus.NO_CAUSE,
        message=_message(finding_ref, causes, rejected, context, max_hops),
        causes=causes,
        recommendations=recommendations.select(target, paths) if recommendations is not None else (),
        max_hops=max_hops,
        max_paths=max_paths,
    )


def _rank_key(answer: Explanation, context: Severity | None) -> tuple[object, ...]:
    """Causes rank by their best path: fewer steps first, then the one path key of kg.causal.ranking
    (context, weakest-step support, specific passages, sources), then more citations, then by name.

    Why steps come first here and not in the path key: the path key orders the mechanisms of one
    question, where a better-supported account is the better explanation whatever its length. Causes
    are different starts of a question, and a cause a step or two upstream of the finding is the
    nearer, more direct cause however well a seven-step route is cited (the order /causes has always
    promised, and its tests hold).
    """
    best = answer.paths[0]
    return (best.hops, path_key(best, context), -best.citation_count, answer.source.label.lower())


def _cause(network: CausalNetwork, rank: int, iri: str, answer: Explanation) -> Cause:
    best = answer.paths[0]
    kind = cause_kind(network, iri) or "etiology"
    return Cause(
        rank=rank,
        cause=answer.source,
        kind=kind,
        paths=answer.paths,
        hops=best.hops,
        citation_count=best.citation_count,
        explanation=best.explanation,
    )


def _question(finding: NodeRef, context: Severity | None) -> str:
    where = f" in {context} magnesium deficiency" if context is not None else ""
    return f"What can cause {finding.label}{where}?"


def _message(
    finding: NodeRef, causes: tuple[Cause, ...], rejected: int, context: Severity | None, max_hops: int
) -> str:
    """One sentence: how many causes of which kinds, or why there are none."""
    aside = (
        f" {rejected} other candidate(s) reach it only by paths that do not explain it"
        " (they contradict the finding, break a consistency rule or do not hold in the context)."
        if rejected
        else ""
    )
    if causes:
        names = ", ".join(f"{c.cause.label} ({c.kind})" for c in causes)
        return f"{len(causes)} cause(s) can lead to {finding.label}: {names}.{aside}"
    where = f" in {context} magnesium deficiency" if context is not None else ""
    return (
        f"No etiology, drug, disorder or loss route in the knowledge graph leads to {finding.label}{where}"
        f" by a chain of at most {max_hops} asserted causal links that explains it.{aside}"
    )


def format_causes(answer: Causes) -> str:
    """The answer as plain text: the question, the message, each cause with its best path, the advice."""
    from kg.causal.recommend import describe

    lines = [answer.question, answer.message]
    for cause in answer.causes:
        lines.append("")
        lines.append(f"{cause.rank}. {cause.cause.label} ({cause.kind}, {cause.cause.curie})")
        for path in cause.paths:
            lines.append(f"   path {path.rank}: {path.explanation}")
    if answer.recommendations:
        lines.append("")
        lines.append("What the sources advise:")
        lines.extend(f"- {describe(r)}" for r in answer.recommendations)
    return "\n".join(lines) + "\n"
