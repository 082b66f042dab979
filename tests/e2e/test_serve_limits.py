"""Connection-level limits of a real `mgkg serve` on 127.0.0.1: long request lines, unfinished headers,
malformed requests, the per-client bound by address, and a disconnected client's query being stopped.

Clients are told apart by address: the loopback network is all of 127.0.0.0/8 on Linux, so a socket
bound to 127.0.0.2 is another client than one bound to 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import MgkgStarter

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server(serve_mgkg: MgkgStarter) -> Iterator[str]:
    """`mgkg serve` with one SPARQL worker, one query per client, a 1 s header timeout and no preemption."""
    env = {
        "MGKG_SPARQL_WORKERS": "1",
        "MGKG_SPARQL_PER_CLIENT": "1",
        "MGKG_SPARQL_TIMEOUT_S": "120",
        "MGKG_SPARQL_PREEMPT_S": "120",
        "MGKG_SPARQL_CACHE_BYTES": "0",
        "MGKG_HEADER_TIMEOUT_S": "1",
    }
    with serve_mgkg(env=env) as base:
        yield base


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def exchange(base: str, data: bytes, source: str = "127.0.0.1") -> bytes:
    """Send raw bytes from ``source``, then read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", _port(base)), timeout=60, source_address=(source, 0)) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def problem_of(response: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    """(status, headers, problem body) of a raw HTTP response that must be problem+json."""
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers["content-type"].startswith(PROBLEM), response[:300]
    problem: dict[str, object] = json.loads(body)
    return int(lines[0].split()[1]), headers, problem


def client_from(source: str, base: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=base, transport=transport, timeout=60, trust_env=False)


@pytest.mark.slow
@pytest.mark.parametrize("size", [61_000, 200_000])
def test_a_long_get_gets_a_problem_saying_to_use_post(server: str, size: int) -> None:
    """Just over the app's limit (the app answers) and far over the HTTP parser's (the protocol does)."""
    target = "/sparql?query=" + "a" * size
    status, _, problem = problem_of(exchange(server, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    assert status == 414
    assert problem["status"] == 414
    assert "POST" in str(problem["detail"])


@pytest.mark.slow
def test_a_malformed_request_gets_problem_json(server: str) -> None:
    status, _, problem = problem_of(exchange(server, b"NOT HTTP AT ALL\r\n\r\n"))
    assert status == 400
    assert problem["type"] == "https://w3id.org/mgkg/problems/bad-request"


@pytest.mark.slow
@pytest.mark.parametrize("sent", [b"", b"GET /health HTTP/1.1\r\nHost: x\r\n", b"GET /heal"])
def test_a_connection_that_never_finishes_its_headers_is_closed(server: str, sent: bytes) -> None:
    """Nothing, half a header block, half a request line: the server answers 408 and closes (the read
    ends), instead of holding the connection open."""
    status, headers, _ = problem_of(exchange(server, sent))
    assert status == 408
    assert headers["connection"] == "close"


@pytest.mark.slow
def test_keep_alive_connection_with_a_late_half_request_is_closed(server: str) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    response = exchange(server, request + b"GET /health HTTP/1.1\r\n")
    assert response.startswith(b"HTTP/1.1 200")  # the first request is answered
    assert b'"status": 408' in response  # the unfinished second one times out


@pytest.mark.slow
def test_one_client_is_bounded_and_a_disconnect_frees_the_worker(server: str) -> None:
    """One worker, one query per client: a runaway from 127.0.0.1 makes its next query 429 (with
    Retry-After), not another client's; when it disconnects its query stops and the worker is free."""
    runaway = socket.create_connection(
        ("127.0.0.1", _port(server)), timeout=60, source_address=("127.0.0.1", 0)
    )
    runaway.sendall(f"GET /sparql?query={quote(RUNAWAY)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    with client_from("127.0.0.1", server) as same, client_from("127.0.0.2", server) as other:
        for attempt in range(200):  # until the runaway has been admitted (a moment after it was sent)
            # a join, which needs a worker (one pattern alone is answered in the server process)
            query = f"ASK {{ ?s{attempt} ?p ?o . ?o ?q ?r }}"
            response = same.get("/sparql", params={"query": query})
            if response.status_code == 429:
                break
        assert response.status_code == 429, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert int(response.headers["Retry-After"]) >= 1
        assert "MGKG_SPARQL_PER_CLIENT" in response.json()["detail"]
        assert other.get("/health").status_code == 200
        runaway.close()  # the client goes away: its query is stopped and the only worker replaced
        answer = other.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})  # else it waits 120 s
        assert answer.status_code == 200, answer.text
        assert answer.json()["boolean"] is True
        again = same.get("/sparql", params={"query": "ASK { ?x ?p ?o }"})  # its bound is free too
        assert again.status_code == 200, again.text
