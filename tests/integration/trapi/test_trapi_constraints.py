"""TRAPI query constraints: qualifier_constraints honoured, the ones mgkg cannot honour refused by name.

Also the meta knowledge graph, checked with reasoner-pydantic, reasoner-validator and bmt, offline.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kg.translator.biolink import toolkit
from tests.integration.trapi.trapi_offline import (
    PROBLEM,
    SCHEMA,
    Validate,
    one_hop,
    qualified,
)

BIOLINK = toolkit().get_model_version()


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


def _biolink_messages(meta: dict[str, Any]) -> dict[str, Any]:
    """reasoner-validator's Biolink check of every category and predicate of a meta knowledge graph."""
    from reasoner_validator.biolink import BiolinkValidator
    from reasoner_validator.report import TRAPIGraphType

    validator = BiolinkValidator(
        default_test="meta", default_target="mgkg", trapi_version=str(SCHEMA), biolink_version=BIOLINK
    )
    for category in meta["nodes"]:
        validator.validate_category("knowledge_graph", category, category)
    for number, edge in enumerate(meta["edges"]):
        for category in (edge["subject"], edge["object"]):
            validator.validate_category("knowledge_graph", f"meta edge {number}", category)
        validator.validate_predicate(f"meta edge {number}", edge["predicate"], TRAPIGraphType.Knowledge_Graph)
    found: dict[str, Any] = validator.get_all_messages().get("mgkg", {}).get("meta", {})
    return {level: found.get(level, {}) for level in ("critical", "error", "warning")}


def _meta_schema_error(meta: dict[str, Any]) -> str | None:
    """The TRAPI 1.6 schema's complaint about a MetaKnowledgeGraph, or None when it conforms."""
    import jsonschema
    from reasoner_validator.trapi import TRAPISchemaValidator

    try:
        TRAPISchemaValidator(trapi_version=str(SCHEMA)).validate(meta, "MetaKnowledgeGraph")
    except jsonschema.ValidationError as error:
        return str(error.message)
    return None


def _concrete(curie: str) -> bool:
    element = toolkit().get_element(curie)
    return element is not None and not element.abstract and not element.mixin and not element.deprecated


def test_meta_knowledge_graph_is_valid_trapi_and_biolink(client: TestClient, validate: Validate) -> None:
    """The meta graph conforms to TRAPI 1.6 (reasoner-pydantic's model and the schema) and every category,
    predicate, qualifier and qualifier value in it is Biolink's (reasoner-validator and bmt)."""
    from reasoner_pydantic import MetaKnowledgeGraph

    meta = client.get("/trapi/meta_knowledge_graph").json()
    MetaKnowledgeGraph.model_validate(meta)
    assert _meta_schema_error(meta) is None
    messages = _biolink_messages(meta)
    assert messages["critical"] == {}
    assert messages["error"] == {}
    assert messages["warning"] == {}
    tk = toolkit()
    for category, node in meta["nodes"].items():
        assert tk.is_category(category), category
        assert _concrete(category), category
        assert node["id_prefixes"], category
    for edge in meta["edges"]:
        assert tk.is_category(edge["subject"]), edge
        assert tk.is_category(edge["object"]), edge
        assert tk.is_predicate(edge["predicate"]), edge["predicate"]
        assert _concrete(edge["predicate"]), edge["predicate"]
        for qualifier in edge["qualifiers"]:
            type_id = qualifier["qualifier_type_id"]
            assert tk.is_qualifier(type_id), type_id
            enum = getattr(tk.get_element(type_id), "range", None)
            for value in qualifier["applicable_values"]:
                if type_id == "biolink:qualified_predicate":
                    assert tk.is_predicate(value), value
                elif enum and tk.is_enum(enum):
                    assert tk.is_permissible_value_of_enum(enum, value), (type_id, value)
                else:
                    assert ":" in value, (type_id, value)  # an ontology term (UBERON, CL) as a CURIE


def test_a_broken_meta_knowledge_graph_is_caught(client: TestClient, validate: Validate) -> None:
    meta = client.get("/trapi/meta_knowledge_graph").json()
    no_predicate = copy.deepcopy(meta)
    del no_predicate["edges"][0]["predicate"]
    assert "predicate" in (_meta_schema_error(no_predicate) or "")
    made_up = copy.deepcopy(meta)
    made_up["edges"][0]["predicate"] = "biolink:made_up"
    made_up["nodes"]["biolink:MadeUp"] = {"id_prefixes": ["X"]}
    errors = _biolink_messages(made_up)["error"]
    assert "biolink:made_up" in errors["error.knowledge_graph.edge.predicate.unknown"]
    assert "biolink:MadeUp" in errors["error.knowledge_graph.node.category.unknown"]


def test_the_meta_graph_says_what_one_hop_lookups_answer(client: TestClient) -> None:
    """Every (category, predicate, category) of the meta graph has an edge behind it, and every edge a
    one-hop query can return is in the meta graph with its qualifiers. A triple only links stated with their
    subject going down make is answered when the query asks for a decreased subject."""
    meta = client.get("/trapi/meta_knowledge_graph").json()
    listed = {(e["subject"], e["predicate"], e["object"]): e for e in meta["edges"]}
    for (subject, predicate, obj), entry in listed.items():
        query: dict[str, Any] = {
            "message": {
                "query_graph": {
                    "nodes": {"n0": {"categories": [subject]}, "n1": {"categories": [obj]}},
                    "edges": {"e0": {"subject": "n0", "object": "n1", "predicates": [predicate]}},
                }
            }
        }
        exact = _exact_edges(client, query, subject, predicate, obj)
        if not exact:  # a link stated with its subject going down is answered when that is asked for
            query["message"]["query_graph"]["edges"]["e0"]["qualifier_constraints"] = [
                {"qualifier_set": [{"qualifier_type_id": DOWN[0], "qualifier_value": DOWN[1]}]}
            ]
            exact = _exact_edges(client, query, subject, predicate, obj)
        assert exact, (subject, predicate, obj)
        applicable = {q["qualifier_type_id"]: set(q["applicable_values"]) for q in entry["qualifiers"]}
        for edge in exact:
            for qualifier in edge["qualifiers"]:
                assert qualifier["qualifier_value"] in applicable[qualifier["qualifier_type_id"]]


DOWN = ("biolink:subject_direction_qualifier", "decreased")


def _exact_edges(
    client: TestClient, query: dict[str, Any], subject: str, predicate: str, obj: str
) -> list[dict[str, Any]]:
    """The answer's edges with exactly this predicate between nodes of exactly these categories."""
    kg = client.post("/trapi/query", json=query).json()["message"]["knowledge_graph"]
    return [
        e
        for e in kg["edges"].values()
        if e["predicate"] == predicate
        and subject in kg["nodes"][e["subject"]]["categories"]
        and obj in kg["nodes"][e["object"]]["categories"]
    ]
