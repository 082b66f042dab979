"""Store backends: the setting that chooses them, and an on-disk store reopened with no parse or reasoning."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

import kg.graph
import kg.reasoning
import kg.store
from api.app import create_app
from api.config import Settings
from kg.backends import StoreSpec
from kg.explain import explain
from kg.graph import KnowledgeGraph


@pytest.mark.parametrize("text", ["disk", "oxigraph:", "sparql:ftp://x", "memory:x"])
def test_unknown_store_settings_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="oxigraph:PATH"):
        StoreSpec.parse(text)
    with pytest.raises(ValidationError):
        Settings(store=text)


def test_oxigraph_store_reopens_without_parsing_or_reasoning(
    oxigraph_store: Path, knowledge_graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> object:
        raise AssertionError("an oxigraph: store must not parse Turtle or reason at start-up")

    for module, name in (
        (kg.graph, "load_knowledge_graph"),
        (kg.store, "load_asserted"),
        (kg.reasoning, "materialize"),
        (kg.reasoning, "load_or_materialize"),
    ):
        monkeypatch.setattr(module, name, forbidden)
    started = time.perf_counter()
    with TestClient(create_app(Settings(store=f"oxigraph:{oxigraph_store}"))) as client:
        ready = time.perf_counter() - started
        health = client.get("/health").json()
        assert health["asserted_triples"] == len(knowledge_graph.asserted.graph)
        assert health["inferred_triples"] == len(knowledge_graph.inferred)
        answer = client.get("/why", params={"finding": "hypocalcemia"}).json()
    expected = explain(knowledge_graph.network, "hypocalcemia")
    assert answer == expected.model_dump(mode="json")
    assert ready < 5


def test_missing_oxigraph_store_says_how_to_create_it(tmp_path: Path) -> None:
    app = create_app(Settings(store=f"oxigraph:{tmp_path / 'none'}"))
    with pytest.raises(FileNotFoundError, match="mgkg load --store oxigraph:"), TestClient(app):
        pass


def test_why_over_an_oxigraph_store_searches_causal_links_loaded_beside_mgkg(
    knowledge_graph: KnowledgeGraph, tmp_path: Path
) -> None:
    from kg.backends import EXTERNAL_GRAPH
    from kg.load import load_oxigraph

    user_file = Path(__file__).parent / "resources" / "load" / "user-link.ttl"
    folder = tmp_path / "store"
    load_oxigraph(StoreSpec("oxigraph", str(folder)), [user_file], EXTERNAL_GRAPH, knowledge_graph)
    with TestClient(create_app(Settings(store=f"oxigraph:{folder}"))) as client:
        answer = client.get("/why", params={"finding": "user palpitations"})
        by_entity = client.get("/why", params={"finding": "user heart rhythm"})
        shipped = client.get("/why", params={"finding": "hypocalcemia"}).json()
    assert answer.status_code == 200, answer.text
    explanation = answer.json()
    assert explanation["status"] == "explained"
    last_steps = [path["steps"][-1] for path in explanation["paths"]]
    assert last_steps
    for step in last_steps:
        assert step["subject"]["iri"] == "https://w3id.org/mgkg/id/hypokalemia"
        assert [c["identifier"] for c in step["citations"]] == ["user-2026:1"]
        assert step["citations"][0]["document"] == "A user's own source"
        assert [ref["iri"] for ref in step["links"]] == [
            "https://example.org/mine/link-hypokalemia-palpitations"
        ]
    assert by_entity.json()["finding"]["iri"] == "https://example.org/mine/palpitations"
    # mgkg's own answers are unchanged, and a plain (non-causal) edge of the loaded file is not a link
    assert shipped == explain(knowledge_graph.network, "hypocalcemia").model_dump(mode="json")
    assert all(
        step["subject"]["iri"] != "https://example.org/mine/gene-1"
        for path in explanation["paths"]
        for step in path["steps"]
    )
