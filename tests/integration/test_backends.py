"""Store backends: the setting that chooses them, and an on-disk store reopened with no parse or reasoning."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any

import pytest
import rdflib
from fastapi.testclient import TestClient
from pydantic import ValidationError

import kg.graph.asserted
import kg.graph.knowledge
import kg.graph.reasoning
from api.app import create_app
from api.config import Settings
from kg.causal.network import network_of
from kg.causal.recommend import advise, load_recommendations
from kg.causal.why import explain
from kg.errors import SourceSyntaxError
from kg.graph.knowledge import KnowledgeGraph
from kg.render.document import compact, expand_json
from kg.stores.base import StoreSpec
from kg.stores.registry import parse_store_setting
from tests.conftest import RESOURCES


@pytest.mark.parametrize("text", ["disk", "oxigraph:", "sparql:ftp://x", "memory:x"])
def test_unknown_store_settings_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="oxigraph:PATH"):
        parse_store_setting(text)
    with pytest.raises(ValidationError):
        Settings(store=text)


def test_oxigraph_store_reopens_without_parsing_or_reasoning(
    oxigraph_store: Path, knowledge_graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def forbidden(*args: object, **kwargs: object) -> object:
        raise AssertionError("an oxigraph: store must not parse Turtle or reason at start-up")

    stock_parse = rdflib.Graph.parse

    def ntriples_only(graph: rdflib.Graph, *args: Any, **kwargs: Any) -> rdflib.Graph:
        # the store hands its causal view to rdflib as N-Triples; a source file (Turtle) must not be read
        if kwargs.get("format") != "nt":
            forbidden()
        return stock_parse(graph, *args, **kwargs)

    # Patched where every caller looks them up, whatever its imports: rdflib's parse is a method of the
    # class (the Dataset's parse ends in it too), materialize is looked up in its own module by
    # load_or_materialize, and the stores import load_knowledge_graph when they call it.
    monkeypatch.setattr(rdflib.Graph, "parse", ntriples_only)
    monkeypatch.setattr(kg.graph.reasoning, "materialize", forbidden)
    monkeypatch.setattr(kg.graph.knowledge, "load_knowledge_graph", forbidden)
    # the patches take effect: what a memory store does at start-up now fails (a parse failure is reported
    # as the file's syntax error, with the message kept)
    with pytest.raises(SourceSyntaxError, match="must not parse"):
        kg.graph.asserted.load_asserted()
    with pytest.raises(AssertionError, match="must not parse"):
        kg.graph.reasoning.load_or_materialize(knowledge_graph.asserted, tmp_path / "empty-cache")
    with (
        pytest.raises((AssertionError, SourceSyntaxError), match="must not parse"),
        TestClient(create_app(Settings(cache_dir=tmp_path))),
    ):
        pass
    with TestClient(create_app(Settings(store=f"oxigraph:{oxigraph_store}"))) as client:
        health = client.get("/health").json()
        assert health["asserted_triples"] == len(knowledge_graph.asserted.graph)
        assert health["inferred_triples"] == len(knowledge_graph.inferred)
        answer = client.get("/why", params={"finding": "hypocalcemia"}).json()
    network = network_of(knowledge_graph)
    expected = advise(
        explain(network, "hypocalcemia"), load_recommendations(knowledge_graph.asserted.graph, network)
    )
    assert expected.recommendations, "the store's causal view keeps the recommendations"
    assert answer == compact(expected).model_dump(mode="json")


def test_missing_oxigraph_store_says_how_to_create_it(tmp_path: Path) -> None:
    app = create_app(Settings(store=f"oxigraph:{tmp_path / 'none'}"))
    with pytest.raises(FileNotFoundError, match="mgkg load --store oxigraph:"), TestClient(app):
        pass


def test_why_over_an_oxigraph_store_searches_causal_links_loaded_beside_mgkg(
    knowledge_graph: KnowledgeGraph, tmp_path: Path
) -> None:
    from kg.stores.base import EXTERNAL_GRAPH
    from kg.stores.oxigraph import load_oxigraph

    user_file = RESOURCES / "load" / "user-link.ttl"
    folder = tmp_path / "store"
    load_oxigraph(StoreSpec("oxigraph", str(folder)), [user_file], EXTERNAL_GRAPH, knowledge_graph)
    with TestClient(create_app(Settings(store=f"oxigraph:{folder}"))) as client:
        answer = client.get("/why", params={"finding": "user palpitations"})
        by_entity = client.get("/why", params={"finding": "user heart rhythm"})
        shipped = client.get("/why", params={"finding": "hypocalcemia"}).json()
    assert answer.status_code == 200, answer.text
    explanation = expand_json(answer.json())
    assert explanation.status == "explained"
    last_steps = [path.steps[-1] for path in explanation.paths]
    assert last_steps
    for step in last_steps:
        assert step.subject.iri == "https://w3id.org/mgkg/id/hypokalemia"
        assert [c.identifier for c in step.citations] == ["user-2026:1"]
        assert step.citations[0].document == "A user's own source"
        assert [ref.iri for ref in step.links] == ["https://example.org/mine/link-hypokalemia-palpitations"]
    assert expand_json(by_entity.json()).finding.iri == "https://example.org/mine/palpitations"
    # mgkg's own answers are unchanged, and a plain (non-causal) edge of the loaded file is not a link
    network = network_of(knowledge_graph)
    expected = advise(
        explain(network, "hypocalcemia"), load_recommendations(knowledge_graph.asserted.graph, network)
    )
    assert shipped == compact(expected).model_dump(mode="json")
    assert all(
        step.subject.iri != "https://example.org/mine/gene-1"
        for path in explanation.paths
        for step in path.steps
    )


# --- the reasoner setting (MGKG_REASONER, --reasoner) ---------------------------------------------


def engines_used(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record the engine every load_knowledge_graph call is given (the real function still runs)."""
    used: list[object] = []
    original = kg.graph.knowledge.load_knowledge_graph

    def recording(*args: object, **kwargs: object) -> object:
        used.append(kwargs.get("engine", args[2] if len(args) > 2 else None))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kg.graph.knowledge, "load_knowledge_graph", recording)
    return used


