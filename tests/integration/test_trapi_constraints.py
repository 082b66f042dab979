"""TRAPI query constraints: qualifier_constraints honoured, the ones mgkg cannot honour refused by name.

Also the meta knowledge graph, checked with reasoner-pydantic, reasoner-validator and bmt, offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from tests.integration.trapi_offline import PROBLEM, Validate, offline_validation, one_hop, qualified


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def validate() -> Iterator[Validate]:
    with offline_validation() as check:
        yield check


def _qualifiers(edge: dict[str, Any]) -> dict[str, str]:
    return {q["qualifier_type_id"]: q["qualifier_value"] for q in edge["qualifiers"]}


def test_one_hop_honours_qualifier_constraints(client: TestClient, validate: Validate) -> None:
    """Only edges carrying every qualifier of a set are answered; two sets are an OR."""
    every = client.post("/trapi/query", json=qualified("HP:0002917")).json()["message"]
    down_set = {"biolink:object_direction_qualifier": "decreased"}
    up_set = {"biolink:object_direction_qualifier": "increased"}
    down = client.post("/trapi/query", json=qualified("HP:0002917", down_set)).json()
    assert validate(down)["error"] == {}
    edges = down["message"]["knowledge_graph"]["edges"]
    expected = {
        k for k, e in every["knowledge_graph"]["edges"].items() if _qualifiers(e).items() >= down_set.items()
    }
    assert set(edges) == expected
    assert 0 < len(edges) < len(every["knowledge_graph"]["edges"])
    assert any("qualifier_constraints on e0 honoured" in entry["message"] for entry in down["logs"])
    either = client.post("/trapi/query", json=qualified("HP:0002917", down_set, up_set)).json()["message"]
    up = client.post("/trapi/query", json=qualified("HP:0002917", up_set)).json()["message"]
    assert set(either["knowledge_graph"]["edges"]) == expected | set(up["knowledge_graph"]["edges"])
    both = {**down_set, "biolink:qualified_predicate": "biolink:causes"}
    assert (
        set(
            client.post("/trapi/query", json=qualified("HP:0002917", both)).json()["message"][
                "knowledge_graph"
            ]["edges"]
        )
        == expected
    )


def test_qualifier_values_match_their_biolink_descendants(client: TestClient) -> None:
    """``activity_or_abundance`` covers ``abundance``; ``upregulated`` (narrower than increased) does not."""
    broad = {"biolink:object_aspect_qualifier": "activity_or_abundance"}
    exact = {"biolink:object_aspect_qualifier": "abundance"}
    broad_edges = client.post("/trapi/query", json=qualified("HP:0002917", broad)).json()["message"]
    exact_edges = client.post("/trapi/query", json=qualified("HP:0002917", exact)).json()["message"]
    assert set(exact_edges["knowledge_graph"]["edges"]) <= set(broad_edges["knowledge_graph"]["edges"])
    assert exact_edges["knowledge_graph"]["edges"]
    narrow = {"biolink:object_direction_qualifier": "upregulated"}
    assert (
        client.post("/trapi/query", json=qualified("HP:0002917", narrow)).json()["message"]["results"] == []
    )


def test_a_qualifier_no_edge_carries_is_no_answer_not_every_answer(client: TestClient) -> None:
    species = {"biolink:species_context_qualifier": "NCBITaxon:9606"}
    assert (
        client.post("/trapi/query", json=qualified("HP:0002917", species)).json()["message"]["results"] == []
    )
    made_up = client.post(
        "/trapi/query", json=qualified("HP:0002917", {"biolink:made_up_qualifier": "x"})
    ).json()
    assert made_up["message"]["results"] == []
    warnings = [e["message"] for e in made_up["logs"] if e["level"] == "WARNING"]
    assert any("biolink:made_up_qualifier is not a Biolink qualifier" in w for w in warnings)


def test_a_subject_going_down_is_answered_with_the_links_stated_that_way(
    client: TestClient, validate: Validate
) -> None:
    """Asked what lower Mg-ATP does, mgkg states its asserted links with the subject decreased."""
    wanted = {
        "biolink:subject_direction_qualifier": "decreased",
        "biolink:qualified_predicate": "biolink:causes",
    }
    body = client.post("/trapi/query", json=qualified("CHEBI:30617", wanted)).json()
    messages = validate(body)
    assert messages["critical"] == {}
    assert messages["error"] == {}
    edges = body["message"]["knowledge_graph"]["edges"]
    assert edges
    up = client.post("/trapi/query", json=qualified("CHEBI:30617")).json()["message"]["knowledge_graph"][
        "edges"
    ]
    assert {key.removesuffix("-down") for key in edges} <= set(up)
    for edge in edges.values():
        qualifiers = _qualifiers(edge)
        assert qualifiers["biolink:subject_direction_qualifier"] == "decreased"
        asserted = _qualifiers(up[next(k for k in up if edges.get(f"{k}-down") is edge)])
        flipped = {"increased": "decreased", "decreased": "increased"}
        assert (
            qualifiers["biolink:object_direction_qualifier"]
            == flipped[asserted["biolink:object_direction_qualifier"]]
        )


@pytest.mark.parametrize(
    ("where", "constraint", "named"),
    [
        (
            "edge",
            {
                "attribute_constraints": [
                    {
                        "id": "biolink:knowledge_level",
                        "name": "knowledge level",
                        "operator": "==",
                        "value": "knowledge_assertion",
                    }
                ]
            },
            "attribute_constraints",
        ),
        (
            "node",
            {"constraints": [{"id": "biolink:p_value", "name": "p", "operator": "<", "value": 0.05}]},
            "constraints",
        ),
        ("node", {"set_interpretation": "MANY", "member_ids": ["HP:0002901"]}, "set_interpretation MANY"),
    ],
)
def test_constraints_mgkg_cannot_honour_are_refused_by_name(
    client: TestClient, where: str, constraint: dict[str, Any], named: str
) -> None:
    query = one_hop("HP:0002917")
    graph = query["message"]["query_graph"]
    (graph["edges"]["e0"] if where == "edge" else graph["nodes"]["n1"]).update(constraint)
    refused = client.post("/trapi/query", json=query)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["code"] == "UnsupportedConstraint"
    assert named in problem["detail"]


def test_an_inferred_one_hop_says_it_is_answered_by_lookup(client: TestClient) -> None:
    query = one_hop("HP:0002917")
    query["message"]["query_graph"]["edges"]["e0"]["knowledge_type"] = "inferred"
    body = client.post("/trapi/query", json=query).json()
    lookup = client.post("/trapi/query", json=one_hop("HP:0002917")).json()
    assert (
        body["message"]["knowledge_graph"]["edges"].keys()
        == lookup["message"]["knowledge_graph"]["edges"].keys()
    )
    assert any(e["level"] == "WARNING" and "lookups only" in e["message"] for e in body["logs"])
