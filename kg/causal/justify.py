"""Justification of inferred causal triples: the chains of asserted, cited links they rest on."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from itertools import islice, pairwise, product
from typing import Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.term import Node

from kg.errors import NotEntailedError, UnknownNodeError
from kg.graph.asserted import AssertedGraph
from kg.model.types import Citation, Effect, MatchType, NodeRef, Xref
from kg.model.vocab import DCTERMS, DERIVED_PREDICATES, MGKG, MGKGID, OBO, SKOS, from_curie, to_curie

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
_MATCH_TYPES: Final = {SKOS[f"{m.value}Match"]: m for m in MatchType}


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


def _curie(iri: Node) -> str:
    return to_curie(str(iri)) or str(iri)


def _label(graph: Graph, node: Node) -> str:
    label = graph.value(node, RDFS.label)
    return str(label) if label is not None else _curie(node).split(":", 1)[-1]


def _node_ref(graph: Graph, node: Node) -> NodeRef:
    kinds = sorted(
        _curie(t).removeprefix("mgkg:") for t in graph.objects(node, RDF.type) if str(t).startswith(MGKG)
    )
    xrefs = tuple(
        Xref(curie=_curie(target), match=match)
        for prop, match in _MATCH_TYPES.items()
        for target in sorted(graph.objects(node, prop), key=str)
    )
    kind = kinds[0] if kinds else "Node"
    return NodeRef(iri=str(node), curie=_curie(node), label=_label(graph, node), kind=kind, xrefs=xrefs)


def _resolve_predicate(name: str) -> URIRef:
    aliases: dict[str, URIRef] = {}
    for iri in DERIVED_PREDICATES:
        local = str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        prefix = "mgkg" if str(iri).startswith(MGKG) else "obo"
        for alias in (str(iri), _curie(iri), local, f"{prefix}:{local}"):
            aliases[alias.lower()] = iri
    if name.strip().lower() in aliases:
        return aliases[name.strip().lower()]
    suggestions = difflib.get_close_matches(
        name, sorted({_curie(p) for p in DERIVED_PREDICATES}), n=3, cutoff=0.4
    )
    raise UnknownNodeError(name, suggestions, kind="causal predicate")


def _resolve_node(graph: Graph, name: str) -> URIRef:
    text = name.strip()
    if text.startswith(("http://", "https://")):
        iri: str | None = text
    elif ":" in text:
        iri = from_curie(text)
    else:
        iri = str(MGKGID[text])
    if iri is not None and (URIRef(iri), None, None) in graph:
        return URIRef(iri)
    by_label = {
        str(lbl).lower(): s for p in (RDFS.label, SKOS.altLabel) for s, lbl in graph.subject_objects(p)
    }
    if text.lower() in by_label and isinstance(by_label[text.lower()], URIRef):
        return URIRef(str(by_label[text.lower()]))
    known = sorted({_curie(n) for n in graph.subjects(RDF.type, None) if str(n).startswith(MGKGID)})
    suggestions = difflib.get_close_matches(text if ":" in text else f"mgkgid:{text}", known, n=3, cutoff=0.6)
    raise UnknownNodeError(name, suggestions, kind="node")


def _link(graph: Graph, link: Node, refs: dict[Node, NodeRef]) -> JustifiedLink | None:
    """Read one asserted causal link; None when it lacks a cause or a signed effect."""
    cause = graph.value(link, MGKG.cause)
    signed = [
        (e, s)
        for p, s in ((MGKG.positiveEffect, 1), (MGKG.negativeEffect, -1))
        for e in graph.objects(link, p)
    ]
    if cause is None or len(signed) != 1:
        return None
    effect, sign = signed[0]
    citations = []
    for cite in sorted(graph.objects(link, MGKG.citation), key=str):
        document = graph.value(cite, MGKG.sourceDocument)
        title = graph.value(document, DCTERMS.title) if document is not None else None
        section = graph.value(cite, MGKG.section)
        citations.append(
            Citation(
                identifier=str(graph.value(cite, DCTERMS.identifier) or _curie(cite)),
                section=str(section) if section is not None else None,
                document=str(title) if title is not None else None,
                document_iri=str(document) if document is not None else None,
            )
        )
    mechanism = graph.value(link, MGKG.mechanism)
    for node in (cause, effect):
        if node not in refs:
            refs[node] = _node_ref(graph, node)
    return JustifiedLink(
        iri=str(link),
        curie=_curie(link),
        label=_label(graph, link),
        cause=refs[cause],
        effect=refs[effect],
        sign=1 if sign > 0 else -1,
        polarity="increases" if sign > 0 else "decreases",
        mechanism=_curie(mechanism) if mechanism is not None else None,
        citations=tuple(citations),
    )


def _chains(
    links: list[JustifiedLink], source: str, target: str, transitive: bool
) -> Iterator[list[JustifiedLink]]:
    """Yield chains of links from source to target (IRIs), fewest links first."""
    if not transitive:
        yield from ([link] for link in links if link.cause.iri == source and link.effect.iri == target)
        return
    import networkx as nx  # deferred: only justification needs it

    graph = nx.DiGraph()
    for link in links:
        if not graph.has_edge(link.cause.iri, link.effect.iri):
            graph.add_edge(link.cause.iri, link.effect.iri, links=[])
        graph.edges[link.cause.iri, link.effect.iri]["links"].append(link)
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
        hops = [graph.edges[a, b]["links"] for a, b in pairwise(node_path)]
        yield from (list(chain) for chain in product(*hops))


def justify(
    source: SupportsGraphs | tuple[Graph, Graph], subject: str, predicate: str, obj: str, max_chains: int = 5
) -> Justification:
    """Justify an entailed causal triple by the asserted causal links it rests on.

    ``source`` is a KnowledgeGraph (or anything with ``asserted`` and ``inferred``) or a pair
    (asserted graph, inferred graph). Names may be IRIs, CURIEs, local ids or labels. Raises
    UnknownNodeError for an unknown name and NotEntailedError for a triple the graphs do not entail.
    """
    if isinstance(source, tuple):
        asserted, inferred = source
    else:
        asserted, inferred = source.asserted.graph, source.inferred
    pred = _resolve_predicate(predicate)
    subj, target = _resolve_node(asserted, subject), _resolve_node(asserted, obj)
    stated = (subj, pred, target) in asserted
    if not stated and (subj, pred, target) not in inferred:
        raise NotEntailedError(_curie(subj), _curie(pred), _curie(target))
    transitive, sign = _PREDICATE_RULES[pred]
    refs: dict[Node, NodeRef] = {}
    links = [
        j
        for link in sorted(set(asserted.subjects(MGKG.cause, None)), key=str)
        if (j := _link(asserted, link, refs))
    ]
    chains: list[Chain] = []
    for chain in _chains(links, str(subj), str(target), transitive):
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
        subject=_node_ref(asserted, subj),
        predicate=_curie(pred),
        predicate_iri=str(pred),
        object=_node_ref(asserted, target),
        asserted=stated,
        chains=tuple(chains),
    )
