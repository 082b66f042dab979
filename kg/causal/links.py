"""Read the asserted causal links of an RDF graph: the edges, the nodes, the citations, the consistency rules.

Everything the causal network holds is read here once, when it is built (kg.causal.network); nothing
reads the RDF graph again per question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import networkx as nx
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.term import Node

from kg.causal.consistency import ConsistencyRules, LinkFacts
from kg.causal.search import SEVERITY, SIGN
from kg.model.types import Citation, Context, LinkRef, MatchType, NodeRef, Ref, Severity, Xref
from kg.model.vocab import DCTERMS, EFFECT_SIGNS, MGKG, OBO, SKOS, curie_or_iri

LINK: Final = "link"
"""Edge attribute holding the edge's :class:`LinkData`."""

_ENABLES: Final = OBO["RO_0002327"]
_SEVERITIES: Final[dict[URIRef, Severity]] = {MGKG.mild: "mild", MGKG.severe: "severe"}
_MATCHES: Final = (
    (SKOS.exactMatch, MatchType.EXACT),
    (SKOS.closeMatch, MatchType.CLOSE),
    (SKOS.broadMatch, MatchType.BROAD),
    (SKOS.narrowMatch, MatchType.NARROW),
    (SKOS.relatedMatch, MatchType.RELATED),
)


@dataclass(frozen=True)
class LinkData:
    """One asserted causal link, as an edge of the network carries it (attribute ``link``)."""

    ref: LinkRef
    sign: int
    mechanisms: tuple[Ref, ...]
    context: Context
    citations: tuple[Citation, ...]
    evidence_types: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class NodeInfo:
    """What the network knows about a node: how to name it and every mgkg class it belongs to."""

    ref: NodeRef
    classes: frozenset[str]


@dataclass(frozen=True)
class LinkTable:
    """What :func:`read_links` reads: the links as a multigraph, every node, and each link's context."""

    graph: nx.MultiDiGraph
    nodes: dict[str, NodeInfo]
    facts: dict[str, LinkFacts]


def read_links(rdf: Graph) -> LinkTable:
    """The asserted causal links of an RDF graph as a ``networkx.MultiDiGraph``, with every mgkg node.

    Only ``mgkg:CausalLink`` nodes make edges, so the network never holds an inferred shortcut even
    if ``rdf`` contains inferred triples. Citations, mechanisms and contexts are resolved here once.
    """
    ancestors = _class_ancestors(rdf)
    nodes = {str(n): _node_info(rdf, n, ancestors) for n in _mgkg_nodes(rdf, ancestors)}
    network = nx.MultiDiGraph()
    facts: dict[str, LinkFacts] = {}
    for link in sorted(s for s in rdf.subjects(RDF.type, MGKG.CausalLink) if isinstance(s, URIRef)):
        cause = rdf.value(link, MGKG.cause)
        effects = [(e, sign) for prop, sign in EFFECT_SIGNS.items() for e in rdf.objects(link, prop)]
        if not isinstance(cause, URIRef) or not effects or not all(isinstance(e, URIRef) for e, _ in effects):
            raise ValueError(
                f"causal link {link} needs one mgkg:cause IRI and an effect IRI; validate the graph"
            )
        for effect, sign in effects:
            for end in (cause, effect):
                nodes.setdefault(str(end), _node_info(rdf, end, ancestors))
            data = _link_data(rdf, link, sign)
            attributes = {SIGN: sign, SEVERITY: data.context.severity, LINK: data}
            network.add_edge(str(cause), str(effect), key=str(link), **attributes)
        facts[str(link)] = _link_facts(rdf, link)
    return LinkTable(network, nodes, facts)


