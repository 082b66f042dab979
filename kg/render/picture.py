"""The picture graph of an explanation, a neighbourhood or the whole causal graph, which every export draws.

A picture graph is a ``networkx.MultiDiGraph`` whose nodes and edges carry only scalar attributes
(strings, numbers, booleans), so that GraphML, Cytoscape.js JSON and node-link JSON (render.formats) keep them
as they are. Node attributes: ``id`` (safe for DOT, SVG, CSS and Mermaid), ``label``,
``curie``, ``iri``, ``kind`` (the mgkg class), ``category`` (the style group), ``xrefs``, ``role``.
Edge attributes: ``id``, ``label`` ('increases' / 'decreases'), ``symbol`` ('+' or a minus sign), ``sign``,
``polarity``, ``severity``, ``tissues``, ``conditions``, ``context_dependent``, ``citations``,
``citation_count``, ``citation_details``, ``mechanisms``, ``links``, ``evidence_types``,
``evidence_summary``, ``curator_inference``. One edge stands for one step: the links with the same
cause, effect and sign, merged as the path search merges them. The graph attribute ``recommendations``
(when an answer has any) holds what the sources advise, as text that DOT draws as a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import networkx as nx

from kg.model.types import CausalPath, Citation, Context, Explanation, NodeRef, Recommendation, Severity
from kg.model.wording import cite

if TYPE_CHECKING:
    from kg.causal.causes import Causes
    from kg.causal.network import CausalNetwork

MINUS: Final = "\N{MINUS SIGN}"
"""The sign printed on decreasing links."""

CATEGORIES: Final[dict[str, str]] = {
    "ClinicalFinding": "finding",
    "LaboratoryMeasurement": "finding",
    "Disease": "finding",
    "State": "state",
    "BiologicalProcess": "process",
    "Etiology": "etiology",
    "Drug": "etiology",
    "GeneticDisorder": "etiology",
    "LossRoute": "etiology",
    "Intervention": "intervention",
}
"""The style group of each node kind; every other kind (entities) is a 'molecular entity'."""


def category_of(kind: str) -> str:
    """The style group of a node kind.

    >>> category_of("ClinicalFinding"), category_of("IonChannel"), category_of("Drug")
    ('finding', 'molecular entity', 'etiology')
    """
    return CATEGORIES.get(kind, "molecular entity")


def safe_id(prefix: str, text: str) -> str:
    """An identifier made of ASCII letters, digits and underscores, usable in DOT, SVG, CSS and Mermaid.

    >>> safe_id("n", "mgkgid:hypocalcemia")
    'n_mgkgid_hypocalcemia'
    >>> safe_id("n", "Mg-ATP (2+)")
    'n_Mg_ATP_2_'
    """
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9]+', '_', text)}"


@dataclass
class _EdgeDraft:
    """The links of one step being gathered before they become one edge of the picture graph."""

    subject: str
    object: str
    sign: int
    contexts: list[Context] = field(default_factory=list)
    citations: dict[tuple[str, str], Citation] = field(default_factory=dict)
    mechanisms: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    evidence_types: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    curator_inference: bool = True

    def add(
        self,
        context: Context,
        citations: Iterable[Citation],
        mechanisms: Iterable[str],
        links: Iterable[str],
        evidence_types: Iterable[str],
        summary: str,
        curator_inference: bool,
    ) -> None:
        """Merge one more link (or step) into the edge."""
        self.contexts.append(context)
        for citation in citations:
            self.citations.setdefault((citation.identifier, citation.section or ""), citation)
        _extend_unique(self.mechanisms, mechanisms)
        _extend_unique(self.links, links)
        _extend_unique(self.evidence_types, evidence_types)
        if summary:
            _extend_unique(self.summaries, [summary])
        self.curator_inference = self.curator_inference and curator_inference


def _extend_unique(target: list[str], values: Iterable[str]) -> None:
    for value in values:
        if value not in target:
            target.append(value)


def _add_node(graph: nx.MultiDiGraph, ref: NodeRef, role: str = "") -> None:
    if ref.iri in graph:
        if role:
            graph.nodes[ref.iri]["role"] = role
        return
    graph.add_node(
        ref.iri,
        id=safe_id("n", ref.curie),
        label=ref.label,
        curie=ref.curie,
        iri=ref.iri,
        kind=ref.kind,
        category=category_of(ref.kind),
        xrefs="; ".join(f"{x.curie} ({x.match.value})" for x in ref.xrefs),
        role=role,
    )


def _add_edges(graph: nx.MultiDiGraph, drafts: Iterable[_EdgeDraft]) -> None:
    for number, draft in enumerate(drafts, start=1):
        severities = sorted({c.severity for c in draft.contexts if c.severity is not None})
        tissues = sorted({t for c in draft.contexts for t in c.tissues})
        conditions = sorted({t for c in draft.contexts for t in c.conditions})
        citations = list(draft.citations.values())
        identifiers = list(dict.fromkeys(c.identifier for c in citations))
        graph.add_edge(
            draft.subject,
            draft.object,
            key=f"e{number}",
            id=f"e{number}",
            label="increases" if draft.sign > 0 else "decreases",
            symbol="+" if draft.sign > 0 else MINUS,
            sign=draft.sign,
            polarity="positive" if draft.sign > 0 else "negative",
            severity=", ".join(severities),
            tissues="; ".join(tissues),
            conditions="; ".join(conditions),
            context_dependent=bool(severities or conditions),
            citations="; ".join(identifiers),
            citation_count=len(identifiers),
            citation_details="\n".join(_describe_citation(c) for c in citations),
            mechanisms="; ".join(draft.mechanisms),
            links="; ".join(draft.links),
            evidence_types="; ".join(draft.evidence_types),
            evidence_summary=" ".join(draft.summaries),
            curator_inference=draft.curator_inference,
        )


def _describe_citation(citation: Citation) -> str:
    """A citation in one line, as people cite it: document, section [identifier].

    >>> _describe_citation(Citation(identifier="problem:1", section="Calcium", document="A review"))
    'A review, Calcium [problem:1]'
    """
    return cite(citation)


def explanation_graph(explanation: Explanation) -> nx.MultiDiGraph:
    """The picture graph of an explanation: every step of every explaining path, each step once.

    The source and the finding are always nodes (so an explanation without paths still draws them);
    an edge lists the mechanisms of all the paths that go through it.
    """
    return _answer_graph(
        explanation.question,
        explanation.finding,
        [(explanation.source, "source", ()), (explanation.finding, "finding", explanation.paths)],
        explanation.recommendations,
        source=explanation.source.iri,
    )


def _answer_graph(
    title: str,
    finding: NodeRef,
    starts: Iterable[tuple[NodeRef, str, Iterable[CausalPath]]],
    recommendations: Sequence[Recommendation],
    **attributes: str,
) -> nx.MultiDiGraph:
    """The picture graph of an answer: each of ``starts`` (a node, its role, the paths added after it) in
    turn, every step of those paths merged into one edge per pair and sign, and the advice in the note."""
    graph = nx.MultiDiGraph(title=title, **attributes)
    graph.graph["finding"] = finding.iri
    drafts: dict[tuple[str, str, int], _EdgeDraft] = {}
    for node, role, paths in starts:
        _add_node(graph, node, role)
        for path in paths:
            _add_path(graph, drafts, path)
    _add_edges(graph, drafts.values())
    if recommendations:
        graph.graph["recommendations"] = recommendations_note(recommendations)
    return graph


def _add_path(
    graph: nx.MultiDiGraph, drafts: dict[tuple[str, str, int], _EdgeDraft], path: CausalPath
) -> None:
    """Add a path's nodes to the picture graph and its steps to the edge drafts (one per pair and sign)."""
    mechanisms = [path.mechanism.label] if path.mechanism is not None else []
    for step in path.steps:
        _add_node(graph, step.subject)
        _add_node(graph, step.object)
        key = (step.subject.iri, step.object.iri, step.sign)
        draft = drafts.setdefault(key, _EdgeDraft(*key))
        draft.add(
            step.context,
            step.citations,
            mechanisms,
            (link.curie for link in step.links),
            step.evidence_types,
            step.evidence_summary,
            step.curator_inference,
        )


