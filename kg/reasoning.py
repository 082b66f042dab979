"""OWL 2 RL materialization into the inferred graph, cached on disk, and justification of inferred triples."""

from __future__ import annotations

import difflib
import hashlib
import importlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from importlib.metadata import version as distribution_version
from itertools import islice, pairwise, product
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, URIRef
from rdflib import Literal as RDFLiteral
from rdflib.exceptions import ParserError
from rdflib.term import Node

from kg.errors import NotEntailedError, UnknownNodeError
from kg.models import Citation, Effect, MatchType, NodeRef, Xref
from kg.store import AssertedGraph
from kg.vocab import DCTERMS, DERIVED_PREDICATES, MGKG, MGKGID, OBO, SKOS, VERSION, from_curie, to_curie

logger = logging.getLogger(__name__)

CACHE_FORMAT: Final = "1"
"""Bumped whenever what materialize() keeps or the cache file layout changes, so old files go stale."""
_CACHE_GLOB: Final = "inferred-*.nt"
_CACHE_KEEP: Final = 4
_HEADER: Final = "# mgkg inferred graph"

# ------------------------------------------------------------------------------------------------
# Materialization
# ------------------------------------------------------------------------------------------------

_REFLEXIVE_NOISE: Final = frozenset(
    {OWL.sameAs, OWL.equivalentClass, OWL.equivalentProperty, RDFS.subClassOf, RDFS.subPropertyOf}
)
_TRIVIAL_CLASSES: Final = frozenset({OWL.Thing, OWL.Nothing, RDFS.Resource})
_BUILTIN_NAMESPACES: Final = (str(RDF), str(RDFS), str(OWL), str(XSD))


def is_noise(triple: tuple[Node, Node, Node]) -> bool:
    """Say whether an inferred triple is axiomatic noise that materialize() drops.

    Dropped, because no query is helped by them and some cannot be stored:
    triples whose subject is a literal (generalized RDF: owlrl's ``"x" owl:sameAs "x"`` and
    ``"0.5"^^xsd:decimal a xsd:decimal``, not valid RDF, cannot be written as N-Triples);
    reflexive sameAs / equivalentClass / equivalentProperty / subClassOf / subPropertyOf (true of
    everything); anything naming owl:Thing, owl:Nothing or rdfs:Resource (``x a owl:Thing``,
    ``C rdfs:subClassOf owl:Thing``, ``owl:Nothing rdfs:subClassOf C``, ``p rdfs:domain owl:Thing``);
    statements about the built-in RDF/RDFS/OWL/XSD vocabulary (``rdfs:label a owl:AnnotationProperty``,
    ``xsd:short a rdfs:Datatype``); and triples with a blank node, which only restate OWL restriction
    and list structure (``link a [owl:hasValue mgkg:increase]``, already said by ``mgkg:polarity``)
    and whose node identity would not survive a round trip through the cache file.

    >>> from rdflib import Literal
    >>> is_noise((MGKGID.a, OWL.sameAs, MGKGID.a)), is_noise((MGKGID.a, RDF.type, OWL.Thing))
    (True, True)
    >>> is_noise((Literal("x"), OWL.sameAs, Literal("x"))), is_noise((XSD.short, RDF.type, RDFS.Datatype))
    (True, True)
    >>> is_noise((MGKGID.a, MGKG.causallyUpstreamOf, MGKGID.b))
    False
    >>> is_noise((MGKG.Receptor, RDFS.subClassOf, MGKG.Node))
    False
    """
    subject, predicate, obj = triple
    if isinstance(subject, (RDFLiteral, BNode)) or isinstance(obj, BNode):
        return True
    if subject == obj and predicate in _REFLEXIVE_NOISE:
        return True
    if subject in _TRIVIAL_CLASSES or obj in _TRIVIAL_CLASSES:
        return True
    return isinstance(subject, URIRef) and str(subject).startswith(_BUILTIN_NAMESPACES)


def materialize(asserted: Graph) -> Graph:
    """Run the OWL 2 RL closure (owlrl) on a copy of ``asserted``; return only the useful new triples.

    The input is never mutated. Kept: every derived causes / increases / decreases /
    causallyUpstreamOf triple and its RO super-relations, mgkg:polarity, mgkg:effect, mgkg:causeOf,
    mgkg:hasState, mgkg:context, class memberships (PositiveCausalLink, superclasses of node kinds) and
    the closed class and property hierarchy. Dropped: what :func:`is_noise` describes.
    """
    import owlrl  # deferred: importing the reasoner is not free and a cache hit never needs it

    closure = Graph()
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    inferred = Graph()
    for prefix, namespace in asserted.namespaces():
        inferred.bind(prefix, namespace, override=False)
    dropped = 0
    for triple in closure:
        if triple in asserted:
            continue
        if is_noise(triple):
            dropped += 1
        else:
            inferred.add(triple)
    logger.debug("materialized %d inferred triples, dropped %d axiomatic ones", len(inferred), dropped)
    return inferred