def _link_facts(graph: Graph, link: URIRef) -> LinkFacts:
    """The phase (mgkg:severity) and every context (conditions and phase) a link needs, as IRIs."""
    phases = sorted(str(p) for p in graph.objects(link, MGKG.severity) if isinstance(p, URIRef))
    conditions = {str(c) for c in graph.objects(link, MGKG.condition) if isinstance(c, URIRef)}
    return LinkFacts(
        label=label_of(graph, link),
        phase=phases[0] if phases else None,
        contexts=frozenset(conditions | set(phases)),
        tissues=frozenset(str(t) for t in graph.objects(link, MGKG.tissue) if isinstance(t, URIRef)),
    )


def read_rules(
    graph: Graph, nodes: Mapping[str, NodeInfo], network: nx.MultiDiGraph, facts: Mapping[str, LinkFacts]
) -> ConsistencyRules:
    """Read the consistency rules (mgkg:negates, mgkg:excludes, interventions) from the graph."""
    negates: dict[str, set[str]] = {}
    for node, context in graph.subject_objects(MGKG.negates):
        negates.setdefault(str(node), set()).add(str(context))
    excludes: dict[str, set[str]] = {}
    for one, other in graph.subject_objects(MGKG.excludes):
        if one != other:
            excludes.setdefault(str(one), set()).add(str(other))
            excludes.setdefault(str(other), set()).add(str(one))
    interventions = frozenset(iri for iri, info in nodes.items() if str(MGKG.Intervention) in info.classes)
    caused_by = {
        iri: frozenset(str(v) for _, v, sign in network.out_edges(iri, data=SIGN) if sign > 0)
        for iri in interventions
        if iri in network
    }
    contexts = {c for link in facts.values() for c in link.contexts} | {
        c for cs in negates.values() for c in cs
    }
    labels = {iri: info.ref.label for iri, info in nodes.items()}
    labels.update({c: label_of(graph, URIRef(c)) for c in contexts})
    return ConsistencyRules(
        links=dict(facts),
        negates={k: frozenset(v) for k, v in negates.items()},
        excludes={k: frozenset(v) for k, v in excludes.items()},
        interventions=interventions,
        states=frozenset(iri for iri, info in nodes.items() if str(MGKG.State) in info.classes),
        caused_by=caused_by,
        labels=labels,
    )


def literal_text(graph: Graph, subject: Node, prop: URIRef) -> str | None:
    """A literal value of ``prop``, preferring English or untagged literals."""
    values = [o for o in graph.objects(subject, prop) if isinstance(o, Literal)]
    preferred = [o for o in values if o.language in (None, "en")]
    chosen = sorted(preferred or values, key=str)
    return str(chosen[0]) if chosen else None


def label_of(graph: Graph, subject: Node) -> str:
    """The English label of a resource, or its local name when it has none."""
    label = literal_text(graph, subject, RDFS.label)
    return label if label is not None else str(subject).rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _ref(graph: Graph, iri: Node) -> Ref:
    return Ref(iri=str(iri), curie=curie_or_iri(str(iri)), label=label_of(graph, iri))


def _class_ancestors(graph: Graph) -> dict[Node, frozenset[Node]]:
    """Each mgkg class with all its named superclasses (itself included), from rdfs:subClassOf."""
    classes = {c for c in graph.subjects(RDFS.subClassOf, None) if isinstance(c, URIRef)}
    result: dict[Node, frozenset[Node]] = {}
    for cls in classes | {MGKG.Node}:
        result[cls] = frozenset(
            c for c in graph.transitive_objects(cls, RDFS.subClassOf) if isinstance(c, URIRef)
        )
    return result


def _mgkg_nodes(graph: Graph, ancestors: Mapping[Node, frozenset[Node]]) -> set[URIRef]:
    """Every resource typed with a subclass of mgkg:Node."""
    node_classes = [c for c, sup in ancestors.items() if MGKG.Node in sup]
    return {s for c in node_classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}


