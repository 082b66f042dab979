"""mgkg's causal network as Biolink nodes and edges: the one view TRAPI answers and KGX exports come from."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Final

from rdflib import Graph, URIRef

from kg.causal.network import CausalNetwork, LinkData, network_of
from kg.graph.knowledge import KnowledgeGraph
from kg.model.types import Citation, MatchType, NodeRef
from kg.model.vocab import ECO_CURATOR_INFERENCE, MGKG, SKOS, from_curie, to_curie
from kg.translator.biolink import BiolinkMapping, Qualifier, load_mapping

log = logging.getLogger(__name__)

INFORES: Final = "infores:mgkg"
"""mgkg's information-resource id: the one primary knowledge source of every edge it serves."""
PUBLICATION_PREFIXES: Final = frozenset({"PMID", "PMC", "DOI", "doi", "ISBN", "isbn"})
"""Citation prefixes that are publication CURIEs (biolink:publications); other citations are free text."""
_CURATOR_INFERENCE: Final = to_curie(str(ECO_CURATOR_INFERENCE))


@dataclass(frozen=True)
class BiolinkNode:
    """A node as Biolink sees it: its preferred CURIE, mgkg's own CURIE, its categories and equivalents."""

    id: str
    mgkg_id: str
    name: str
    kind: str
    categories: tuple[str, ...]
    equivalents: tuple[str, ...]
    """Every CURIE that names the same thing: mgkg's own and the exactMatch ones."""
    close: tuple[str, ...] = ()
    """Standard CURIEs mapped by closeMatch, broadMatch, narrowMatch or relatedMatch (xrefs, not the same)."""


@dataclass(frozen=True)
class BiolinkEdge:
    """One asserted causal link as a Biolink edge, with what TRAPI and KGX need to cite and qualify it."""

    id: str
    subject: str
    predicate: str
    object: str
    sign: int
    qualifiers: tuple[Qualifier, ...]
    knowledge_level: str
    agent_type: str
    publications: tuple[str, ...]
    citations: tuple[str, ...]
    """Free-text citations: the source text, its section and the citation's identifier."""
    evidence_types: tuple[str, ...]
    supporting_text: str
    severity: str | None
    conditions: tuple[str, ...]
    mechanisms: tuple[str, ...]
    label: str
    tissues: tuple[str, ...] = field(default=())


def preferred_id(node: NodeRef) -> str:
    """The node's id in Biolink answers: its first exactMatch standard CURIE, else mgkg's own CURIE.

    Only an exact match names the same thing; a close or broad one stays an xref.
    """
    for xref in node.xrefs:
        if xref.match is MatchType.EXACT:
            return xref.curie
    return node.curie


def citation_text(citation: Citation) -> str:
    """A citation in words: the document's short name, the section, the citation identifier."""
    parts = [citation.document_label or citation.document or "", citation.section or "", citation.identifier]
    return ", ".join(part for part in parts if part)


