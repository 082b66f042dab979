"""Recommendations: read what the sources say to do from the graph, and select it for an answer."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from kg.causal.links import label_of, literal_text, read_citation
from kg.model.types import CausalPath, Explanation, NodeRef, Recommendation, Ref
from kg.model.vocab import MGKG, curie_or_iri
from kg.model.wording import citation_markers as citation_markers  # re-exported: case_what imports it here

if TYPE_CHECKING:
    from kg.causal.network import CausalNetwork

_APPLIES: tuple[URIRef, ...] = (MGKG.forProblem, MGKG.appliesTo)
"""The properties that say what a recommendation applies to (forProblem is a sub-property of appliesTo)."""

logger = logging.getLogger(__name__)


class RecommendationCatalog:
    """Every mgkg:Recommendation of a graph, in the sources' order, built once and then only read.

    :meth:`select` picks those an answer involves: a recommendation is offered when the answer's
    finding, a node on one of its paths, or a path's mechanism is among what it applies to.
    """

    def __init__(self, recommendations: Iterable[Recommendation]) -> None:
        self.recommendations: tuple[Recommendation, ...] = tuple(
            sorted(recommendations, key=lambda r: (r.order, r.iri))
        )

    def __len__(self) -> int:
        return len(self.recommendations)

    def select(self, finding: str, paths: Sequence[CausalPath]) -> tuple[Recommendation, ...]:
        """The recommendations for an answer about ``finding`` (an IRI) whose offered paths are ``paths``.

        Each comes back with ``matched`` (what of it the answer involves) and ``paths``: the ranks of the
        paths through its rationale, else of those through what it applies to (the ends of the paths
        excepted), in the sources' order.
        """
        involved = involvement(finding, paths)
        chosen: list[Recommendation] = []
        for recommendation in self.recommendations:
            matched = tuple(ref for ref in recommendation.applies_to if ref.iri in involved)
            if not matched:
                continue
            logger.debug("%s applies to %s", recommendation.curie, [r.label for r in matched])
            why = {rank for ref in recommendation.rationale for rank in involved.get(ref.iri, ())}
            ranks = sorted(why or {rank for ref in matched for rank in involved[ref.iri]})
            chosen.append(recommendation.model_copy(update={"matched": matched, "paths": tuple(ranks)}))
        return tuple(chosen)


def involvement(finding: str, paths: Sequence[CausalPath]) -> dict[str, frozenset[int]]:
    """What an answer involves, each with the ranks of the paths it is on: every node of every path, each
    path's mechanism and the causal links of its steps. The ends of the paths (the finding, the source)
    are on every path, so they are involved but point to no path in particular.

    >>> involvement("f", [])
    {'f': frozenset()}
    """
    on: dict[str, set[int]] = {finding: set()}
    for path in paths:
        if not path.steps:
            continue
        for end in (path.steps[0].subject.iri, path.steps[-1].object.iri):
            on.setdefault(end, set())
        iris = [step.object.iri for step in path.steps[:-1]]
        iris += [link.iri for step in path.steps for link in step.links]
        if path.mechanism is not None:
            iris.append(path.mechanism.iri)
        for iri in iris:
            on.setdefault(iri, set()).add(path.rank)
    return {iri: frozenset(ranks) for iri, ranks in on.items()}


def advise(explanation: Explanation, catalog: RecommendationCatalog) -> Explanation:
    """The explanation with the recommendations for its finding and its explaining paths attached."""
    chosen = catalog.select(explanation.finding.iri, explanation.paths)
    return explanation.model_copy(update={"recommendations": chosen})


def load_recommendations(graph: Graph, network: CausalNetwork) -> RecommendationCatalog:
    """Read every mgkg:Recommendation of ``graph`` (the asserted graph, or a store's causal view).

    Nodes are named as ``network`` names them, so a recommendation's interventions and findings carry
    the same labels, kinds and standard identifiers as the nodes of a path.
    """
    found = []
    for subject in sorted(s for s in graph.subjects(RDF.type, MGKG.Recommendation) if isinstance(s, URIRef)):
        applies = dict.fromkeys(o for prop in _APPLIES for o in _objects(graph, subject, prop))
        order = graph.value(subject, MGKG.sourceOrder)
        found.append(
            Recommendation(
                iri=str(subject),
                curie=curie_or_iri(str(subject)),
                label=label_of(graph, subject),
                text=literal_text(graph, subject, MGKG.recommendationText) or label_of(graph, subject),
                order=int(order) if isinstance(order, Literal) and str(order).isdigit() else 0,
                recommends=tuple(_node(graph, network, o) for o in _objects(graph, subject, MGKG.recommends)),
                cautions_against=tuple(
                    _node(graph, network, o) for o in _objects(graph, subject, MGKG.cautionsAgainst)
                ),
                applies_to=tuple(_ref(graph, o) for o in applies),
                rationale=tuple(_ref(graph, o) for o in _mechanisms_first(graph, subject)),
                citations=tuple(
                    sorted(
                        {read_citation(graph, c) for c in _objects(graph, subject, MGKG.citation)},
                        key=lambda c: (c.identifier, c.section or ""),
                    )
                ),
            )
        )
    return RecommendationCatalog(found)


def describe(recommendation: Recommendation, paths: Mapping[int, str] | None = None) -> str:
    """One line of plain text: the advice, what it cautions against, why (its rationale) and its markers.

    ``paths`` maps path ranks to a short name (for example the path's mechanism), to say which paths of
    the answer show why.
    """
    line = recommendation.text
    if recommendation.cautions_against:
        names = ", ".join(node.label for node in recommendation.cautions_against)
        line += f" Not enough on its own: {names}."
    if recommendation.rationale:
        line += f" Why: {'; '.join(ref.label for ref in recommendation.rationale)}."
    if recommendation.paths:
        shown = [
            f"path {rank}" + (f" ({paths[rank]})" if paths and rank in paths else "")
            for rank in recommendation.paths
        ]
        line += f" See {', '.join(shown)}."
    markers = citation_markers(recommendation.citations)
    return f"{line} {markers}" if markers else line


def _mechanisms_first(graph: Graph, subject: Node) -> list[URIRef]:
    """A recommendation's rationale: the mechanisms first (the reason in short), then the causal links."""
    found = _objects(graph, subject, MGKG.rationale)
    return sorted(found, key=lambda iri: (MGKG.Mechanism not in set(graph.objects(iri, RDF.type)), str(iri)))


def _objects(graph: Graph, subject: Node, prop: URIRef) -> list[URIRef]:
    return sorted(o for o in graph.objects(subject, prop) if isinstance(o, URIRef))


def _ref(graph: Graph, iri: URIRef) -> Ref:
    return Ref(iri=str(iri), curie=curie_or_iri(str(iri)), label=label_of(graph, iri))


def _node(graph: Graph, network: CausalNetwork, iri: URIRef) -> NodeRef:
    """The node as the network names it, or (for a node the network does not know) from its label."""
    try:
        return network.node(str(iri))
    except KeyError:
        return NodeRef(iri=str(iri), curie=curie_or_iri(str(iri)), label=label_of(graph, iri), kind="Node")