def _node_info(graph: Graph, iri: Node, ancestors: Mapping[Node, frozenset[Node]]) -> NodeInfo:
    types = [t for t in graph.objects(iri, RDF.type) if t in ancestors and MGKG.Node in ancestors[t]]
    classes = frozenset(str(c) for t in types for c in ancestors[t])
    kind = _kind(types, ancestors)
    xrefs = tuple(
        Xref(curie=curie_or_iri(str(o)), match=match)
        for prop, match in _MATCHES
        for o in sorted(graph.objects(iri, prop), key=str)
        if isinstance(o, URIRef)
    )
    ref = NodeRef(
        iri=str(iri), curie=curie_or_iri(str(iri)), label=label_of(graph, iri), kind=kind, xrefs=xrefs
    )
    return NodeInfo(ref=ref, classes=classes)


def _kind(types: list[Node], ancestors: Mapping[Node, frozenset[Node]]) -> str:
    """The local name of the most specific mgkg class (most ancestors; ties: alphabetical)."""
    if not types:
        return "Node"
    best = min(types, key=lambda t: (-len(ancestors[t]), str(t)))
    return str(best).rsplit("#", 1)[-1]


def read_citation(graph: Graph, node: Node) -> Citation:
    """The Citation a ``mgkg:Citation`` node of ``graph`` stands for, with its document's names."""
    document = graph.value(node, MGKG.sourceDocument)
    title = None
    if document is not None:
        title = literal_text(graph, document, DCTERMS.title) or label_of(graph, document)
    attributed = graph.value(document, MGKG.attributedIn) if document is not None else None
    return Citation(
        identifier=literal_text(graph, node, DCTERMS.identifier) or curie_or_iri(str(node)),
        section=literal_text(graph, node, MGKG.section),
        document=title,
        document_iri=str(document) if document is not None else None,
        document_label=label_of(graph, document) if document is not None else None,
        attributed_in=str(attributed) if attributed is not None else None,
    )


def _link_data(graph: Graph, link: URIRef, sign: int) -> LinkData:
    tags = [s for s in graph.objects(link, MGKG.severity) if isinstance(s, URIRef) and s in _SEVERITIES]
    severities = sorted({_SEVERITIES[s] for s in tags})
    if len(severities) > 1:
        raise ValueError(f"causal link {link} is tagged both mild and severe; a link holds in one severity")
    context = Context(
        severity=severities[0] if severities else None,
        tissues=tuple(sorted(label_of(graph, t) for t in graph.objects(link, MGKG.tissue))),
        conditions=tuple(sorted(label_of(graph, c) for c in graph.objects(link, MGKG.condition))),
    )
    citations = tuple(
        sorted({read_citation(graph, c) for c in graph.objects(link, MGKG.citation)}, key=_citation_order)
    )
    return LinkData(
        ref=LinkRef(
            iri=str(link),
            curie=curie_or_iri(str(link)),
            label=label_of(graph, link),
            severity=context.severity,
        ),
        sign=sign,
        mechanisms=tuple(
            sorted((_ref(graph, m) for m in graph.objects(link, MGKG.mechanism)), key=lambda ref: ref.iri)
        ),
        context=context,
        citations=citations,
        evidence_types=tuple(sorted(curie_or_iri(str(e)) for e in graph.objects(link, MGKG.evidenceType))),
        summary=literal_text(graph, link, MGKG.evidenceSummary) or "",
    )


def _citation_order(citation: Citation) -> tuple[str, str]:
    return (citation.identifier, citation.section or "")


def read_related(
    graph: Graph, nodes: Mapping[str, NodeInfo], network: nx.MultiDiGraph
) -> dict[str, tuple[str, ...]]:
    """For each node on no causal link, the linked nodes about it (mgkg:about) or that it enables."""
    related: dict[str, tuple[str, ...]] = {}
    for iri in nodes:
        if iri in network:
            continue
        subject = URIRef(iri)
        about = {str(s) for s in graph.subjects(MGKG.about, subject)}
        enabled = {str(o) for o in graph.objects(subject, _ENABLES)}
        linked = tuple(sorted(n for n in about | enabled if n in network))
        if linked:
            related[iri] = linked
    return related
