"""The exports: `mgkg export --format kgx-tsv|kgx-jsonl|sssom`, GET /export?format=kgx-*, /export/kgx and
/export/sssom; KGX checked with `kgx validate` itself, run from its own environment."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.config import Settings
from kg.causal.network import network_of
from kg.graph.knowledge import KnowledgeGraph
from kg.model.vocab import MGKGID
from kg.translator.kgx import EDGE_COLUMNS, NODE_COLUMNS
from tests.conftest import RESOURCES, unavailable

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


# --- `kgx validate` on both exports, run from kgx's own environment (it pins an old click) ---------------

KGX_VENV = Path(os.environ.get("MGKG_KGX_VENV", "/tmp/kgx-venv"))
"""Where kgx is installed apart from mgkg (.ci/run makes it: python -m venv, pip install kgx)."""
OFFLINE_KGX = RESOURCES / "kgx" / "offline_kgx.py"
MGKG_PREFIXES = json.dumps({"mgkgid": str(MGKGID)})
"""mgkg's own node prefix, which Biolink's JSON-LD context does not hold (mgkg is not a Biolink source)."""


def _kgx_validate(*arguments: str | Path, prefixes: str = MGKG_PREFIXES) -> subprocess.CompletedProcess[str]:
    """Run `kgx validate ARGUMENTS` offline in the kgx venv; skips without it, fails without it under CI."""
    python = KGX_VENV / "bin" / "python"
    if not python.exists():
        install = f"python -m venv {KGX_VENV} && {python} -m pip install kgx"
        unavailable(f"no kgx environment at {KGX_VENV} ({install})")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["KGX_EXTRA_PREFIXES"] = prefixes
    return subprocess.run(
        [str(python), str(OFFLINE_KGX), "validate", *map(str, arguments)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def _kgx_report(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """kgx's report: an empty object on stdout when the graph is valid, the errors on stderr otherwise."""
    text = run.stdout if run.returncode == 0 else run.stderr
    start, end = text.find("{"), text.rfind("}")
    report: dict[str, Any] = json.loads(text[start : end + 1]) if start >= 0 else {}
    return report


@pytest.mark.parametrize("fmt", ["kgx-tsv", "kgx-jsonl"])
def test_kgx_validate_accepts_the_cli_export(tmp_path: Path, fmt: str) -> None:
    result = runner.invoke(app, ["export", "--format", fmt, "-o", str(tmp_path / "mgkg")])
    assert result.exit_code == 0, result.output
    suffix = fmt.removeprefix("kgx-")
    run = _kgx_validate("-i", suffix, tmp_path / f"mgkg_nodes.{suffix}", tmp_path / f"mgkg_edges.{suffix}")
    assert run.returncode == 0, run.stderr[-3000:]
    assert _kgx_report(run) == {}


def test_kgx_reads_and_validates_the_rest_archives(client: TestClient, tmp_path: Path) -> None:
    """GET /export?format=kgx-tsv is a .tar.gz kgx reads as it is; the jsonl one holds the jsonl pair."""
    tsv = client.get("/export", params={"format": "kgx-tsv"})
    assert tsv.status_code == 200
    assert tsv.headers["content-type"] == "application/gzip"
    archive = tmp_path / "mgkg-kgx-tsv.tar.gz"
    archive.write_bytes(tsv.content)
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert members == {
        "mgkg_nodes.tsv": client.get("/export/kgx/nodes").text,
        "mgkg_edges.tsv": client.get("/export/kgx/edges").text,
    }
    run = _kgx_validate("-i", "tsv", "-c", "tar.gz", archive)
    assert run.returncode == 0, run.stderr[-3000:]
    jsonl = client.get("/export", params={"format": "kgx-jsonl"})
    with tarfile.open(fileobj=io.BytesIO(jsonl.content)) as tar:
        tar.extractall(tmp_path / "jsonl", filter="data")
    assert (tmp_path / "jsonl" / "mgkg_edges.jsonl").read_text() == client.get(
        "/export/kgx/edges", params={"format": "jsonl"}
    ).text
    run = _kgx_validate(
        "-i", "jsonl", tmp_path / "jsonl" / "mgkg_nodes.jsonl", tmp_path / "jsonl" / "mgkg_edges.jsonl"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    scoped = client.get("/export", params={"format": "kgx-tsv", "finding": "hypocalcemia"})
    assert scoped.status_code == 400
    assert scoped.headers["content-type"] == "application/problem+json"


def test_kgx_validate_catches_a_broken_export(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "--format", "kgx-tsv", "-o", str(tmp_path / "mgkg")])
    assert result.exit_code == 0, result.output
    nodes, edges = tmp_path / "mgkg_nodes.tsv", tmp_path / "mgkg_edges.tsv"
    nodes.write_text(nodes.read_text().replace("biolink:PhenotypicFeature", "biolink:MadeUpThing"))
    edges.write_text(edges.read_text().replace("\tbiolink:causes\t", "\tbiolink:made_up_predicate\t"))
    run = _kgx_validate("-i", "tsv", nodes, edges)
    assert run.returncode != 0
    errors = _kgx_report(run)["ERROR"]
    assert {"INVALID_CATEGORY", "INVALID_EDGE_PREDICATE"} <= set(errors)


def test_without_mgkg_prefix_kgx_objects_only_to_the_mgkgid_ids(tmp_path: Path) -> None:
    """Biolink's own context knows HP, CHEBI, GO, ... but not mgkgid: the nodes no standard CURIE names."""
    result = runner.invoke(app, ["export", "--format", "kgx-tsv", "-o", str(tmp_path / "mgkg")])
    assert result.exit_code == 0, result.output
    run = _kgx_validate("-i", "tsv", tmp_path / "mgkg_nodes.tsv", tmp_path / "mgkg_edges.tsv", prefixes="{}")
    errors = _kgx_report(run)["ERROR"]
    assert set(errors) == {"INVALID_NODE_PROPERTY_VALUE", "INVALID_EDGE_PROPERTY_VALUE"}
    messages = [message for kind in errors.values() for message in kind]
    assert messages
    assert all("CURIE prefix 'mgkgid'" in message for message in messages)
