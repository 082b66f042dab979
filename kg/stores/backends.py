"""Store backends: the embedded memory store, an on-disk Oxigraph store, or a remote SPARQL 1.1 store.

One setting (``--store`` / ``MGKG_STORE``) chooses: ``memory`` (rdflib load + owlrl + cache, SPARQL
workers each loading a dump: the default), ``oxigraph:PATH`` (written once by ``mgkg load``, reopened
with no parsing or reasoning, SPARQL workers open it read-only) or ``sparql:URL`` (a remote endpoint;
mgkg keeps no copy). For the last two the causal network behind /why is built from a CONSTRUCT of the
causal-link triples of every graph but the inferred one (mgkg's own and those `mgkg load` added) into
a small rdflib graph, never from the whole store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import pyoxigraph as ox
from rdflib import Graph

from kg.graph.asserted import AssertedGraph
from kg.graph.knowledge import KnowledgeGraph
from kg.graph.reasoning import CacheInfo
from kg.model.vocab import ASSERTED_GRAPH, DERIVED_PREDICATES, INFERRED_GRAPH, MGKG

if TYPE_CHECKING:
    from kg.sparql import QueryEngine

StoreKind = Literal["memory", "oxigraph", "sparql"]

EXTERNAL_GRAPH: Final = "https://w3id.org/mgkg/graph/external"
"""The named graph `mgkg load` puts external RDF in unless told otherwise."""

MGKG_GRAPHS: Final = (str(ASSERTED_GRAPH), str(INFERRED_GRAPH))

_NODE_PROPERTIES: Final = (
    "rdf:type",
    "rdfs:label",
    "skos:prefLabel",
    "skos:altLabel",
    "skos:definition",
    "skos:exactMatch",
    "skos:closeMatch",
    "skos:broadMatch",
    "skos:narrowMatch",
    "skos:relatedMatch",
    "mgkg:about",
    "mgkg:negates",
    "mgkg:excludes",
    "obo:RO_0002327",
)
"""The properties of a node that the causal view keeps from loaded graphs: names, kinds, identifiers."""


def causal_view_query(graphs: Iterable[str] = MGKG_GRAPHS) -> str:
    """The CONSTRUCT that pulls what /why, /entities, /links, /citations and /justify read from a store.

    From every graph of ``graphs`` but the inferred one (their merge is the query's default graph):
    every ``mgkg:CausalLink`` with all its statements, its citations, their documents, its mechanisms
    and contexts, every ``mgkg:Recommendation`` with its citations and the mechanisms it names, and the
    class tree; for the nodes the links join (and the entities their states are
    about or that enable them), their labels, synonyms, definitions, kinds, standard identifiers and
    ``mgkg:about``, looked up by property so that a hub's other edges are never scanned (a loaded
    Hetionet-sized graph keeps its millions of plain edges in the store, for SPARQL). Nodes of the
    asserted mgkg graph keep every statement, as written. So causal links a user loads with
    ``mgkg load`` beside mgkg's own are searched by /why too; inferred triples never are.
    """
    sources = [g for g in dict.fromkeys(graphs) if g != str(INFERRED_GRAPH)]
    dataset = "".join(f"FROM <{g}>\n" for g in sources) + f"FROM NAMED <{ASSERTED_GRAPH}>"
    kept = " ".join(_NODE_PROPERTIES)
    return f"""