def test_reasoner_setting_reaches_the_memory_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(reasoner="hermit")  # type: ignore[arg-type]
    monkeypatch.setenv("MGKG_REASONER", "fast")
    assert Settings().reasoner == "fast"
    used = engines_used(monkeypatch)
    with TestClient(create_app(Settings(cache_dir=tmp_path))) as client:
        assert client.get("/why", params={"finding": "tetany"}).json()["status"] == "explained"
    assert used == ["fast"]
    assert any(path.name.startswith("inferred-") for path in tmp_path.iterdir())


def test_cli_serve_and_load_take_a_reasoner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.delenv("MGKG_REASONER", raising=False)
    served_apps: list[object] = []

    def run(server: uvicorn.Server, *args: object) -> None:
        served_apps.append(server.config.app)
        server.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    runner = CliRunner()
    before = dict(os.environ)
    served = runner.invoke(app, ["serve", "--reasoner", "fast"])
    assert served.exit_code == 0, served.output
    (factory,) = served_apps
    assert isinstance(factory, functools.partial)
    (settings,) = factory.args  # what each uvicorn worker builds its app with
    assert isinstance(settings, Settings)
    assert settings.reasoner == "fast"
    assert dict(os.environ) == before  # the setting travels in the factory, not through the environment
    assert runner.invoke(app, ["serve", "--reasoner", "hermit"]).exit_code == 2
    used = engines_used(monkeypatch)
    store = f"oxigraph:{tmp_path / 'db'}"
    loaded = runner.invoke(
        app, ["load", "--store", store, "--reasoner", "owlrl", "--cache-dir", str(tmp_path / "cache")]
    )
    assert loaded.exit_code == 0, loaded.output
    assert used == ["owlrl"]


# --- the inference cache as /health reports it, on each store kind ----------------------------------


def test_health_says_where_the_inferred_graph_came_from(
    store_setting: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(store=store_setting, cache_dir=tmp_path / "cache", reasoner="fast")
    with caplog.at_level(logging.DEBUG, logger="kg"):
        with TestClient(create_app(settings)) as client:
            first = client.get("/health").json()
        with TestClient(create_app(settings)) as client:
            second = client.get("/health").json()
    decisions = [record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG]
    assert sum(m.startswith(f"opening store {store_setting} as ") for m in decisions) == 2
    assert first["inferred_triples"] > 0
    if store_setting == "memory":
        # reasoned at the first start and written to the cache folder; read back at the second
        assert (first["inference_cache"], second["inference_cache"]) == ("miss", "hit")
        assert [path.name.startswith("inferred-") for path in (tmp_path / "cache").iterdir()] == [True]
        assert any(m.startswith("inference cache miss") for m in decisions)
        assert any(m.startswith("inference cache hit") for m in decisions)
    else:
        # the store holds what `mgkg load` inferred: there is no cache to hit or miss, nor a file
        assert (first["inference_cache"], second["inference_cache"]) == ("none", "none")
        assert not (tmp_path / "cache").exists()
