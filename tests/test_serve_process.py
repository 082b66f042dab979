"""A real `mgkg serve` process, queried with a real SPARQL client (SPARQLWrapper) and plain HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from SPARQLWrapper import JSON, SPARQLWrapper

QUERY = """PREFIX mgkg: <https://w3id.org/mgkg/vocab#>
PREFIX mgkgid: <https://w3id.org/mgkg/id/>
SELECT ?x WHERE { ?x mgkg:causallyUpstreamOf mgkgid:hypocalcemia }"""
ASK = """PREFIX mgkg: <https://w3id.org/mgkg/vocab#>
PREFIX mgkgid: <https://w3id.org/mgkg/id/>
ASK { mgkgid:hypomagnesemia mgkg:causallyUpstreamOf mgkgid:hypocalcemia }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `mgkg serve` on a free port, wait for /health, yield its base URL, then stop it."""
    port = free_port()
    mgkg = shutil.which("mgkg")
    command = [mgkg] if mgkg else [sys.executable, "-m", "kg.cli"]
    log = tmp_path_factory.mktemp("serve") / "server.log"
    base = f"http://127.0.0.1:{port}"
    with (
        log.open("wb") as sink,
        subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MGKG_SPARQL_TIMEOUT_S": "5"},
        ) as process,
    ):
        try:
            deadline = time.monotonic() + 120
            while not _healthy(base):
                if process.poll() is not None:
                    pytest.fail(f"mgkg serve exited with {process.returncode}:\n{log.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail("mgkg serve did not answer /health within 120 s")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.TransportError:  # not listening yet
        return False


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
    assert body["finding"]["label"] == "hypocalcemia"
    assert body["paths"]
