"""The fixture and helpers of the HTTP API tests: the app on every store backend with small SPARQL limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings

MGKG: Final = "PREFIX mgkg: <https://w3id.org/mgkg/vocab#>\nPREFIX mgkgid: <https://w3id.org/mgkg/id/>\n"
UPSTREAM: Final = MGKG + "SELECT ?x WHERE { ?x mgkg:causallyUpstreamOf mgkgid:hypocalcemia }"
COUNT_ALL: Final = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
RUNAWAY: Final = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def client(store_setting: str) -> Iterator[TestClient]:
    """One app per store backend (tests/conftest.py's store_setting: memory; an on-disk Oxigraph store;
    a real Oxigraph server and a real Virtuoso over HTTP); its lifespan opens the store once. Every test
    using this fixture runs on each backend."""
    settings = Settings(
        store=store_setting,
        sparql_timeout_s=2.0,
        sparql_max_rows=50,
        sparql_max_query_chars=5_000,
        sparql_cache_bytes=0,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def rows(client: TestClient, query: str, **params: str) -> list[dict[str, dict[str, str]]]:
    """The rows of a SELECT asked by GET /sparql (``params``: protocol parameters), which must answer 200."""
    response = client.get("/sparql", params={"query": query, **params})
    assert response.status_code == 200, response.text
    bindings: list[dict[str, dict[str, str]]] = response.json()["results"]["bindings"]
    return bindings


def count_triples(client: TestClient) -> int:
    """How many triples the store's named graphs hold, asked through /sparql."""
    return int(rows(client, COUNT_ALL)[0]["n"]["value"])