PREFIX mgkg: <{MGKG}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX obo: <http://purl.obolibrary.org/obo/>
CONSTRUCT {{ ?s ?p ?o }}
{dataset}
WHERE {{
  {{ ?s a mgkg:CausalLink ; ?p ?o }}
  UNION {{
    {{ SELECT DISTINCT ?s WHERE {{
      ?link a mgkg:CausalLink .
      {{ ?link mgkg:citation ?s }} UNION {{ ?link mgkg:citation/mgkg:sourceDocument ?s }}
      UNION {{ ?link mgkg:mechanism|mgkg:tissue|mgkg:condition ?s }}
    }} }}
    ?s ?p ?o
  }}
  UNION {{ ?s a mgkg:Recommendation ; ?p ?o }}
  UNION {{
    {{ SELECT DISTINCT ?s WHERE {{
      ?rec a mgkg:Recommendation .
      {{ ?rec mgkg:citation ?s }} UNION {{ ?rec mgkg:citation/mgkg:sourceDocument ?s }}
      UNION {{ ?rec mgkg:appliesTo|mgkg:forProblem|mgkg:rationale ?s . ?s a mgkg:Mechanism }}
    }} }}
    ?s ?p ?o
  }}
  UNION {{ ?s rdfs:subClassOf ?o . BIND(rdfs:subClassOf AS ?p) }}
  UNION {{ GRAPH <{ASSERTED_GRAPH}> {{ ?s a ?kind . ?kind rdfs:subClassOf* mgkg:Node . ?s ?p ?o }} }}
  UNION {{
    {{ SELECT DISTINCT ?s WHERE {{
      ?link a mgkg:CausalLink .
      {{ ?link mgkg:cause|mgkg:positiveEffect|mgkg:negativeEffect ?s }}
      UNION {{ ?link mgkg:cause|mgkg:positiveEffect|mgkg:negativeEffect ?n . ?n mgkg:about ?s }}
      UNION {{ ?link mgkg:cause|mgkg:positiveEffect|mgkg:negativeEffect ?n . ?s obo:RO_0002327 ?n }}
    }} }}
    VALUES ?p {{ {kept} }}
    ?s ?p ?o
  }}
}}"""


CAUSAL_VIEW_QUERY: Final = causal_view_query()
"""The causal view of a store holding only the mgkg graphs (see :func:`causal_view_query`)."""

DERIVED_VIEW_QUERY: Final = (
    "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <"
    + str(INFERRED_GRAPH)
    + "> { VALUES ?p { "
    + " ".join(f"<{p}>" for p in DERIVED_PREDICATES)
    + " } ?s ?p ?o } }"
)
"""The inferred causal triples /justify checks entailment against."""

COUNT_QUERY: Final = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


@dataclass(frozen=True)
class StoreSpec:
    """Which store: its kind and location (a folder for oxigraph, a query endpoint URL for sparql).

    >>> StoreSpec.parse("oxigraph:/var/lib/mgkg")
    StoreSpec(kind='oxigraph', location='/var/lib/mgkg')
    >>> StoreSpec.parse("sparql:http://127.0.0.1:7878/query").location
    'http://127.0.0.1:7878/query'
    >>> StoreSpec.parse("memory").kind
    'memory'
    """

    kind: StoreKind
    location: str = ""

    @classmethod
    def parse(cls, text: str) -> StoreSpec:
        """Read ``memory``, ``oxigraph:PATH`` or ``sparql:URL``; ValueError says what is accepted."""
        kind, _, location = text.strip().partition(":")
        if kind == "memory" and not location:
            return cls("memory")
        if kind == "oxigraph" and location:
            return cls("oxigraph", location)
        if kind == "sparql" and location.startswith(("http://", "https://")):
            return cls("sparql", location)
        raise ValueError(
            f"Unknown store {text!r}: use memory, oxigraph:PATH (a folder) or sparql:URL (a SPARQL 1.1 "
            "query endpoint, e.g. sparql:http://127.0.0.1:7878/query)."
        )

    def __str__(self) -> str:
        return self.kind if self.kind == "memory" else f"{self.kind}:{self.location}"


@dataclass(frozen=True)
class StoreInfo:
    """What a store holds, counted once at start-up: triples per named graph."""

    spec: StoreSpec
    graph_triples: dict[str, int]

    @property
    def asserted_triples(self) -> int:
        """Triples in the asserted mgkg graph."""
        return self.graph_triples.get(str(ASSERTED_GRAPH), 0)

    @property
    def inferred_triples(self) -> int:
        """Triples in the inferred mgkg graph."""
        return self.graph_triples.get(str(INFERRED_GRAPH), 0)

    @property
    def graphs(self) -> frozenset[str]:
        """The named graphs a query may name: the store's own, and always the two mgkg graphs."""
        return frozenset(self.graph_triples) | frozenset(MGKG_GRAPHS)


def open_oxigraph(path: str | Path, *, read_only: bool) -> ox.Store:
    """Open an on-disk Oxigraph store; a missing one (read-only) says how to create it."""
    folder = Path(path)
    if read_only and not folder.is_dir():
        raise FileNotFoundError(
            f"No Oxigraph store at {folder}. Create it with: mgkg load --store oxigraph:{folder}"
        )
    return ox.Store.read_only(str(folder)) if read_only else ox.Store(str(folder))


def _to_rdflib(data: bytes) -> Graph:
    graph = Graph()
    if data:
        graph.parse(data=data, format="nt")
    return graph


def knowledge_graph_from_triples(
    spec: StoreSpec, view: bytes, derived: bytes, seconds: float, inferred_count: int
) -> KnowledgeGraph:
    """A KnowledgeGraph over the causal view (N-Triples) pulled from a store, with no reasoning."""
    asserted = AssertedGraph(graph=_to_rdflib(view), files=(), origins={})
    inferred = _to_rdflib(derived)
    cache = CacheInfo(
        hit=True, key=f"store:{spec}", path=Path(spec.location), seconds=seconds, triples=inferred_count
    )
    return KnowledgeGraph(asserted, inferred, cache)


