"""The OpenAPI contract holds: schemathesis over every operation, in-process against the ASGI app.

Every operation (direct-POST SPARQL with an ``application/sparql-query`` body included) is called with
generated valid and invalid inputs; each answer must be no server error, a status the schema lists,
a media type the schema lists for that status, and a body that matches the schema. Examples per
operation are bounded so that the run stays short.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import APIOperation
from schemathesis.checks import positive_data_acceptance
from schemathesis.python.asgi import shutdown_lifespans

from api.app import create_app
from api.config import Settings

MGKG = "PREFIX mgkg: <https://w3id.org/mgkg/vocab#>\nPREFIX mgkgid: <https://w3id.org/mgkg/id/>\n"
QUERIES = (
    MGKG + "SELECT ?x WHERE { ?x mgkg:causallyUpstreamOf mgkgid:hypocalcemia }",
    MGKG + "ASK { mgkgid:hypomagnesemia mgkg:causallyUpstreamOf mgkgid:hypocalcemia }",
    MGKG + "CONSTRUCT { ?x mgkg:causes ?y } WHERE { ?x mgkg:causes ?y } LIMIT 5",
    "DESCRIBE <https://w3id.org/mgkg/id/hypocalcemia>",
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/x> { ?a ?b ?c } }",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
)
"""Direct-POST bodies: answerable queries of each form, refused ones, a runaway; plus arbitrary text."""

schemathesis.openapi.media_type(
    "application/sparql-query",
    st.one_of(st.sampled_from(QUERIES), st.text(max_size=200)).map(lambda text: text.encode("utf-8")),
)


@pytest.fixture(scope="module")
def app() -> Iterator[FastAPI]:
    """The app on the memory store with tight limits, so a runaway query ends quickly (504/507)."""
    application = create_app(
        Settings(sparql_timeout_s=1.0, sparql_max_rows=50, sparql_max_query_chars=2_000, sparql_cache_bytes=0)
    )
    yield application
    shutdown_lifespans()


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    derandomize=True,
)
def test_every_operation_keeps_its_contract(
    case: schemathesis.Case[APIOperation[Any, Any, Any, Any]],
) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance] if _inexpressible(case) else None)


def _inexpressible(case: schemathesis.Case[APIOperation[Any, Any, Any, Any]]) -> bool:
    """Whether a schema-valid request may rightly get a 400 that no OpenAPI schema can foresee.

    /sparql takes a query language: whether a string is a valid query, and which format= values can
    answer it (SELECT results or a graph), is for the SPARQL grammar to say, not a JSON Schema. GET
    /export takes ``finding`` or ``node``, not both; OpenAPI cannot state that two query parameters
    exclude each other. POST /trapi/query takes a TRAPI query graph: whether it is a one-hop or a
    pathfinder graph mgkg answers (two nodes and one edge, or one path) is TRAPI's to say.
    Every other check (no 5xx, documented statuses, media types and bodies) runs.
    """
    if case.operation.path in ("/sparql", "/trapi/query"):
        return True
    return case.operation.path == "/export" and bool(case.query and {"finding", "node"} <= set(case.query))


def test_the_schema_lists_what_the_routes_send(app: FastAPI) -> None:
    """Spot checks of the OpenAPI document itself: problem+json statuses and the media types served."""
    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
    why = spec["paths"]["/why"]["get"]["responses"]
    assert {"400", "404", "406", "422", "500", "503"} <= set(why)
    assert {"application/json", "image/svg+xml", "text/vnd.graphviz"} <= set(why["200"]["content"])
    assert why["422"]["content"]["application/problem+json"]["schema"]["title"] == "ProblemResponse"
    post = spec["paths"]["/sparql"]["post"]
    assert {"400", "403", "406", "413", "415", "503", "504", "507"} <= set(post["responses"])
    assert "application/sparql-query" in post["requestBody"]["content"]
    named = spec["paths"]["/queries/{name}"]["get"]["responses"]
    assert "application/sparql-results+json" in named["200"]["content"]
    assert "text/turtle" in named["200"]["content"]


def test_each_named_query_is_an_operation_with_its_parameters(app: FastAPI) -> None:
    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
        listed = client.get("/queries").json()["queries"]
    for query in listed:
        operation = spec["paths"][f"/queries/{query['name']}"]["get"]
        documented = {p["name"]: p for p in operation["parameters"]}
        for param in query["parameters"]:
            assert documented[param["name"]]["required"] == param["required"]
        assert "format" in documented


def test_errors_are_sent_as_documented(app: FastAPI) -> None:
    """The bugs schemathesis found stay fixed: each answer is the documented problem, never a 500."""
    with TestClient(app) as client:
        invalid = client.get("/why", params={"finding": "tetany", "max_hops": 0})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert invalid.json()["errors"][0]["location"] == "query.max_hops"
        not_allowed = client.request("OPTIONS", "/sparql")
        assert not_allowed.status_code == 405
        # HEAD is GET without the body (RFC 9110 9.3.2), so /sparql answers it too
        assert set(not_allowed.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
        assert not_allowed.headers["content-type"] == "application/problem+json"
        head = client.head("/sparql", params={"query": "ASK {}"})
        assert head.status_code == 200
        assert head.headers["content-type"] == "application/sparql-results+json"
        bad_iri = client.get("/queries/link-evidence", params={"link": "urn:l_!n05R]w%"})
        assert bad_iri.status_code == 400, bad_iri.text
        assert bad_iri.json()["type"].endswith("/bad-query-parameter")
        twice = client.get("/sparql", params=[("query", "ASK {}"), ("query", "ASK {}")])
        assert twice.status_code == 400
        assert twice.json()["type"].endswith("/repeated-parameter")
        description = client.get("/sparql", params={"format": "png"})  # names no format: a 400
        assert description.status_code == 400
        assert description.headers["content-type"] == "application/problem+json"
        hinted = client.get("/sparql", params={"format": "json"})  # a hint: JSON-LD for a description
        assert hinted.headers["content-type"] == "application/ld+json"
