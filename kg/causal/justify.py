"""Justification of inferred causal triples: the chains of asserted, cited links they rest on."""

from __future__ import annotations

import difflib
import logging
import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import islice, pairwise, product
from typing import Final, Literal, Protocol

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field
from rdflib import Graph, URIRef

from kg.causal.links import LINK, LinkData
from kg.causal.network import CausalNetwork, network_of
from kg.errors import NotEntailedError, UnknownNodeError
from kg.graph.asserted import AssertedGraph
from kg.model.types import Citation, Effect, NodeRef
from kg.model.vocab import DERIVED_PREDICATES, MGKG, OBO, curie_or_iri

logger = logging.getLogger(__name__)

RO_UPSTREAM: Final = OBO["RO_0002411"]
RO_POSITIVE: Final = OBO["RO_0002304"]
RO_NEGATIVE: Final = OBO["RO_0002305"]
_PREDICATE_RULES: Final[dict[URIRef, tuple[bool, int | None]]] = {
    MGKG.causes: (False, None),
    MGKG.increases: (False, 1),
    MGKG.decreases: (False, -1),
    MGKG.causallyUpstreamOf: (True, None),
    RO_UPSTREAM: (True, None),
    RO_POSITIVE: (False, 1),
    RO_NEGATIVE: (False, -1),
}
"""Per predicate: may the support be a chain of links (transitive), and the sign it must have.

RO_0002304 / RO_0002305 are super-properties of increases / decreases and not transitive in the
ontology, so they are entailed by one link of that sign (a chain of one, whose net sign matches)."""


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JustifiedLink(_Value):
    """One asserted causal link a justification rests on, with its sign and citations."""

    iri: str
    curie: str
    label: str
    cause: NodeRef
    effect: NodeRef
    sign: Literal[1, -1] = Field(description="+1 for mgkg:positiveEffect, -1 for mgkg:negativeEffect.")
    polarity: Effect
    mechanism: str | None = Field(default=None, description="CURIE of the link's mechanism, if any.")
    citations: tuple[Citation, ...]


class Chain(_Value):
    """Consecutive asserted links from the triple's subject to its object (effect of one = cause of next)."""

    links: tuple[JustifiedLink, ...]
    net_sign: Literal[1, -1] = Field(description="The product of the links' signs.")
    net_polarity: Effect


class Justification(_Value):
    """Why an entailed causal triple holds: the chains of asserted links it was derived from."""

    subject: NodeRef
    predicate: str = Field(description="The predicate as a CURIE, e.g. 'mgkg:causallyUpstreamOf'.")
    predicate_iri: str
    object: NodeRef
    asserted: bool = Field(description="True when the triple itself is stated in the asserted graph.")
    chains: tuple[Chain, ...] = Field(description="Shortest first; at most the requested number.")


class SupportsGraphs(Protocol):
    """Anything holding the asserted and inferred graphs, such as a KnowledgeGraph."""

    @property
    def asserted(self) -> AssertedGraph: ...
    @property
    def inferred(self) -> Graph: ...


@cache
def _predicate_aliases() -> Mapping[str, URIRef]:
    """Every way to name a derived causal predicate (IRI, CURIE, local name), lower-cased."""
    aliases: dict[str, URIRef] = {}
    for iri in DERIVED_PREDICATES:
        local = str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        prefix = "mgkg" if str(iri).startswith(MGKG) else "obo"
        for alias in (str(iri), curie_or_iri(str(iri)), local, f"{prefix}:{local}"):
            aliases[alias.lower()] = iri
    return aliases


def _resolve_predicate(name: str) -> URIRef:
    found = _predicate_aliases().get(name.strip().lower())
    if found is not None:
        return found
    suggestions = difflib.get_close_matches(
        name, sorted({curie_or_iri(str(p)) for p in DERIVED_PREDICATES}), n=3, cutoff=0.4
    )
    raise UnknownNodeError(name, suggestions, kind="causal predicate")


@dataclass(frozen=True)
class _LinkIndex:
    """The network's links as justifications name them, by (cause, effect), and the graph of those pairs."""

    between: Mapping[tuple[str, str], tuple[JustifiedLink, ...]]
    pairs: nx.DiGraph


