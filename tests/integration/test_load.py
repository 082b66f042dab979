"""`mgkg load`: streaming external RDF into an on-disk or a remote store, all or nothing per file."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

import kg.graph.knowledge
from api.cli import app
from kg.graph.knowledge import KnowledgeGraph
from kg.stores.base import EXTERNAL_GRAPH, StoreSpec
from kg.stores.load import BrokenFileError
from kg.stores.oxigraph import load_oxigraph
from kg.stores.remote import RemoteWriter, load_remote
from tests.conftest import RESOURCES

LOAD = RESOURCES / "load"
COUNT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def counts_on_disk(folder: Path) -> dict[str, int]:
    store = ox.Store.read_only(str(folder))
    return {str(s["g"].value): int(s["n"].value) for s in store.query(COUNT)}  # type: ignore[union-attr]


def counts_remote(endpoint: str) -> dict[str, int]:
    response = httpx.post(
        endpoint, data={"query": COUNT}, headers={"Accept": "application/sparql-results+json"}
    )
    return {r["g"]["value"]: int(r["n"]["value"]) for r in response.json()["results"]["bindings"]}


def test_files_of_every_kind_go_into_the_named_graph(tmp_path: Path) -> None:
    spec = StoreSpec("oxigraph", str(tmp_path / "db"))
    files = [LOAD / "good.ttl", LOAD / "good.nq", LOAD / "good.nt.gz"]
    report = load_oxigraph(spec, files, EXTERNAL_GRAPH, None)
    counts = counts_on_disk(tmp_path / "db")
    assert counts == {EXTERNAL_GRAPH: 2 + 2 + 1}  # quads lose their own graph: all go where asked
    assert [n for _, n in report.files] == [2, 2, 1]


@pytest.mark.parametrize("first", [None, "good.ttl"])
def test_a_broken_file_says_where_and_leaves_the_store_as_it_was(tmp_path: Path, first: str | None) -> None:
    spec = StoreSpec("oxigraph", str(tmp_path / "db"))
    load_oxigraph(spec, [LOAD / first] if first else [], EXTERNAL_GRAPH, None)
    before = counts_on_disk(tmp_path / "db")
    with pytest.raises(BrokenFileError) as caught:
        load_oxigraph(spec, [LOAD / "broken.nt"], EXTERNAL_GRAPH, None)
    assert caught.value.path == LOAD / "broken.nt"
    assert caught.value.line == 3
    assert counts_on_disk(tmp_path / "db") == before


def test_cli_load_then_query_the_store(tmp_path: Path, knowledge_graph: KnowledgeGraph) -> None:
    runner = CliRunner()
    store = f"oxigraph:{tmp_path / 'db'}"
    loaded = runner.invoke(app, ["load", str(LOAD / "good.ttl"), "--store", store, "--graph", "urn:mine"])
    assert loaded.exit_code == 0, loaded.output
    broken = runner.invoke(app, ["load", str(LOAD / "broken.nt"), "--store", store])
    assert broken.exit_code != 0
    assert "broken.nt:3" in broken.output.replace("\n", "")
    counts = counts_on_disk(tmp_path / "db")
    assert counts["urn:mine"] == 2
    assert counts["https://w3id.org/mgkg/graph/asserted"] == len(knowledge_graph.asserted.graph)
    assert EXTERNAL_GRAPH not in counts
    query = runner.invoke(
        app, ["query", "SELECT ?o FROM <urn:mine> WHERE { ?s ?p ?o }", "--store", store, "--format", "tsv"]
    )
    assert query.exit_code == 0, query.output
    assert '"TRPM6"' in query.output


def test_memory_store_cannot_be_loaded() -> None:
    result = CliRunner().invoke(app, ["load", str(LOAD / "good.ttl"), "--store", "memory"])
    assert result.exit_code != 0
    assert "oxigraph:PATH" in result.output


@pytest.mark.parametrize(
    ("store", "says"),
    [("memory", "oxigraph:PATH"), ("sparql:http://127.0.0.1:9/query", "needs a write URL")],
)
def test_a_store_that_cannot_be_written_says_so_before_any_reasoning(
    store: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> object:
        raise AssertionError("the mgkg graphs were built for a store that cannot be written")

    monkeypatch.setattr(kg.graph.knowledge, "load_knowledge_graph", forbidden)
    result = CliRunner().invoke(app, ["load", str(LOAD / "good.ttl"), "--store", store])
    assert result.exit_code == 1, result.output
    assert says in " ".join(result.output.split())


def test_cli_load_into_a_remote_store(writable_server: str, knowledge_graph: KnowledgeGraph) -> None:
    cache = knowledge_graph.cache.path
    assert cache is not None
    store = f"sparql:{writable_server}/query"
    args = ["load", str(LOAD / "good.ttl"), "--store", store, "--gsp-url", f"{writable_server}/store"]
    loaded = CliRunner().invoke(app, [*args, "--cache-dir", str(cache.parent), "--graph", "urn:mine"])
    assert loaded.exit_code == 0, loaded.output
    counts = counts_remote(f"{writable_server}/query")
    assert counts["urn:mine"] == 2
    assert counts["https://w3id.org/mgkg/graph/asserted"] == len(knowledge_graph.asserted.graph)


@pytest.mark.parametrize("mode", ["gsp", "update"])
def test_remote_load_writes_through_the_protocol_and_refuses_broken_files(
    writable_server: str, knowledge_graph: KnowledgeGraph, mode: str
) -> None:
    spec = StoreSpec("sparql", f"{writable_server}/query")
    writer = (
        RemoteWriter(gsp_url=f"{writable_server}/store")
        if mode == "gsp"
        else RemoteWriter(update_url=f"{writable_server}/update")
    )
    load_remote(spec, [LOAD / "good.ttl", LOAD / "good.nt.gz"], EXTERNAL_GRAPH, knowledge_graph, writer)
    before = counts_remote(spec.location)
    assert before[EXTERNAL_GRAPH] == 3
    assert before["https://w3id.org/mgkg/graph/inferred"] == len(knowledge_graph.inferred)
    with pytest.raises(BrokenFileError):
        load_remote(spec, [LOAD / "good.ttl", LOAD / "broken.nt"], EXTERNAL_GRAPH, None, writer)
    assert counts_remote(spec.location) == before


def test_oxigraph_cli_is_installed_under_ci() -> None:
    """The remote-store tests need the `oxigraph` server; CI must have it (they fail, not skip, there)."""
    import os

    if os.environ.get("CI") == "true":
        assert shutil.which("oxigraph"), "pip install oxigraph (test extra)"
