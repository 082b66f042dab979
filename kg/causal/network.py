"""The causal network (a networkx MultiDiGraph of the asserted causal links), built once per graph.

What it holds is read from the RDF graph by kg.causal.links; its link and node types (``LinkData``,
``NodeInfo``, ``LINK``, ``read_citation``) are importable from here too, where its users find them.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Final, Protocol

import networkx as nx
from rdflib import Graph

from kg.causal.consistency import Checker, ConsistencyRules
from kg.causal.links import LINK, LinkData, NodeInfo, read_citation, read_links, read_related, read_rules
from kg.causal.search import SignedIndex, build_index, context_filter
from kg.graph.asserted import AssertedGraph
from kg.model.names import NameIndex
from kg.model.types import NodeRef, Severity
from kg.model.vocab import MGKG, MGKGID

__all__ = [
    "DEFAULT_SOURCE",
    "LINK",
    "CausalNetwork",
    "HasAsserted",
    "LinkData",
    "NodeInfo",
    "build_network",
    "network_of",
    "read_citation",
]

DEFAULT_SOURCE: Final = str(MGKGID.hypomagnesemia)
"""The IRI of the node every why-question starts from unless told otherwise."""

logger = logging.getLogger(__name__)


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
    """Read the asserted causal links of an RDF graph into a :class:`CausalNetwork` (kg.causal.links).

    Only ``mgkg:CausalLink`` nodes make edges, so the network never holds an inferred shortcut even
    if ``graph`` contains inferred triples. Citations, mechanisms and contexts are resolved here once.
    """
    rdf = graph.graph if isinstance(graph, AssertedGraph) else graph
    table = read_links(rdf)
    rules = read_rules(rdf, table.nodes, table.graph, table.facts)
    names = NameIndex.build(rdf, {iri: info.ref.label for iri, info in table.nodes.items()})
    return CausalNetwork(table.graph, table.nodes, names, read_related(rdf, table.nodes, table.graph), rules)


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
