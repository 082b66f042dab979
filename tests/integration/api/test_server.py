"""The server over HTTP on every store backend: /health, one graph build for all requests, OpenAPI, /docs."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

import kg.graph.knowledge
from api.app import create_app
from api.config import Settings


def test_health_answers_once_ready(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["asserted_triples"] > 0
    assert body["inferred_triples"] > 0


def test_requests_never_rebuild_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = kg.graph.knowledge.load_knowledge_graph

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kg.graph.knowledge, "load_knowledge_graph", counting)
    with TestClient(create_app(Settings(why_cache_size=0))) as fresh:
        for finding in ("hypocalcemia", "tetany", "hypokalemia"):
            assert fresh.get("/why", params={"finding": finding}).status_code == 200
        assert fresh.get("/findings").status_code == 200
        assert fresh.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    assert len(calls) == 1


def test_openapi_documents_the_routes_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/why", "/findings", "/entities/{id}", "/links/{id}", "/citations", "/justify", "/sparql"):
        assert path in schema["paths"], path
    assert "/queries/{name}" in schema["paths"]
    assert "examples" in json.dumps(schema["paths"]["/why"])


def test_docs_pages_need_nothing_from_elsewhere(client: TestClient) -> None:
    for page in ("/docs",):
        html = client.get(page).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        assert assets, page
        for url in assets:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            assert client.get(url).status_code == 200, url
        assert "/openapi.json" in html