# ------------------------------------------------------------------------------------------------
# The disk cache
# ------------------------------------------------------------------------------------------------


class CacheInfo(BaseModel):
    """How the inferred graph was obtained: from the cache (hit) or by reasoning (miss)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hit: bool = Field(description="True when the inferred graph was read from the cache, without reasoning.")
    key: str = Field(description="SHA-256 of the input files (names and bytes), mgkg's and owlrl's versions.")
    path: Path = Field(description="The cache file for this key.")
    seconds: float = Field(description="Time spent reading the cache or reasoning and writing it.")
    triples: int = Field(description="The number of inferred triples.")
    written: bool = Field(default=False, description="True when a miss stored its result in the cache.")


class _CorruptCacheError(Exception):
    """A cache file exists but cannot be trusted."""


def default_cache_dir() -> Path:
    """The cache folder: $MGKG_CACHE_DIR, else the user cache dir (platformdirs if installed, else XDG)."""
    configured = os.environ.get("MGKG_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    try:
        platformdirs: Any = importlib.import_module("platformdirs")
    except ModuleNotFoundError:
        xdg = os.environ.get("XDG_CACHE_HOME")
        return (Path(xdg) if xdg else Path.home() / ".cache") / "mgkg"
    return Path(platformdirs.user_cache_dir("mgkg"))


def cache_key(files: Sequence[Path]) -> str:
    """Hash every input file's name and bytes, in order, with the cache format and the tool versions."""
    digest = hashlib.sha256()
    for part in (f"format {CACHE_FORMAT}", f"mgkg {VERSION}", f"owlrl {distribution_version('owlrl')}"):
        digest.update(part.encode() + b"\0")
    for path in files:
        data = Path(path).read_bytes()
        digest.update(f"{Path(path).name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _read_cache(path: Path, key: str) -> Graph:
    """Read a cache file, checking its header (key, triple count, SHA-256 of the body)."""
    header, _, body = path.read_bytes().partition(b"\n")
    fields = dict(part.split("=", 1) for part in header.decode("utf-8", "replace").split() if "=" in part)
    if not header.startswith(_HEADER.encode()) or fields.get("key") != key:
        raise _CorruptCacheError("bad header")
    if fields.get("sha256") != hashlib.sha256(body).hexdigest():
        raise _CorruptCacheError("checksum mismatch (truncated or edited)")
    graph = Graph()
    try:
        graph.parse(data=body.decode("utf-8"), format="nt")
    except (ParserError, ValueError) as error:
        raise _CorruptCacheError(f"unparsable: {error}") from error
    if str(len(graph)) != fields.get("triples"):
        raise _CorruptCacheError("triple count mismatch")
    return graph


def _write_cache(path: Path, key: str, graph: Graph) -> None:
    """Write the graph atomically (temp file in the same folder, then os.replace) and prune old files."""
    lines = sorted(line for line in graph.serialize(format="nt", encoding="utf-8").splitlines() if line)
    body = b"\n".join(lines) + b"\n"
    header = f"{_HEADER} key={key} triples={len(graph)} sha256={hashlib.sha256(body).hexdigest()}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".inferred-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(header.encode() + body)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    stale = sorted(path.parent.glob(_CACHE_GLOB), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in stale[_CACHE_KEEP:]:
        old.unlink(missing_ok=True)


def load_or_materialize(asserted: AssertedGraph, cache_dir: Path | None = None) -> tuple[Graph, CacheInfo]:
    """Return the inferred graph, from the cache when the inputs are unchanged, else by reasoning.

    A corrupt cache file is discarded with a logged warning and rebuilt. When the cache folder cannot
    be written the graph is still returned (with a warning), so a read-only install keeps working.
    """
    started = time.perf_counter()
    key = cache_key(asserted.files)
    path = (cache_dir if cache_dir is not None else default_cache_dir()) / f"inferred-{key}.nt"
    if path.is_file():
        try:
            graph = _read_cache(path, key)
        except _CorruptCacheError as error:
            logger.warning("Discarding corrupt cache file %s (%s); reasoning again.", path, error)
            path.unlink(missing_ok=True)
        else:
            for prefix, namespace in asserted.graph.namespaces():
                graph.bind(prefix, namespace, override=False)
            seconds = time.perf_counter() - started
            return graph, CacheInfo(hit=True, key=key, path=path, seconds=seconds, triples=len(graph))
    graph = materialize(asserted.graph)
    written = True
    try:
        _write_cache(path, key, graph)
    except OSError as error:
        written = False
        logger.warning(
            "Could not write the inference cache %s (%s); the next start will reason again.", path, error
        )
    seconds = time.perf_counter() - started
    return graph, CacheInfo(
        hit=False, key=key, path=path, seconds=seconds, triples=len(graph), written=written
    )


# ------------------------------------------------------------------------------------------------
# Justification
# ------------------------------------------------------------------------------------------------

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
