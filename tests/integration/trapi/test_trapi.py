"""TRAPI 1.6 over HTTP, validated offline with reasoner-validator 6.0 (the TRAPI 1.6 line) and bmt.

How the validator is kept offline: trapi_offline.py; the fixtures: conftest.py beside this file.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.routes.trapi import ONE_HOP_EXAMPLE, PATHFINDER_EXAMPLE
from kg.causal.network import network_of
from kg.causal.why import explain
from kg.graph.knowledge import KnowledgeGraph
from kg.model.vocab import to_curie
from tests.integration.trapi.trapi_offline import (
    PROBLEM,
    Validate,
    one_hop,
    pathfinder,
    qualified,
)


def _attributes(edge: dict[str, Any]) -> dict[str, Any]:
    return {a["attribute_type_id"]: a["value"] for a in edge["attributes"]}


def test_openapi_info_carries_translator_extensions(client: TestClient) -> None:
    info = client.get("/openapi.json").json()["info"]
    assert info["x-translator"]["infores"] == "infores:mgkg"
    assert info["x-translator"]["component"] == "KP"
    assert info["x-trapi"]["version"] == "1.6.0"
    assert info["x-trapi"]["pathfinderquery"] is True


def test_meta_knowledge_graph_lists_phenotypes_and_causes(client: TestClient) -> None:
    meta = client.get("/trapi/meta_knowledge_graph").json()
    assert "HP" in meta["nodes"]["biolink:PhenotypicFeature"]["id_prefixes"]
    triples = {(e["subject"], e["predicate"], e["object"]) for e in meta["edges"]}
    assert ("biolink:PhenotypicFeature", "biolink:causes", "biolink:PhenotypicFeature") in triples
    affects = [e for e in meta["edges"] if e["predicate"] == "biolink:affects"]
    qualifier_types = {q["qualifier_type_id"] for e in affects for q in e["qualifiers"]}
    assert "biolink:qualified_predicate" in qualifier_types


def test_one_hop_from_hypomagnesemia_is_valid_and_cited(
    client: TestClient, validate: Validate, knowledge_graph: KnowledgeGraph
) -> None:
    response = client.post("/trapi/query", json=one_hop("HP:0002917"))
    assert response.status_code == 200, response.text
    body = response.json()
    messages = validate(body)
    assert messages["critical"] == {}
    assert messages["error"] == {}
    kg = body["message"]["knowledge_graph"]
    network = network_of(knowledge_graph)
    source = network.resolve("HP:0002917")
    expected = {
        key
        for _, obj, key, data in network.graph.out_edges(source, keys=True, data=True)
        if data["sign"] == 1 and network.is_state(obj)
    }
    assert expected
    assert set(kg["edges"]) == {to_curie(str(key)) for key in expected}
    assert len(body["message"]["results"]) == len(expected)
    for edge in kg["edges"].values():
        assert edge["subject"] == "HP:0002917"
        assert [s["resource_role"] for s in edge["sources"]] == ["primary_knowledge_source"]
        assert edge["sources"][0]["resource_id"] == "infores:mgkg"
        attributes = _attributes(edge)
        assert attributes["biolink:knowledge_level"] in {"knowledge_assertion", "logical_entailment"}
        assert attributes["biolink:agent_type"] == "manual_agent"
        assert "biolink:publications" in attributes or any(
            a.get("original_attribute_name") == "mgkg:citation" for a in edge["attributes"]
        )


def test_one_hop_takes_mgkg_own_curie(client: TestClient) -> None:
    standard = client.post("/trapi/query", json=one_hop("HP:0002917")).json()["message"]
    own = client.post("/trapi/query", json=one_hop("mgkgid:hypomagnesemia")).json()["message"]
    assert own["knowledge_graph"]["edges"].keys() == standard["knowledge_graph"]["edges"].keys()
    binding = own["results"][0]["node_bindings"]["n0"][0]
    assert binding == {"id": "HP:0002917", "query_id": "mgkgid:hypomagnesemia", "attributes": []}


def test_pathfinder_hypomagnesemia_to_hypocalcemia(
    client: TestClient, validate: Validate, knowledge_graph: KnowledgeGraph
) -> None:
    response = client.post("/trapi/query", json=pathfinder("HP:0002917", "HP:0002901"))
    assert response.status_code == 200, response.text
    body = response.json()
    messages = validate(body)
    assert messages["critical"] == {}
    assert messages["error"] == {}
    message = body["message"]
    paths = explain(network_of(knowledge_graph), "hypocalcemia").paths
    (result,) = message["results"]
    analyses = result["analyses"]
    assert len(analyses) == len(paths) > 1
    scores = [a["score"] for a in analyses]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == 1.0
    for analysis, path in zip(analyses, paths, strict=True):
        (binding,) = analysis["path_bindings"]["p0"]
        aux = message["auxiliary_graphs"][binding["id"]]
        assert set(aux["edges"]) <= set(message["knowledge_graph"]["edges"])
        assert len(aux["edges"]) == sum(len(step.links) for step in path.steps)
    inferred = [
        e for e in message["knowledge_graph"]["edges"].values() if "biolink:support_graphs" in _attributes(e)
    ]
    assert len(inferred) == 1
    assert set(_attributes(inferred[0])["biolink:support_graphs"]) == set(message["auxiliary_graphs"])


def test_pathfinder_states_each_link_in_the_path_direction(client: TestClient) -> None:
    """Mg-ATP falls on the PTH-secretion path, so its link to adenylate cyclase reads as a decrease."""
    message = client.post("/trapi/query", json=pathfinder("HP:0002917", "HP:0002901")).json()["message"]
    edges = message["knowledge_graph"]["edges"]
    from_mg_atp = [e for e in edges.values() if e["subject"] == "CHEBI:30617" and e["object"] == "GO:0004016"]
    assert from_mg_atp
    qualifiers = {q["qualifier_type_id"]: q["qualifier_value"] for q in from_mg_atp[0]["qualifiers"]}
    assert qualifiers["biolink:subject_direction_qualifier"] == "decreased"
    assert qualifiers["biolink:object_direction_qualifier"] == "decreased"
    assert qualifiers["biolink:qualified_predicate"] == "biolink:causes"


def test_pathfinder_honours_intermediate_categories(client: TestClient) -> None:
    every = client.post("/trapi/query", json=pathfinder("HP:0002917", "HP:0002901")).json()["message"]
    chemical = client.post(
        "/trapi/query", json=pathfinder("HP:0002917", "HP:0002901", ["biolink:ChemicalEntity"])
    ).json()["message"]
    none = client.post("/trapi/query", json=pathfinder("HP:0002917", "HP:0002901", ["biolink:Drug"])).json()
    assert none["message"]["results"] == []
    kept = chemical["results"][0]["analyses"]
    assert 0 < len(kept) <= len(every["results"][0]["analyses"])
    for analysis in kept:
        aux = chemical["auxiliary_graphs"][analysis["path_bindings"]["p0"][0]["id"]]
        ends = {chemical["knowledge_graph"]["edges"][e]["object"] for e in aux["edges"]}
        categories = {c for n in ends for c in chemical["knowledge_graph"]["nodes"][n]["categories"]}
        assert "biolink:ChemicalEntity" in categories


def test_a_broken_response_is_caught(client: TestClient, validate: Validate) -> None:
    body = client.post("/trapi/query", json=one_hop("HP:0002917")).json()
    edge = next(iter(body["message"]["knowledge_graph"]["edges"].values()))
    del edge["sources"]
    assert validate(body)["error"] or validate(body)["critical"]
    body = client.post("/trapi/query", json=one_hop("HP:0002917")).json()
    next(iter(body["message"]["knowledge_graph"]["nodes"].values()))["categories"] = (
        "biolink:PhenotypicFeature"
    )
    assert validate(body)["critical"]


def test_queries_it_cannot_answer_are_problems(client: TestClient) -> None:
    three = one_hop("HP:0002917")
    three["message"]["query_graph"]["nodes"]["n2"] = {}
    refused = client.post("/trapi/query", json=three)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "QueryNotTraversable"
    assert client.post("/trapi/query", json={"message": []}).status_code == 422
    unknown = client.post("/trapi/query", json=pathfinder("HP:0002917", "HP:9999999"))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM


EXAMPLES: dict[str, dict[str, Any]] = {
    "route one-hop example": ONE_HOP_EXAMPLE,
    "route pathfinder example": PATHFINDER_EXAMPLE,
    "one-hop by mgkg's own CURIE": one_hop("mgkgid:hypomagnesemia"),
    "one-hop related_to": one_hop("HP:0002917", "biolink:related_to"),
    "one-hop into a pinned finding": {
        "message": {
            "query_graph": {
                "nodes": {"n0": {"categories": ["biolink:PhenotypicFeature"]}, "n1": {"ids": ["HP:0001281"]}},
                "edges": {"e0": {"subject": "n0", "object": "n1", "predicates": ["biolink:causes"]}},
            }
        }
    },
    "one-hop from a chemical, qualified": qualified(
        "CHEBI:30617", {"biolink:qualified_predicate": "biolink:causes"}
    ),
    "pathfinder to tetany": pathfinder("HP:0002917", "HP:0001281"),
    "pathfinder through a chemical": pathfinder("HP:0002917", "HP:0002901", ["biolink:ChemicalEntity"]),
}
"""Every example query of the documentation and the API, each validated below."""


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_query_gets_a_valid_cited_answer(
    client: TestClient, validate: Validate, name: str
) -> None:
    response = client.post("/trapi/query", json=copy.deepcopy(EXAMPLES[name]))
    assert response.status_code == 200, response.text
    body = response.json()
    messages = validate(body)
    assert messages["critical"] == {}, messages["critical"]
    assert messages["error"] == {}, messages["error"]
    assert body["message"]["results"]
    for edge in body["message"]["knowledge_graph"]["edges"].values():
        attributes = _attributes(edge)
        assert (
            "biolink:support_graphs" in attributes
            or "biolink:publications" in attributes
            or any(a.get("original_attribute_name") == "mgkg:citation" for a in edge["attributes"])
        )