class BiolinkView:
    """The Biolink nodes and edges of a knowledge graph's causal network, built once and then only read.

    Nodes are keyed by their preferred CURIE (:func:`preferred_id`); ``resolve`` also takes mgkg's CURIE and
    every exactMatch CURIE. Edges are the asserted links (never the inferred shortcuts), keyed by the link's
    CURIE, each stated with its cause going up (:meth:`BiolinkMapping.qualify`).
    """

    def __init__(self, network: CausalNetwork, graph: Graph, mapping: BiolinkMapping | None = None) -> None:
        """Build the view of ``network`` (the asserted causal links); ``graph`` is the asserted graph, read
        for what the network does not keep: the tissues' and conditions' own identifiers."""
        self.network = network
        self.mapping = mapping or load_mapping()
        self._graph = graph
        self.nodes: dict[str, BiolinkNode] = {}
        self._by_iri: dict[str, str] = {}
        self._aliases: dict[str, str] = {}
        for iri in self.network.graph.nodes:
            node = self._node(self.network.node(iri))
            if node.id in self.nodes:  # two mgkg nodes exactly matching one CURIE: the later keeps its own id
                log.debug(
                    "%s and %s both map to %s; %s keeps its mgkg id",
                    self.nodes[node.id].mgkg_id,
                    node.mgkg_id,
                    node.id,
                    node.mgkg_id,
                )
                node = replace(node, id=node.mgkg_id)
            self.nodes[node.id] = node
            self._by_iri[iri] = node.id
            for alias in node.equivalents:
                self._aliases.setdefault(alias, node.id)
        self.edges: dict[str, BiolinkEdge] = {}
        self._links: dict[str, tuple[str, str, LinkData]] = {}
        for u, v, key in self.network.graph.edges(keys=True):
            link = self.network.link(u, v, key)
            edge = self._edge(self._graph, u, v, link, 1)
            self.edges[edge.id] = edge
            self._links[edge.id] = (u, v, link)

    def _node(self, ref: NodeRef) -> BiolinkNode:
        exact = tuple(x.curie for x in ref.xrefs if x.match is MatchType.EXACT)
        close = tuple(x.curie for x in ref.xrefs if x.match is not MatchType.EXACT)
        kind = self.mapping.kind(ref.kind)
        return BiolinkNode(
            id=preferred_id(ref),
            mgkg_id=ref.curie,
            name=ref.label,
            kind=ref.kind,
            categories=(kind.category,),
            equivalents=(*exact, ref.curie),
            close=close,
        )

    def node_of(self, iri: str) -> BiolinkNode:
        """The Biolink node of a network node IRI."""
        return self.nodes[self._by_iri[iri]]

    def resolve(self, curie: str) -> BiolinkNode | None:
        """The node a CURIE names (preferred, mgkg's own or an exactMatch one), or None."""
        key = self._aliases.get(curie)
        return self.nodes[key] if key is not None else None

    def iri_of(self, node: BiolinkNode) -> str:
        """The network IRI of a Biolink node."""
        return _expand(node.mgkg_id)

    def edges_from(self, node: BiolinkNode) -> Iterator[BiolinkEdge]:
        """The asserted edges whose subject is ``node``."""
        iri = _expand(node.mgkg_id)
        for _, _, key in self.network.graph.out_edges(iri, keys=True):
            yield self.edges[_link_curie(key)]

    def edges_to(self, node: BiolinkNode) -> Iterator[BiolinkEdge]:
        """The asserted edges whose object is ``node``."""
        iri = _expand(node.mgkg_id)
        for _, _, key in self.network.graph.in_edges(iri, keys=True):
            yield self.edges[_link_curie(key)]

    def directed(self, edge_id: str, subject_direction: int) -> BiolinkEdge:
        """The edge ``edge_id`` stated with its subject moving in ``subject_direction`` (as on a path)."""
        u, v, link = self._links[edge_id]
        if subject_direction == 1:
            return self.edges[edge_id]
        return self._edge(self._graph, u, v, link, subject_direction)

    def _edge(self, graph: Graph, u: str, v: str, link: LinkData, subject_direction: int) -> BiolinkEdge:
        subject, obj = self.node_of(u), self.node_of(v)
        predicate, qualifiers = self.mapping.qualify(subject.kind, obj.kind, link.sign, subject_direction)
        tissues = _context_curies(graph, URIRef(link.ref.iri), MGKG.tissue)
        qualifier_type = self.mapping.context_qualifiers.get(str(MGKG.tissue))
        if qualifier_type is not None and len(tissues) == 1:
            # TRAPI qualifiers take one value each; a link stated for several tissues keeps them as attributes
            qualifiers = (*qualifiers, Qualifier(qualifier_type, tissues[0]))
        curated_inference = bool(link.evidence_types) and all(
            eco == _CURATOR_INFERENCE for eco in link.evidence_types
        )
        publications = tuple(
            c.identifier for c in link.citations if c.identifier.split(":", 1)[0] in PUBLICATION_PREFIXES
        )
        edge_id = link.ref.curie if subject_direction == 1 else f"{link.ref.curie}-down"
        return BiolinkEdge(
            id=edge_id,
            subject=subject.id,
            predicate=predicate,
            object=obj.id,
            sign=link.sign,
            qualifiers=qualifiers,
            knowledge_level="logical_entailment" if curated_inference else "knowledge_assertion",
            agent_type="manual_agent",
            publications=publications,
            citations=tuple(citation_text(c) for c in link.citations if c.identifier not in publications),
            evidence_types=link.evidence_types,
            supporting_text=link.summary,
            severity=link.context.severity,
            conditions=_context_curies(graph, URIRef(link.ref.iri), MGKG.condition),
            mechanisms=tuple(m.curie for m in link.mechanisms),
            label=link.ref.label,
            tissues=tissues,
        )


def _expand(curie: str) -> str:
    iri = from_curie(curie)
    if iri is None:
        raise ValueError(f"unknown prefix in {curie!r}")
    return iri


def _link_curie(key: object) -> str:
    return to_curie(str(key)) or str(key)


def _context_curies(graph: Graph, link: URIRef, prop: URIRef) -> tuple[str, ...]:
    """The CURIEs of a link's context nodes (tissues, conditions): an exactMatch standard one, else mgkg's."""
    found: list[str] = []
    for node in sorted(graph.objects(link, prop), key=str):
        exact = sorted(str(m) for m in graph.objects(node, SKOS.exactMatch))
        iri = exact[0] if exact else str(node)
        found.append(to_curie(iri) or iri)
    return tuple(found)


_VIEWS: Final[weakref.WeakKeyDictionary[KnowledgeGraph, BiolinkView]] = weakref.WeakKeyDictionary()
_VIEWS_LOCK: Final = threading.Lock()


def biolink_view(knowledge: KnowledgeGraph) -> BiolinkView:
    """The Biolink view of a knowledge graph, built on first use and kept as long as the graph lives.

    A request never rebuilds it: the service's graph is built once, so is its view.
    """
    with _VIEWS_LOCK:
        view = _VIEWS.get(knowledge)
        if view is None:
            view = _VIEWS[knowledge] = BiolinkView(network_of(knowledge), knowledge.asserted.graph)
        return view
