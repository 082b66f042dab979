"""Every door resolves a node's every name alike: /why, /entities, /justify and the named queries."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from rdflib import URIRef

from api.app import create_app
from api.config import Settings
from kg.causal.network import CausalNetwork, network_of
from kg.graph.knowledge import KnowledgeGraph
from kg.model.vocab import SKOS
from tests.conftest import assert_problem

UPSTREAM = "mgkg:causallyUpstreamOf"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """The app on the in-memory store (resolution does not depend on the store), lifespan entered."""
    with TestClient(create_app(Settings(store="memory", sparql_cache_bytes=0))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def network(knowledge_graph: KnowledgeGraph) -> CausalNetwork:
    return network_of(knowledge_graph)


def names_of(knowledge_graph: KnowledgeGraph, network: CausalNetwork) -> list[tuple[str, str]]:
    """(node IRI, name) for every node and every name it can be called by."""
    graph = knowledge_graph.asserted.graph
    found: list[tuple[str, str]] = []
    for ref in network.nodes():
        synonyms = [str(s) for s in graph.objects(URIRef(ref.iri), SKOS.altLabel)]
        for name in {ref.label, ref.curie, ref.iri, *synonyms, *(x.curie for x in ref.xrefs)}:
            found.append((ref.iri, name))
    return sorted(found)


def why_resolves(client: TestClient, name: str) -> str:
    response = client.get("/why", params={"finding": name, "max_paths": 1, "max_hops": 1})
    assert response.status_code == 200, response.text
    finding: str = response.json()["finding"]
    return finding


def justify_resolves(client: TestClient, network: CausalNetwork, name: str, expected: str) -> str:
    """The CURIE /justify resolves ``name`` to, asking about a triple that holds when one does."""
    iri = network.graph.has_node(expected) and expected
    causes = sorted(network.graph.predecessors(iri)) if iri else []
    effects = sorted(network.graph.successors(iri)) if iri else []
    if causes:
        params = {"subject": causes[0], "predicate": UPSTREAM, "object": name}
        body = client.get("/justify", params=params).json()
        return str(body["object"]["curie"])
    if effects:
        params = {"subject": name, "predicate": UPSTREAM, "object": effects[0]}
        body = client.get("/justify", params=params).json()
        return str(body["subject"]["curie"])
    # a node on no link: nothing is entailed about it, and the refusal names the node resolved
    response = client.get("/justify", params={"subject": name, "predicate": UPSTREAM, "object": name})
    assert response.status_code == 404, response.text
    assert response.json()["type"].endswith("/not-entailed")
    return str(response.json()["detail"]).split(" ", 1)[0]


def named_query_rows(client: TestClient, name: str) -> list[dict[str, dict[str, str]]]:
    response = client.get("/queries/mechanisms-of-finding", params={"finding": name, "format": "json"})
    assert response.status_code == 200, response.text
    rows: list[dict[str, dict[str, str]]] = response.json()["results"]["bindings"]
    return rows


def test_every_name_of_every_node_resolves_alike_on_every_route(
    client: TestClient, knowledge_graph: KnowledgeGraph, network: CausalNetwork
) -> None:
    names = names_of(knowledge_graph, network)
    assert len({iri for iri, _ in names}) == len(network.nodes())
    assert any(":" in name and not name.startswith(("mgkgid:", "http")) for _, name in names)  # xrefs
    for iri, name in names:
        expected = why_resolves(client, name)
        expected_iri = next(ref.iri for ref in network.nodes() if ref.curie == expected)
        if iri in network.graph:
            assert expected_iri in network.graph  # a linked node's names never leave the network
        entity = client.get(f"/entities/{quote(name, safe='')}")
        assert entity.status_code == 200, (name, entity.text)
        assert entity.json()["node"]["curie"] == expected, name
        assert justify_resolves(client, network, name, expected_iri) == expected, name
        rows = named_query_rows(client, name)
        assert rows == named_query_rows(client, expected_iri), name
        assert all(row["finding"]["value"] == expected_iri for row in rows), name


def test_a_node_is_what_its_unique_identifiers_name(client: TestClient, network: CausalNetwork) -> None:
    for ref in network.nodes():
        if ref.iri in network.graph:
            for name in (ref.iri, ref.curie):
                assert why_resolves(client, name) == ref.curie


def test_a_standard_id_names_the_node_it_maps_to_on_every_route(client: TestClient) -> None:
    hypocalcemia = "mgkgid:hypocalcemia"
    assert why_resolves(client, "HP:0002901") == hypocalcemia
    assert client.get("/entities/HP:0002901").json()["node"]["curie"] == hypocalcemia
    params = {"subject": "hypomagnesemia", "predicate": UPSTREAM, "object": "HP:0002901"}
    body = client.get("/justify", params=params).json()
    assert body["object"]["curie"] == hypocalcemia
    assert body["chains"]


def test_a_name_found_through_a_synonym_or_an_xref_is_logged(
    client: TestClient,
    knowledge_graph: KnowledgeGraph,
    network: CausalNetwork,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hypocalcemia = URIRef(network.resolve("hypocalcemia"))
    synonym = str(next(knowledge_graph.asserted.graph.objects(hypocalcemia, SKOS.altLabel)))
    with caplog.at_level(logging.DEBUG, logger="kg.model.names"):  # the library: /why caches answers
        network.resolve("HP:0002901")
        network.resolve(synonym)
        network.resolve("hypocalcemia")
    said = [r.getMessage() for r in caplog.records if r.name == "kg.model.names"]
    assert any("'HP:0002901' resolved through a standard id it exactly matches" in m for m in said), said
    assert any(f"{synonym!r} resolved through a synonym" in m for m in said), said
    assert not any("'hypocalcemia'" in m for m in said)  # a label is the plain way, not worth a line


@pytest.mark.parametrize("name", ["hypocalcaemiaa", "no such thing", "HP:9999999"])
def test_an_unknown_name_is_404_with_suggestions_on_every_route(client: TestClient, name: str) -> None:
    responses = [
        client.get("/why", params={"finding": name}),
        client.get(f"/entities/{quote(name, safe='')}"),
        client.get("/justify", params={"subject": "hypomagnesemia", "predicate": UPSTREAM, "object": name}),
        client.get("/queries/mechanisms-of-finding", params={"finding": name}),
    ]
    suggestions = []
    for response in responses:
        body = assert_problem(response, 404)
        assert body["name"] == name
        suggestions.append(body["suggestions"])
    assert all(s == suggestions[0] for s in suggestions)  # one resolver, one list of closest names
    if name == "hypocalcaemiaa":
        assert "hypocalcemia" in suggestions[0]
