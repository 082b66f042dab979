"""Where Debian's Virtuoso 7.2.5 answers unlike the SPARQL 1.1 formats, mgkg's answers over it do not."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from kg.model.vocab import ASSERTED_GRAPH

RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
TYPES = f"SELECT ?a ?b WHERE {{ GRAPH <{ASSERTED_GRAPH}> {{ ?a a ?x . ?b a ?y }} }}"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def client(virtuoso_server: str) -> Iterator[TestClient]:
    """mgkg over the session's Virtuoso (ResultSetMaxRows 10000, MaxQueryExecutionTime 5 s), with mgkg's
    own limits above Virtuoso's, so that Virtuoso's are the ones met."""
    settings = Settings(
        store=f"sparql:{virtuoso_server}", sparql_max_rows=50_000, sparql_timeout_s=30, sparql_cache_bytes=0
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("media_type", [*RESULTS, "text/csv"])
@pytest.mark.parametrize(("pattern", "expected"), [("?s ?p ?o", True), ("?s <urn:nothing> ?o", False)])
def test_ask_is_a_boolean_in_every_format(
    client: TestClient, media_type: str, pattern: str, expected: bool
) -> None:
    """Virtuoso answers ASK with a one-row ``__ASK_RETVAL`` table (no row when false); mgkg a boolean."""
    response = client.get("/sparql", params={"query": f"ASK {{ {pattern} }}"}, headers={"Accept": media_type})
    assert response.status_code == 200, response.text
    if media_type == "text/csv":
        assert response.text.strip() == str(expected).lower()
        return
    answer = ox.parse_query_results(response.content, format=RESULTS[media_type])
    assert isinstance(answer, ox.QueryBoolean)
    assert bool(answer) is expected


def test_tsv_and_csv_are_the_w3c_formats(client: TestClient) -> None:
    """Virtuoso's own TSV has quoted column names and bare strings for IRIs and literals (no language tag);
    mgkg asks it for JSON and writes TSV and CSV itself."""
    query = 'SELECT ?s (STRLANG("Mg", "en") AS ?l) WHERE { ?s ?p ?o } LIMIT 1'
    tsv = client.get("/sparql", params={"query": query}, headers={"Accept": "text/tab-separated-values"})
    assert tsv.status_code == 200, tsv.text
    rows = list(ox.parse_query_results(tsv.content, format=ox.QueryResultsFormat.TSV))  # type: ignore[arg-type]
    assert isinstance(rows[0]["s"], ox.NamedNode | ox.BlankNode)
    assert rows[0]["l"] == ox.Literal("Mg", language="en")
    csv = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert csv.text.splitlines()[0] == "s,l"


def test_json_uses_the_sparql_1_1_literal_type(client: TestClient) -> None:
    """Virtuoso writes typed literals as the 2007 draft's ``typed-literal``; mgkg's JSON says ``literal``."""
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    body = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    term = json.loads(body.content)["results"]["bindings"][0]["n"]
    assert term["type"] == "literal"
    assert term["datatype"] == "http://www.w3.org/2001/XMLSchema#integer"


@pytest.mark.parametrize("media_type", ["application/sparql-results+json", "text/csv"])
def test_an_answer_virtuoso_cut_at_its_row_cap_is_marked_truncated(
    client: TestClient, media_type: str
) -> None:
    """Virtuoso cuts a SELECT at ResultSetMaxRows and says so only in X-SPARQL-MaxRows: mgkg passes that on
    as its own truncation signal, though its row limit was not reached: refused by default, the first rows
    marked truncated for a client that asks for them."""
    refused = client.get("/sparql", params={"query": TYPES}, headers={"Accept": media_type})
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/too-many-rows")
    assert refused.json()["max_rows"] == 10_000  # Virtuoso's cap, not mgkg's 50,000
    assert "remote store's own row cap" in refused.json()["detail"]
    lenient = {"Accept": media_type, "Prefer": "handling=lenient"}
    response = client.get("/sparql", params={"query": TYPES}, headers=lenient)
    assert response.status_code == 200, response.text
    assert response.headers["MGKG-Results-Truncated"] == "10000"
    small = client.get("/sparql", params={"query": TYPES + " LIMIT 10"}, headers={"Accept": media_type})
    assert "MGKG-Results-Truncated" not in small.headers


def test_virtuoso_s_own_time_limit_is_a_timeout(client: TestClient) -> None:
    """Virtuoso answers a query past MaxQueryExecutionTime with 500 and SQL state S1T00: mgkg's 504."""
    response = client.get("/sparql", params={"query": RUNAWAY})
    assert response.status_code == 504, response.text
    assert response.json()["type"].endswith("/query-timeout")
    assert "remote store" in response.json()["detail"]
