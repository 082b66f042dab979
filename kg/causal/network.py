"""Build the causal network (a networkx MultiDiGraph of the asserted causal links), once per graph."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

import networkx as nx
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.term import Node

from kg.causal.consistency import Checker, ConsistencyRules, LinkFacts
from kg.causal.search import SEVERITY, SIGN, SignedIndex, build_index, context_filter
from kg.graph.asserted import AssertedGraph
from kg.model.names import NameIndex
from kg.model.types import Citation, Context, LinkRef, MatchType, NodeRef, Ref, Severity, Xref
from kg.model.vocab import DCTERMS, EFFECT_SIGNS, MGKG, MGKGID, OBO, SKOS, to_curie

DEFAULT_SOURCE: Final = str(MGKGID.hypomagnesemia)
"""The IRI of the node every why-question starts from unless told otherwise."""

LINK: Final = "link"
"""Edge attribute holding the edge's :class:`LinkData`."""

logger = logging.getLogger(__name__)

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


class CausalNetwork:
    """The asserted causal links as a ``networkx.MultiDiGraph``, with node metadata and name lookup.

    Nodes are IRIs (str) of the causes and effects of links. There is one edge per asserted
    ``mgkg:CausalLink``, keyed by the link's IRI, with attributes ``sign`` (+1/-1), ``severity``
    ('mild', 'severe' or None) and ``link`` (:class:`LinkData`). Parallel links stay separate edges;
    the path search merges same-sign parallels into one step. Inferred shortcuts are never included.
    The network is only read once built; the signed-node index the path search runs on is built once
    per context on first use (:meth:`signed_index`) and kept.
    """

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        nodes: Mapping[str, NodeInfo],
        names: NameIndex,
        related: Mapping[str, tuple[str, ...]],
        rules: ConsistencyRules | None = None,
    ) -> None:
        self.graph = graph
        self._nodes = nodes
        self._names = names
        self._related = related
        self.rules = rules if rules is not None else ConsistencyRules()
        """The consistency rules read from the graph; every index searches under them."""
        self._indexes: dict[Severity | None, SignedIndex] = {}
        self._index_lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        """Pickle without the lock (and without the indexes, which are rebuilt on demand)."""
        state = self.__dict__.copy()
        del state["_index_lock"], state["_indexes"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._indexes = {}
        self._index_lock = threading.Lock()

    def signed_index(self, context: Severity | None = None) -> SignedIndex:
        """The signed-node index of the links that hold in ``context``, built on first use, then kept.

        Building it is linear in the links (tens of ms for ten thousand); each why-question then only
        searches it, so no request rebuilds the signed graph. The index carries the network's
        consistency check (kg/causal/consistency.py), so every search of it offers only paths whose links
        can hold together; ``index.unchecked()`` searches without it.
        """
        index = self._indexes.get(context)
        if index is None:
            with self._index_lock:
                index = self._indexes.get(context)
                if index is None:
                    checker = Checker(self.rules)
                    index = build_index(self.graph, context_filter(self.graph, context), checker)
                    self._indexes[context] = index
        return index

    def node(self, iri: str) -> NodeRef:
        """The NodeRef of a known node."""
        return self._nodes[iri].ref

    def nodes(self) -> list[NodeRef]:
        """Every node the network can name (linked or not), by IRI."""
        return [self._nodes[iri].ref for iri in sorted(self._nodes)]

    def is_state(self, iri: str) -> bool:
        """Whether the node is a mgkg:State (which includes every mgkg:ClinicalFinding)."""
        return str(MGKG.State) in self._nodes[iri].classes

    def is_finding(self, iri: str) -> bool:
        """Whether the node is a mgkg:ClinicalFinding."""
        return str(MGKG.ClinicalFinding) in self._nodes[iri].classes

    def is_a(self, iri: str, cls: str) -> bool:
        """Whether the node belongs to the mgkg class ``cls`` (an IRI), its subclasses included."""
        return cls in self._nodes[iri].classes

    def link(self, u: str, v: str, key: str) -> LinkData:
        """The data of the link ``key`` from ``u`` to ``v``."""
        data: LinkData = self.graph.edges[u, v, key][LINK]
        return data

    def resolve(self, name: str, kind: str = "finding") -> str:
        """The IRI of the causal node a name means, or UnknownNodeError with the closest names.

        Names are those of kg.model.names (an IRI, a CURIE such as mgkgid:tetany or a standard id
        such as HP:0002901 mapped by a skos match, a local id, a label or a synonym,
        case-insensitively); every door of the service resolves through here. A known entity that is
        on no causal link resolves to the linked node that is about it (mgkg:about) or that it enables
        (RO:0002327), findings first, then the node with most incoming links.
        """
        iri = self._names.resolve(name, kind, self._preference, self.graph.__contains__).iri
        if iri in self.graph:
            return iri
        related = self._related.get(iri, ())
        if not related:
            return iri
        stand_in = self._best(related)
        logger.debug("%s %r is on no causal link; resolved to %s, which is about it", kind, name, stand_in)
        return stand_in

    def suggest(self, name: str, limit: int = 5) -> list[str]:
        """Labels of the linked nodes whose names are closest to ``name``, findings first."""
        return self._names.suggest(name, self._preference, self.graph.__contains__, limit)

    def findings(self, source: str = DEFAULT_SOURCE, *, include_unreachable: bool = False) -> list[NodeRef]:
        """The clinical findings a causal path from ``source`` reaches (all findings with the flag)."""
        if include_unreachable:
            iris: Iterable[str] = (iri for iri in self._nodes if self.is_finding(iri))
        else:
            reachable = nx.descendants(self.graph, source) if source in self.graph else set()
            iris = (iri for iri in reachable if self.is_finding(iri))
        return sorted((self.node(iri) for iri in iris), key=lambda ref: (ref.label.lower(), ref.iri))

    def _preference(self, iri: str) -> tuple[bool, bool, int, str]:
        """Order among nodes one name fits: on a link first, findings, then most incoming links, then IRI."""
        linked = iri in self.graph
        degree = self.graph.in_degree(iri) if linked else 0
        return (not linked, not self.is_finding(iri), -degree, iri)

    def _best(self, iris: Iterable[str]) -> str:
        """Pick one of several IRIs by :meth:`_preference`."""
        return min(iris, key=self._preference)


def build_network(graph: Graph | AssertedGraph) -> CausalNetwork:
    """Read the asserted causal links of an RDF graph into a :class:`CausalNetwork`.

    Only ``mgkg:CausalLink`` nodes make edges, so the network never holds an inferred shortcut even
    if ``graph`` contains inferred triples. Citations, mechanisms and contexts are resolved here once.
    """
    rdf = graph.graph if isinstance(graph, AssertedGraph) else graph
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
    rules = _rules(rdf, nodes, network, facts)
    names = NameIndex.build(rdf, {iri: info.ref.label for iri, info in nodes.items()})
    return CausalNetwork(network, nodes, names, _related(rdf, nodes, network), rules)


class HasAsserted(Protocol):
    """Anything holding the asserted graph, such as a KnowledgeGraph."""

    @property
    def asserted(self) -> AssertedGraph: ...


_networks: dict[int, tuple[weakref.ref[Graph], CausalNetwork]] = {}
_networks_lock = threading.Lock()


def network_of(source: HasAsserted | AssertedGraph | Graph) -> CausalNetwork:
    """The causal network of a knowledge graph's asserted links, built on first use and then kept.

    Memoised per asserted rdflib Graph object (by identity, for as long as that graph lives), and
    thread-safe: concurrent first uses build it once. The graph is only read once loaded, so the
    network never goes stale; a different graph object gets its own network.
    """
    if isinstance(source, Graph):
        rdf = source
    elif isinstance(source, AssertedGraph):
        rdf = source.graph
    else:
        rdf = source.asserted.graph
    key = id(rdf)
    with _networks_lock:
        entry = _networks.get(key)
        if entry is not None and entry[0]() is rdf:
            return entry[1]
        network = build_network(rdf)
        _networks[key] = (weakref.ref(rdf, lambda _: _networks.pop(key, None)), network)
        logger.debug("built the causal network of %r (%d links)", rdf.identifier, network.graph.size())
        return network


def _link_facts(graph: Graph, link: URIRef) -> LinkFacts:
    """The phase (mgkg:severity) and every context (conditions and phase) a link needs, as IRIs."""
    phases = sorted(str(p) for p in graph.objects(link, MGKG.severity) if isinstance(p, URIRef))
    conditions = {str(c) for c in graph.objects(link, MGKG.condition) if isinstance(c, URIRef)}
    return LinkFacts(
        label=_label(graph, link),
        phase=phases[0] if phases else None,
        contexts=frozenset(conditions | set(phases)),
        tissues=frozenset(str(t) for t in graph.objects(link, MGKG.tissue) if isinstance(t, URIRef)),
    )


def _rules(
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
    labels.update({c: _label(graph, URIRef(c)) for c in contexts})
    return ConsistencyRules(
        links=dict(facts),
        negates={k: frozenset(v) for k, v in negates.items()},
        excludes={k: frozenset(v) for k, v in excludes.items()},
        interventions=interventions,
        states=frozenset(iri for iri, info in nodes.items() if str(MGKG.State) in info.classes),
        caused_by=caused_by,
        labels=labels,
    )


def _text(graph: Graph, subject: Node, prop: URIRef) -> str | None:
    """A literal value of ``prop``, preferring English or untagged literals."""
    values = [o for o in graph.objects(subject, prop) if isinstance(o, Literal)]
    preferred = [o for o in values if o.language in (None, "en")]
    chosen = sorted(preferred or values, key=str)
    return str(chosen[0]) if chosen else None


def _label(graph: Graph, subject: Node) -> str:
    """The English label of a resource, or its local name when it has none."""
    label = _text(graph, subject, RDFS.label)
    return label if label is not None else str(subject).rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _curie(iri: Node) -> str:
    """A CURIE for an IRI, or the IRI itself when no prefix covers it."""
    return to_curie(str(iri)) or str(iri)


def _ref(graph: Graph, iri: Node) -> Ref:
    return Ref(iri=str(iri), curie=_curie(iri), label=_label(graph, iri))


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
        Xref(curie=_curie(o), match=match)
        for prop, match in _MATCHES
        for o in sorted(graph.objects(iri, prop), key=str)
        if isinstance(o, URIRef)
    )
    ref = NodeRef(iri=str(iri), curie=_curie(iri), label=_label(graph, iri), kind=kind, xrefs=xrefs)
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
        title = _text(graph, document, DCTERMS.title) or _label(graph, document)
    attributed = graph.value(document, MGKG.attributedIn) if document is not None else None
    return Citation(
        identifier=_text(graph, node, DCTERMS.identifier) or _curie(node),
        section=_text(graph, node, MGKG.section),
        document=title,
        document_iri=str(document) if document is not None else None,
        document_label=_label(graph, document) if document is not None else None,
        attributed_in=str(attributed) if attributed is not None else None,
    )


def _link_data(graph: Graph, link: URIRef, sign: int) -> LinkData:
    tags = [s for s in graph.objects(link, MGKG.severity) if isinstance(s, URIRef) and s in _SEVERITIES]
    severities = sorted({_SEVERITIES[s] for s in tags})
    if len(severities) > 1:
        raise ValueError(f"causal link {link} is tagged both mild and severe; a link holds in one severity")
    context = Context(
        severity=severities[0] if severities else None,
        tissues=tuple(sorted(_label(graph, t) for t in graph.objects(link, MGKG.tissue))),
        conditions=tuple(sorted(_label(graph, c) for c in graph.objects(link, MGKG.condition))),
    )
    citations = tuple(
        sorted({read_citation(graph, c) for c in graph.objects(link, MGKG.citation)}, key=_citation_order)
    )
    return LinkData(
        ref=LinkRef(iri=str(link), curie=_curie(link), label=_label(graph, link), severity=context.severity),
        sign=sign,
        mechanisms=tuple(
            sorted((_ref(graph, m) for m in graph.objects(link, MGKG.mechanism)), key=lambda ref: ref.iri)
        ),
        context=context,
        citations=citations,
        evidence_types=tuple(sorted(_curie(e) for e in graph.objects(link, MGKG.evidenceType))),
        summary=_text(graph, link, MGKG.evidenceSummary) or "",
    )


def _citation_order(citation: Citation) -> tuple[str, str]:
    return (citation.identifier, citation.section or "")


def _related(
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
