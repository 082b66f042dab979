"""The exports: `mgkg export --format kgx-tsv|kgx-jsonl|sssom`, GET /export/kgx and /export/sssom."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.config import Settings
from kg.causal.network import network_of
from kg.graph.knowledge import KnowledgeGraph
from kg.translator.kgx import EDGE_COLUMNS, NODE_COLUMNS

runner = CliRunner()


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def test_cli_writes_kgx_tsv_nodes_and_edges(tmp_path: Path, knowledge_graph: KnowledgeGraph) -> None:
    result = runner.invoke(app, ["export", "--format", "kgx-tsv", "-o", str(tmp_path / "mgkg")])
    assert result.exit_code == 0, result.output
    nodes = _rows((tmp_path / "mgkg_nodes.tsv").read_text(encoding="utf-8"))
    edges = _rows((tmp_path / "mgkg_edges.tsv").read_text(encoding="utf-8"))
    assert tuple(nodes[0]) == NODE_COLUMNS
    assert tuple(edges[0]) == EDGE_COLUMNS
    assert len(edges) == network_of(knowledge_graph).graph.number_of_edges()
    assert "HP:0002917" in {n["id"] for n in nodes}


def test_cli_writes_kgx_jsonl(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "-f", "kgx-jsonl", "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    edges = [json.loads(line) for line in (tmp_path / "out_edges.jsonl").read_text().splitlines()]
    assert {e["primary_knowledge_source"] for e in edges} == {"infores:mgkg"}


def test_cli_kgx_needs_an_output_prefix() -> None:
    result = runner.invoke(app, ["export", "--format", "kgx-tsv"])
    assert result.exit_code == 2
    assert "-o PREFIX" in result.output


def test_cli_prints_sssom() -> None:
    result = runner.invoke(app, ["export", "--format", "sssom"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("#mapping_set_id: https://w3id.org/mgkg/")
    assert "mgkgid:hypomagnesemia\thypomagnesemia\tskos:exactMatch\tHP:0002917" in result.stdout


def test_rest_serves_kgx_and_sssom(client: TestClient, knowledge_graph: KnowledgeGraph) -> None:
    nodes = client.get("/export/kgx/nodes")
    assert nodes.status_code == 200
    assert nodes.headers["content-type"].startswith("text/tab-separated-values")
    rows = _rows(nodes.text)
    assert len(rows) == network_of(knowledge_graph).graph.number_of_nodes()
    edges = client.get("/export/kgx/edges", params={"format": "jsonl"})
    assert edges.headers["content-type"].startswith("application/jsonl")
    assert len(edges.text.splitlines()) == network_of(knowledge_graph).graph.number_of_edges()
    sssom = client.get("/export/sssom")
    assert sssom.status_code == 200
    assert "skos:exactMatch" in sssom.text
    assert client.get("/export/kgx/nodes", params={"format": "csv"}).status_code == 422
    assert client.get("/export/kgx/links").status_code == 422
