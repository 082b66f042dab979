"""The causal view: the CONSTRUCT queries that pull what /why reads from a store, and the graph on it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from rdflib import Graph

from kg.graph.asserted import AssertedGraph
from kg.graph.reasoning import CacheInfo
from kg.model.vocab import ASSERTED_GRAPH, DERIVED_PREDICATES, INFERRED_GRAPH, MGKG
from kg.stores.base import MGKG_GRAPHS, StoreInfo, StoreSpec

if TYPE_CHECKING:
    from kg.graph.knowledge import KnowledgeGraph

logger = logging.getLogger(__name__)

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
"""Triples per named graph: ?g and ?n for each graph the store holds."""


def read_view(
    spec: StoreSpec,
    count: Callable[[str], Iterable[tuple[str, int]]],
    construct: Callable[[str], bytes],
    name: str,
    load_hint: str = "",
) -> tuple[KnowledgeGraph, StoreInfo]:
    """Count a store's graphs and pull the causal view: how every store that holds the mgkg graphs is read.

    ``count`` runs :data:`COUNT_QUERY` and gives (graph, triples) pairs; ``construct`` runs a CONSTRUCT and
    gives N-Triples; the store kind (kg.stores.oxigraph, kg.stores.remote) says how. A store without the
    asserted mgkg graph is a FileNotFoundError naming it (``name``: "Oxigraph") and saying how to write it
    (``load_hint``: what `mgkg load` needs beside ``--store``). Nothing is parsed but the view, nothing is
    reasoned: the store holds the inferred graph.
    """
    started = time.perf_counter()
    counts = dict(count(COUNT_QUERY))
    info = StoreInfo(spec, counts)
    logger.debug("store %s: triples per named graph %s", spec, counts)
    if info.asserted_triples == 0:
        raise FileNotFoundError(
            f"The {name} store at {spec.location} has no mgkg graphs. Write them with: mgkg load "
            f"--store {spec}{load_hint}"
        )
    view = construct(causal_view_query(counts))
    derived = construct(DERIVED_VIEW_QUERY)
    graph = knowledge_graph_from_triples(
        spec, view, derived, time.perf_counter() - started, info.inferred_triples
    )
    return graph, info


def knowledge_graph_from_triples(
    spec: StoreSpec, view: bytes, derived: bytes, seconds: float, inferred_count: int
) -> KnowledgeGraph:
    """A KnowledgeGraph over the causal view (N-Triples) pulled from a store, with no reasoning.

    Its CacheInfo says ``none``: the store holds the inferred graph, no inference cache is involved.
    """
    from kg.graph.knowledge import KnowledgeGraph  # deferred: reading a store setting needs no networkx

    def to_rdflib(data: bytes) -> Graph:
        graph = Graph()
        if data:
            graph.parse(data=data, format="nt")
        return graph

    asserted = AssertedGraph(graph=to_rdflib(view), files=(), origins={})
    inferred = to_rdflib(derived)
    logger.debug(
        "%s: causal view of %d triples and %d inferred causal triples pulled in %.2f s (no inference cache)",
        spec,
        len(asserted.graph),
        len(inferred),
        seconds,
    )
    cache = CacheInfo(state="none", key=None, engine=None, path=None, seconds=seconds, triples=inferred_count)
    return KnowledgeGraph(asserted, inferred, cache)