def recommendations_note(recommendations: Iterable[Recommendation]) -> str:
    r"""The recommendations of an answer as the text of the picture's note, one numbered line each.

    >>> from kg.model.types import Citation, Ref
    >>> rec = Recommendation(iri="r", curie="r", label="r", text="Give magnesium.", order=1,
    ...     applies_to=(Ref(iri="f", curie="f", label="f"),), citations=(Citation(identifier="problem:1"),))
    >>> recommendations_note([rec])
    'What the sources advise:\n1. Give magnesium. [problem:1]'
    """
    lines = ["What the sources advise:"]
    for number, recommendation in enumerate(recommendations, start=1):
        markers = "".join(f"[{i}]" for i in dict.fromkeys(c.identifier for c in recommendation.citations))
        lines.append(f"{number}. {recommendation.text} {markers}".rstrip())
    return "\n".join(lines)


def causes_graph(answer: Causes) -> nx.MultiDiGraph:
    """The picture graph of a causes answer: every step of every path from each cause to the finding.

    The finding has the role 'finding' and each cause the role 'source'; an edge lists the mechanisms of
    the paths through it. The recommendations go in the graph's note, as for an explanation.
    """
    return _answer_graph(
        answer.question,
        answer.finding,
        [(answer.finding, "finding", ()), *((cause.cause, "source", cause.paths) for cause in answer.causes)],
        answer.recommendations,
    )


def network_graph(
    network: CausalNetwork,
    nodes: Iterable[str] | None = None,
    *,
    context: Severity | None = None,
    title: str = "The mgkg causal network",
) -> nx.MultiDiGraph:
    """The picture graph of the causal network, or of the part induced by ``nodes`` (IRIs).

    With a ``context``, links tagged with the other severity are left out (untagged links stay).
    """
    keep = set(network.graph) if nodes is None else set(nodes)
    graph = nx.MultiDiGraph(title=title)
    for iri in sorted(keep):
        _add_node(graph, network.node(iri))
    drafts: dict[tuple[str, str, int], _EdgeDraft] = {}
    for u, v, key in sorted(network.graph.edges(keys=True)):
        if u not in keep or v not in keep:
            continue
        link = network.link(u, v, key)
        if context is not None and link.context.severity not in (None, context):
            continue
        draft = drafts.setdefault((u, v, link.sign), _EdgeDraft(u, v, link.sign))
        draft.add(
            link.context,
            link.citations,
            (m.label for m in link.mechanisms),
            [link.ref.curie],
            link.evidence_types,
            link.summary,
            link.evidence_types == ("ECO:0000305",),
        )
    _add_edges(graph, drafts.values())
    return graph


def neighbourhood_graph(
    network: CausalNetwork, iri: str, radius: int = 1, *, context: Severity | None = None
) -> nx.MultiDiGraph:
    """The picture graph of the nodes within ``radius`` links of a node, in either direction."""
    if radius < 0:
        raise ValueError(f"radius must be 0 or more, not {radius}")
    nodes = nx.ego_graph(network.graph, iri, radius=radius, undirected=True).nodes
    label = network.node(iri).label
    graph = network_graph(network, nodes, context=context, title=f"Within {radius} links of {label}")
    graph.nodes[iri]["role"] = "focus"
    return graph
