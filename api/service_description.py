"""The SPARQL 1.1 Service Description of /sparql: what the store holds, in the RDF format asked for."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from kg.sparql.results import GRAPH_FORMATS

SD: Final = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS: Final = Namespace("http://www.w3.org/ns/formats/")

_RESULT_FORMATS: Final = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
)
_RDFLIB_FORMATS: Final[dict[str, str]] = {
    GRAPH_FORMATS["turtle"]: "turtle",
    GRAPH_FORMATS["ntriples"]: "nt",
    GRAPH_FORMATS["jsonld"]: "json-ld",
    GRAPH_FORMATS["rdfxml"]: "xml",
}
"""rdflib's serializer of each graph media type the description is offered in."""


def describe_service(endpoint: str, graphs: Iterable[str], media_type: str) -> bytes:
    """The description of ``endpoint`` over a store holding the named ``graphs``, written as ``media_type``
    (one of :data:`~kg.sparql.results.GRAPH_FORMATS`).

    It lists every named graph the store holds and says what the default graph is: the union of them
    all (sd:UnionDefaultGraph), unless a query (FROM) or the protocol's default-graph-uri names others.
    """
    return _describe(endpoint, frozenset(graphs), media_type)


@lru_cache(maxsize=16)
def _describe(endpoint: str, graphs: frozenset[str], media_type: str) -> bytes:
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    for fmt in _RESULT_FORMATS:
        graph.add((service, SD.resultFormat, FORMATS[fmt]))
    dataset, default = BNode(), BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    comment = (
        f"The union of the {len(graphs)} named graphs of this dataset, unless a query (FROM) or the "
        "protocol's default-graph-uri names others; a graph the store does not hold is empty."
    )
    graph.add((default, RDFS.comment, Literal(comment, lang="en")))
    for name in sorted(graphs):
        named = BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
    return graph.serialize(format=_RDFLIB_FORMATS[media_type]).encode()
