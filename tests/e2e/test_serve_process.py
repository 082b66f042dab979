"""A real `mgkg serve` process, queried with a real SPARQL client (SPARQLWrapper) and plain HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from SPARQLWrapper import JSON, SPARQLWrapper

from tests.conftest import MgkgStarter

QUERY = """PREFIX mgkg: <https://w3id.org/mgkg/vocab#>
PREFIX mgkgid: <https://w3id.org/mgkg/id/>
SELECT ?x WHERE { ?x mgkg:causallyUpstreamOf mgkgid:hypocalcemia }"""
ASK = """PREFIX mgkg: <https://w3id.org/mgkg/vocab#>
PREFIX mgkgid: <https://w3id.org/mgkg/id/>
ASK { mgkgid:hypomagnesemia mgkg:causallyUpstreamOf mgkgid:hypocalcemia }"""


@pytest.fixture(scope="module")
def server(serve_mgkg: MgkgStarter) -> Iterator[str]:
    """Start `mgkg serve` on a free port, wait for /health, yield its base URL, then stop it."""
    with serve_mgkg(env={"MGKG_SPARQL_TIMEOUT_S": "5"}) as base:
        yield base


@pytest.mark.slow
def test_sparqlwrapper_select(server: str) -> None:
    client = SPARQLWrapper(f"{server}/sparql")
    client.setQuery(QUERY)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert isinstance(result, dict)
    values = {row["x"]["value"] for row in result["results"]["bindings"]}
    assert "https://w3id.org/mgkg/id/hypomagnesemia" in values


@pytest.mark.slow
def test_sparqlwrapper_ask_by_post(server: str) -> None:
    client = SPARQLWrapper(f"{server}/sparql")
    client.setMethod("POST")
    client.setQuery(ASK)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert isinstance(result, dict)
    assert result["boolean"] is True


@pytest.mark.slow
def test_why_over_http(server: str) -> None:
    response = httpx.get(f"{server}/why", params={"finding": "hypocalcemia"}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["nodes"][body["finding"]]["label"] == "hypocalcemia"
    assert body["paths"]
