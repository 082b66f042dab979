"""SPARQL as other endpoints speak it (issue 12): relative IRIs, the dataset of the protocol, the clients'
own parameters, the editor page; through the app's HTTP surface on every local store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings


@pytest.fixture(scope="module", params=["memory", "oxigraph"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    store = "memory"
    if request.param == "oxigraph":
        store = f"oxigraph:{request.getfixturevalue('oxigraph_store')}"
    with TestClient(create_app(Settings(store=store, sparql_cache_bytes=0))) as test_client:
        yield test_client


ENDPOINT = "http://testserver/sparql"


def test_a_relative_iri_resolves_against_the_endpoint(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT (<x> AS ?x) {}"})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"] == [{"x": {"type": "uri", "value": "http://testserver/x"}}]


def test_relative_iris_in_patterns_and_templates(client: TestClient) -> None:
    ask = client.get("/sparql", params={"query": "ASK { <a> <b> <c> }"})
    assert ask.status_code == 200, ask.text
    assert ask.json()["boolean"] is False
    graph = client.get("/sparql", params={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}", "format": "ntriples"})
    assert graph.status_code == 200, graph.text
    assert "<http://testserver/s> <http://testserver/p>" in graph.text


def test_a_base_declared_in_the_query_wins(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "BASE <http://example.org/kb/> SELECT (<x> AS ?x) {}"})
    assert response.json()["results"]["bindings"][0]["x"]["value"] == "http://example.org/kb/x"


def test_from_named_is_read_as_from_named(client: TestClient) -> None:
    """FROM NAMED <g> names g as a named graph (rdflib's parse tree once read it as FROM <default>)."""
    asserted = "https://w3id.org/mgkg/graph/asserted"
    query = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{asserted}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) > 1000
    default_only = client.get(
        "/sparql", params={"query": f"ASK FROM NAMED <{asserted}> WHERE {{ ?s ?p ?o }}"}
    )
    assert default_only.json()["boolean"] is False  # the default graph is empty: only a named graph given


def test_a_graph_the_store_does_not_hold_is_empty(client: TestClient) -> None:
    for params in (
        {"query": "ASK { ?s ?p ?o }", "default-graph-uri": "http://example.org/none"},
        {"query": "ASK FROM <http://example.org/none> { ?s ?p ?o }"},
        {"query": "ASK { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": "http://example.org/none"},
    ):
        response = client.get("/sparql", params=params)
        assert response.status_code == 200, response.text
        assert response.json()["boolean"] is False