_indexes: weakref.WeakKeyDictionary[CausalNetwork, _LinkIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def _justified(network: CausalNetwork, cause: str, effect: str, data: LinkData) -> JustifiedLink:
    return JustifiedLink(
        iri=data.ref.iri,
        curie=data.ref.curie,
        label=data.ref.label,
        cause=network.node(cause),
        effect=network.node(effect),
        sign=1 if data.sign > 0 else -1,
        polarity="increases" if data.sign > 0 else "decreases",
        mechanism=data.mechanisms[0].curie if data.mechanisms else None,
        citations=data.citations,
    )


def _link_index(network: CausalNetwork) -> _LinkIndex:
    """The justification index of a network, built on first use and kept (thread-safe)."""
    with _indexes_lock:
        index = _indexes.get(network)
        if index is None:
            between: dict[tuple[str, str], list[JustifiedLink]] = {}
            for cause, effect, _, data in sorted(
                network.graph.edges(keys=True, data=LINK), key=lambda e: e[2]
            ):
                between.setdefault((cause, effect), []).append(_justified(network, cause, effect, data))
            pairs = nx.DiGraph()
            pairs.add_edges_from(between)
            index = _LinkIndex({k: tuple(v) for k, v in between.items()}, pairs)
            _indexes[network] = index
        return index


def _chains(index: _LinkIndex, source: str, target: str, transitive: bool) -> Iterator[list[JustifiedLink]]:
    """Yield chains of links from source to target (IRIs), fewest links first."""
    if not transitive:
        yield from ([link] for link in index.between.get((source, target), ()))
        return
    graph = index.pairs
    if source not in graph or target not in graph:
        return
    # a chain from a node back to itself starts with one of its out-links (Yen's search needs two ends)
    starts = [source] if source != target else list(graph.successors(source))
    node_paths: list[list[str]] = []
    for start in starts:
        if nx.has_path(graph, start, target):
            found = islice(nx.shortest_simple_paths(graph, start, target), 8)
            node_paths.extend(path if source != target else [source, *path] for path in found)
    for node_path in sorted(node_paths, key=len):
        hops = [index.between[a, b] for a, b in pairwise(node_path)]
        yield from (list(chain) for chain in product(*hops))


def justify(
    source: SupportsGraphs | tuple[Graph, Graph],
    subject: str,
    predicate: str,
    obj: str,
    max_chains: int = 5,
    *,
    network: CausalNetwork | None = None,
) -> Justification:
    """Justify an entailed causal triple by the asserted causal links it rests on.

    ``source`` is a KnowledgeGraph (or anything with ``asserted`` and ``inferred``) or a pair
    (asserted graph, inferred graph); the chains are read from ``network``, by default the
    ``network_of`` the asserted graph, whose link index is built once. Names resolve as /why's do
    (``CausalNetwork.resolve``). Raises UnknownNodeError for an unknown name and NotEntailedError for
    a triple the graphs do not entail.
    """
    if isinstance(source, tuple):
        asserted, inferred = source
    else:
        asserted, inferred = source.asserted.graph, source.inferred
    network = network if network is not None else network_of(asserted)
    pred = _resolve_predicate(predicate)
    subj, target = network.resolve(subject, "node"), network.resolve(obj, "node")
    triple = (URIRef(subj), pred, URIRef(target))
    stated = triple in asserted
    if not stated and triple not in inferred:
        logger.debug("%s %s %s is neither asserted nor inferred", subj, pred, target)
        raise NotEntailedError(*(curie_or_iri(str(term)) for term in (triple[0], pred, triple[2])))
    transitive, sign = _PREDICATE_RULES[pred]
    chains: list[Chain] = []
    for chain in _chains(_link_index(network), subj, target, transitive):
        net = 1
        for link in chain:
            net *= link.sign
        if sign is None or net == sign:
            net_sign: Literal[1, -1] = 1 if net > 0 else -1
            polarity: Effect = "increases" if net > 0 else "decreases"
            chains.append(Chain(links=tuple(chain), net_sign=net_sign, net_polarity=polarity))
        if len(chains) >= max_chains:
            break
    return Justification(
        subject=network.node(subj),
        predicate=curie_or_iri(str(pred)),
        predicate_iri=str(pred),
        object=network.node(target),
        asserted=stated,
        chains=tuple(chains),
    )
