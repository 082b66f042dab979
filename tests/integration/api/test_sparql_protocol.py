"""The SPARQL 1.1 Protocol at /sparql on every store backend: GET and POST, graph parameters, the service
description, content negotiation for each query form."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph

from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH
from tests.conftest import assert_problem
from tests.integration.api.conftest import MGKG, UPSTREAM, count_triples, rows


def test_query_by_get_post_form_and_post_body_agree(client: TestClient) -> None:
    by_get = client.get("/sparql", params={"query": UPSTREAM}).json()
    by_form = client.post("/sparql", data={"query": UPSTREAM}).json()
    by_body = client.post(
        "/sparql", content=UPSTREAM.encode(), headers={"Content-Type": "application/sparql-query"}
    ).json()
    assert by_get == by_form == by_body
    assert by_get["results"]["bindings"]


def test_default_graph_is_the_union(client: TestClient) -> None:
    joined = MGKG + (
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "SELECT ?label WHERE { ?x mgkg:causallyUpstreamOf mgkgid:hypocalcemia ; rdfs:label ?label }"
    )
    assert rows(client, joined)  # inferred triple joined with an asserted label


def test_protocol_graph_parameters(client: TestClient) -> None:
    assert not rows(client, UPSTREAM, **{"default-graph-uri": str(ASSERTED_GRAPH)})
    assert rows(client, UPSTREAM, **{"default-graph-uri": str(INFERRED_GRAPH)})
    named = rows(
        client,
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        **{"named-graph-uri": str(INFERRED_GRAPH)},
    )
    assert {r["g"]["value"] for r in named} == {str(INFERRED_GRAPH)}
    upstream = "<https://w3id.org/mgkg/vocab#causallyUpstreamOf>"
    from_clause = f"SELECT ?x FROM <{ASSERTED_GRAPH}> WHERE {{ ?x {upstream} ?y }}"
    assert not rows(client, from_clause)


MALFORMED_GRAPHS = ["AAA", "a b", "#part", "http://exa mple.org/g", "//example.org/g"]


@pytest.mark.parametrize("iri", MALFORMED_GRAPHS)
@pytest.mark.parametrize("place", ["default-graph-uri", "named-graph-uri"])
def test_a_graph_parameter_that_is_not_an_iri_is_400_and_says_which(
    client: TestClient, place: str, iri: str
) -> None:
    """A protocol graph parameter that is no absolute IRI is the client's error (Oxigraph's server
    answers 400 too), never the engine's 500, and the answer names the parameter and the text."""
    before = count_triples(client)
    params = {"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", place: iri}
    body = assert_problem(client.get("/sparql", params=params), 400)
    assert str(body["type"]).endswith("/bad-dataset")
    assert (body["parameter"], body["iri"]) == (place, iri)
    assert count_triples(client) == before


@pytest.mark.parametrize("clause", ["FROM", "FROM NAMED"])
def test_a_relative_from_graph_resolves_against_the_endpoint(
    client: TestClient, request: pytest.FixtureRequest, clause: str
) -> None:
    """FROM <g> with a relative IRI names <endpoint-IRI-resolved g>, as in Oxigraph: a graph the store
    does not hold, so an empty one (on the memory and on-disk stores), never an error."""
    query = f"SELECT (COUNT(*) AS ?n) {clause} <relative-graph> WHERE {{ ?s ?p ?o }}"
    response = client.get("/sparql", params={"query": query})
    if request.node.callspec.params["store_setting"] in ("sparql", "virtuoso"):
        assert_problem(response, 403)  # a remote store may fetch what it does not hold: refused
        return
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "0"


def test_service_description(client: TestClient) -> None:
    response = client.get("/sparql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    names = {str(o) for o in graph.objects(None, __import__("rdflib").URIRef(sd + "name"))}
    assert {str(ASSERTED_GRAPH), str(INFERRED_GRAPH)} <= names
    held = rows(client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert names == {r["g"]["value"] for r in held}  # every graph the store holds (Virtuoso's own too)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/*", "text/csv"),
    ],
)
def test_select_content_negotiation(client: TestClient, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": UPSTREAM}, headers=headers)
    assert response.headers["content-type"].split(";")[0] == expected
    text = response.text
    if expected.endswith("json"):
        assert response.json()["head"]["vars"] == ["x"]
    elif expected.endswith("xml"):
        assert ET.fromstring(text).tag.endswith("sparql")
    elif expected == "text/csv":
        assert next(csv.reader(io.StringIO(text))) == ["x"]
    else:
        assert text.splitlines()[0] == "?x"


def test_ask_formats(client: TestClient) -> None:
    ask = MGKG + "ASK { mgkgid:hypomagnesemia mgkg:causallyUpstreamOf mgkgid:hypocalcemia }"
    assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True
    xml = client.get("/sparql", params={"query": ask, "format": "xml"}).text
    assert "true" in xml


@pytest.mark.parametrize(
    "accept", ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]
)
def test_construct_formats(client: TestClient, accept: str) -> None:
    pattern = "{ ?x mgkg:causallyUpstreamOf mgkgid:hypocalcemia }"
    construct = MGKG + f"CONSTRUCT {pattern} WHERE {pattern}"
    response = client.get("/sparql", params={"query": construct}, headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == accept
    # pyoxigraph parses all four (rdflib's JSON-LD parser warns about its own deprecated API)
    triples = list(ox.parse(response.content, format=ox.RdfFormat.from_media_type(accept)))
    assert len(triples) == len(rows(client, UPSTREAM))


def test_describe_defaults_to_turtle(client: TestClient) -> None:
    # Virtuoso's DESCRIBE holds more triples than this client's row limit: the first ones will do here
    query = "DESCRIBE <https://w3id.org/mgkg/id/hypocalcemia>"
    response = client.get("/sparql", params={"query": query}, headers={"Prefer": "handling=lenient"})
    assert response.headers["content-type"].startswith("text/turtle"), response.text[:300]
    assert len(Graph().parse(data=response.text, format="turtle")) > 0


def test_unacceptable_format_is_406(client: TestClient) -> None:
    assert_problem(client.get("/sparql", params={"query": UPSTREAM}, headers={"Accept": "image/png"}), 406)
    assert_problem(client.get("/sparql", params={"query": UPSTREAM, "format": "png"}), 400)  # no format
    # a format of the other query forms is a hint passed over (SPARQLWrapper sends one): Accept decides
    hinted = client.get(
        "/sparql", params={"query": UPSTREAM, "format": "turtle"}, headers={"Accept": "text/csv"}
    )
    assert hinted.status_code == 200, hinted.text
    assert hinted.headers["content-type"].startswith("text/csv")