def _construct_nt(store: ox.Store, query: str) -> bytes:
    triples = store.query(query)
    assert isinstance(triples, ox.QueryTriples)
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def read_oxigraph(spec: StoreSpec) -> tuple[KnowledgeGraph, StoreInfo]:
    """Open an on-disk store read-only, count its graphs and pull the causal view: no parse, no reasoning."""
    started = time.perf_counter()
    store = open_oxigraph(spec.location, read_only=True)
    counts: dict[str, int] = {}
    for solution in store.query(COUNT_QUERY):  # type: ignore[union-attr]
        counts[str(solution["g"].value)] = int(solution["n"].value)
    if str(ASSERTED_GRAPH) not in counts:
        raise FileNotFoundError(
            f"The Oxigraph store at {spec.location} has no mgkg graphs. Write them with: mgkg load "
            f"--store {spec}"
        )
    view = _construct_nt(store, causal_view_query(counts))
    derived = _construct_nt(store, DERIVED_VIEW_QUERY)
    del store  # the workers open their own read-only handles
    info = StoreInfo(spec, counts)
    graph = knowledge_graph_from_triples(
        spec, view, derived, time.perf_counter() - started, info.inferred_triples
    )
    return graph, info


def write_mgkg_graphs(store: ox.Store, graph: KnowledgeGraph) -> int:
    """Replace the asserted and inferred mgkg graphs of an Oxigraph store; return the triples written."""
    written = 0
    for iri, triples in ((ASSERTED_GRAPH, graph.asserted.graph), (INFERRED_GRAPH, graph.inferred)):
        target = ox.NamedNode(str(iri))
        if store.contains_named_graph(target):
            store.remove_graph(target)
        data = triples.serialize(format="nt", encoding="utf-8")
        store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=target)
        written += len(triples)
    return written


async def open_store(
    spec: StoreSpec,
    *,
    workers: int = 2,
    timeout_s: float = 10.0,
    max_rows: int = 10_000,
    cache_bytes: int = 32 * 2**20,
    spin_s: float = 1e-3,
    memory_mb: int = 1024,
    per_client: int = 0,
    preempt_after_s: float = 2.0,
    cache_dir: Path | None = None,
    reasoner: str | None = None,
    sandbox: bool = True,
) -> tuple[KnowledgeGraph, StoreInfo, QueryEngine]:
    """Open a store for reading: the knowledge graph /why reads, what the store holds, a started engine.

    memory: parse and reason (or read the inference cache), SPARQL workers each load a dump;
    oxigraph:PATH: no parsing or reasoning, the causal view comes from the store and the workers open
    it read-only; sparql:URL: the causal view comes from the remote store and queries go there.
    ``reasoner`` ("owlrl" or "fast", default $MGKG_REASONER, else owlrl) is the memory store's inference
    engine; the other stores hold what `mgkg load` inferred. ``memory_mb`` is the memory one query may
    take in a local worker (the remote store sets its own limits); ``sandbox`` denies local workers
    network sockets (kg.sparql.sandbox; off only for diagnosis). ``per_client`` bounds the queries one
    client may have running or waiting (0: no bound) and ``preempt_after_s`` is how long a query runs
    before it may be stopped for other clients' quick queries (kg/sparql/scheduler.py). Blocking work
    runs in threads.
    """
    from kg.graph.knowledge import load_knowledge_graph
    from kg.sparql import SparqlEngine
    from kg.stores.remote import RemoteEngine, read_remote

    if spec.kind == "memory":
        graph = await asyncio.to_thread(load_knowledge_graph, None, cache_dir, reasoner)
        engine = await SparqlEngine.from_dataset(
            graph.dataset,
            workers=workers,
            timeout_s=timeout_s,
            max_rows=max_rows,
            cache_bytes=cache_bytes,
            spin_s=spin_s,
            memory_mb=memory_mb,
            sandbox=sandbox,
            per_client=per_client,
            preempt_after_s=preempt_after_s,
        )
        counts = {str(ASSERTED_GRAPH): len(graph.asserted.graph), str(INFERRED_GRAPH): len(graph.inferred)}
        return graph, StoreInfo(spec, counts), engine
    if spec.kind == "oxigraph":
        graph, info = await asyncio.to_thread(read_oxigraph, spec)
        engine = SparqlEngine(
            Path(spec.location),
            workers=workers,
            timeout_s=timeout_s,
            max_rows=max_rows,
            cache_bytes=cache_bytes,
            kind="oxigraph",
            named_graphs=info.graphs,
            spin_s=spin_s,
            memory_mb=memory_mb,
            sandbox=sandbox,
            per_client=per_client,
            preempt_after_s=preempt_after_s,
        )
        await engine.start()
        return graph, info, engine
    graph, info = await asyncio.to_thread(read_remote, spec, max(timeout_s * 6, 60.0))
    logging.getLogger("mgkg.sparql").warning(
        "SPARQL queries run on the remote store %s, outside any egress sandbox of mgkg's: the guard is the "
        "only thing that keeps them from making network requests (SERVICE) there.",
        spec.location,
    )
    remote = RemoteEngine(
        spec.location,
        named_graphs=info.graphs,
        workers=max(workers, 8),
        timeout_s=timeout_s,
        max_rows=max_rows,
        cache_bytes=cache_bytes,
        per_client=per_client,
    )
    return graph, info, remote
