"""The SPARQL door cannot be talked into fetching: the guard reads what the engine reads, and the
workers cannot open a socket even when the guard is switched off (issue 11 §1-2).

Every test that could make the server fetch points it at a recording HTTP listener on 127.0.0.1 that
answers like a SPARQL endpoint (so that a fetch would succeed) and records every connection. The HTTP
tests run on the memory store and the on-disk Oxigraph store (the stores whose queries run in the
sandboxed workers); the remote store forwards queries to another server, where the guard is the only
line (its refusals are covered by tests/integration/api/test_sparql_refusals.py on every backend).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from kg.sparql import check_query
from tests.conftest import Listener, MgkgStarter

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _fresh_listener(request: pytest.FixtureRequest) -> None:
    if "listener" in request.fixturenames:
        request.getfixturevalue("listener").connections.clear()


def _store(backend: str, request: pytest.FixtureRequest) -> str:
    return "memory" if backend == "memory" else f"oxigraph:{request.getfixturevalue('oxigraph_store')}"


@pytest.fixture(scope="module", params=["memory", "oxigraph"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The service with its guard and its sandbox, on each local store."""
    settings = Settings(store=_store(request.param, request), sparql_timeout_s=3.0, sparql_cache_bytes=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def assert_problem(response: httpx.Response, *statuses: int) -> dict[str, object]:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()
    assert body["detail"]
    return body


def _ssrf(url: str) -> str:
    return f"SELECT * WHERE {{ # \r SERVICE <{url}/x> {{ ?a ?b ?c }} # \n }}"


def _send(client: TestClient, how: str, query: str) -> httpx.Response:
    response: httpx.Response
    if how == "get":
        response = client.get("/sparql", params={"query": query})
    elif how == "form":
        response = client.post("/sparql", data={"query": query})
    else:
        headers = {"Content-Type": "application/sparql-query"}
        response = client.post("/sparql", content=query, headers=headers)
    return response


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_comment_ended_by_cr_does_not_hide_service(client: TestClient, listener: Listener, how: str) -> None:
    """The SSRF of issue 11: rdflib read the SERVICE as part of a comment, Oxigraph ran it."""
    body = assert_problem(_send(client, how, _ssrf(listener.url)), 403)
    assert body["type"] == "refused-service" or str(body["type"]).endswith("refused-service")
    assert listener.connections == []


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ # \r\n SERVICE <{url}/x> {{ ?a ?b ?c }} }}",
        "SELECT * WHERE {{ # \u2028 SERVICE <{url}/x> {{ ?a ?b ?c }} \n }}",
        "SELECT * WHERE {{ # \\u000D SERVICE <{url}/x> {{ ?a ?b ?c }} \n }}",
        "SELECT * WHERE {{ \\u0053ERVICE <{url}/x> {{ ?a ?b ?c }} }}",
        "SELECT * WHERE {{ \\U00000053eRvIcE SILENT <{url}/x> {{ ?a ?b ?c }} }}",
        "LOAD <{url}/g>",
    ],
)
def test_variants_are_refused_and_fetch_nothing(
    client: TestClient, listener: Listener, template: str
) -> None:
    assert_problem(_send(client, "get", template.format(url=listener.url)), 400, 403)
    assert listener.connections == []


@pytest.mark.parametrize("how", ["get", "form", "direct"])
@pytest.mark.parametrize(
    "template",
    [
        "SELECT * FROM <{url}/g> WHERE {{ ?a ?b ?c }}",
        "SELECT * FROM NAMED <{url}/g> WHERE {{ GRAPH ?g {{ ?a ?b ?c }} }}",
        "SELECT * FROM <{url}/g> FROM NAMED <{url}/h> WHERE "
        "{{ {{ ?a ?b ?c }} UNION {{ GRAPH ?g {{ ?a ?b ?c }} }} }}",
    ],
)
def test_a_graph_named_by_url_is_an_empty_graph_never_fetched(
    client: TestClient, listener: Listener, template: str, how: str
) -> None:
    """As the SPARQL Protocol reads it (and Oxigraph): a graph the store does not hold is empty."""
    response = _send(client, how, template.format(url=listener.url))
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"] == []
    assert listener.connections == []


def test_cli_query_refuses_the_ssrf(listener: Listener, request: pytest.FixtureRequest) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    for backend in ("memory", "oxigraph"):
        runner = CliRunner(env={"MGKG_STORE": _store(backend, request)})
        result = runner.invoke(app, ["query", _ssrf(listener.url)])
        assert result.exit_code != 0
        assert "SERVICE" in result.output
        assert "Traceback" not in result.output
    assert listener.connections == []


def test_health_reports_the_sandbox(client: TestClient) -> None:
    assert client.get("/health").json()["egress_sandbox"] is True


@pytest.mark.parametrize("backend", ["memory", "oxigraph"])
def test_sandbox_alone_stops_every_request(
    backend: str, listener: Listener, request: pytest.FixtureRequest
) -> None:
    """With the guard switched off (MGKG_SPARQL_GUARD, tests only), the workers still cannot reach out;
    with the sandbox off too, the same queries do reach the listener (so the test can see a fetch)."""
    store = _store(backend, request)
    service = f"SELECT * WHERE {{ SERVICE <{listener.url}/s> {{ ?a ?b ?c }} }}"
    silent = f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}/s> {{ ?a ?b ?c }} }}"
    dataset = f"SELECT * FROM <{listener.url}/f> FROM NAMED <{listener.url}/n> WHERE {{ ?a ?b ?c }}"
    update = f"LOAD <{listener.url}/l>"
    settings = Settings(store=store, sparql_guard=False, sparql_workers=1, sparql_cache_bytes=0)
    with TestClient(create_app(settings)) as unguarded:
        assert unguarded.get("/health").json()["egress_sandbox"] is True
        body = assert_problem(unguarded.get("/sparql", params={"query": service}), 403)
        assert "network" in str(body["detail"])
        quiet = unguarded.get("/sparql", params={"query": silent})
        assert quiet.status_code == 200, quiet.text
        assert "leak" not in quiet.text
        assert unguarded.get("/sparql", params={"query": dataset}).status_code == 200
        assert_problem(unguarded.get("/sparql", params={"query": update}), 400, 403)  # engine: no LOAD
    assert listener.connections == []
    open_settings = Settings(
        store=store, sparql_guard=False, sparql_egress_sandbox=False, sparql_workers=1, sparql_cache_bytes=0
    )
    with TestClient(create_app(open_settings)) as wide_open:
        assert wide_open.get("/health").json()["egress_sandbox"] is False
        assert "leak" in wide_open.get("/sparql", params={"query": service}).text
    assert listener.connections  # the control: without the sandbox, the engine does fetch


DEEP = "SELECT * WHERE " + "{" * 9_000 + " ?s ?p ?o " + "}" * 9_000


@pytest.mark.parametrize(
    ("query", "status"),
    [
        (DEEP, 400),  # would kill a worker (Oxigraph's parser overflows its stack)
        ("SELECT * WHERE " + "{" * 40 + " ?s ?p ?o " + "}" * 40 + " # service", 200),
        ("SELECT * WHERE { ?s ?p -1.0 } LIMIT 1", 200),  # rdflib raises TypeError; the screen passes it
        # a variable called ?from is no keyword: screened too (kg.sparql.clauses), as Oxigraph reads it
        ("SELECT ?from WHERE { ?from ?p -1.0 }", 200),
        # ... but a prefix called service: might be SERVICE to an engine, so rdflib must read it: refused
        ("PREFIX service: <urn:x#> SELECT * WHERE { ?s service:p -1.0 }", 400),
        ('SELECT ("\\u00530041" AS ?x) {}', 200),  # rdflib's own expansion raised ValueError here
        ('SELECT ("\\u005C" AS ?x) {}', 400),  # an escape that makes a backslash: ambiguous
        ('SELECT ("\\\\u0041" AS ?x) {}', 400),  # an escape after a backslash: ambiguous
        ("SELECT ?x WHERE { BIND(\\U0041 AS ?x) }", 400),  # rdflib would expand it, Oxigraph would not
        ("SELECT * WHERE { ?s ?p ?o ", 400),
    ],
)
def test_the_guard_never_answers_500(client: TestClient, query: str, status: int) -> None:
    response = (
        client.get("/sparql", params={"query": query}) if len(query) < 4000 else _send(client, "form", query)
    )
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        body = assert_problem(response, status)
        assert "Traceback" not in str(body["detail"])
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_normalised_text_is_what_runs(client: TestClient) -> None:
    """A CR ends a comment for every reader now: the BIND after it is code, on both parsers."""
    text = "SELECT ?x WHERE { # comment\r BIND(\\u0022hi\\u0022 AS ?x) }"
    assert check_query(text).text == 'SELECT ?x WHERE { # comment\n BIND("hi" AS ?x) }'
    response = client.get("/sparql", params={"query": text, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.text.split() == ["x", "hi"]


def test_a_slow_guard_parse_blocks_no_one(request: pytest.FixtureRequest) -> None:
    """A long expression the screen cannot pass (rdflib takes seconds on it) is read in a parser process
    within the time limit; meanwhile other requests are answered."""
    # a prefix called service: might be SERVICE to some engine, so rdflib reads the text
    slow = (
        "PREFIX service: <urn:x#> SELECT ?v WHERE { BIND("
        + "+".join(["1"] * 6_000)
        + " AS ?v) ?v service:p ?o }"
    )
    settings = Settings(sparql_timeout_s=1.0, sparql_max_query_chars=20_000, sparql_cache_bytes=0)
    with TestClient(create_app(settings)) as test_client, ThreadPoolExecutor(max_workers=2) as pool:
        stuck = pool.submit(test_client.post, "/sparql", data={"query": slow})
        for _ in range(3):
            assert test_client.get("/health").status_code == 200
            assert test_client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
        body = assert_problem(stuck.result(), 504)
        assert "guard" in str(body["detail"])


@pytest.fixture(scope="module")
def server(serve_mgkg: MgkgStarter) -> Iterator[str]:
    """`mgkg serve` with the default settings; yields its base URL."""
    with serve_mgkg() as base:
        yield base


@pytest.mark.slow
def test_keep_alive_survives_guard_errors(server: str, listener: Listener) -> None:
    """One connection: every kind of guard error, each answered as problem+json without closing it."""
    bad = [
        _ssrf(listener.url),
        DEEP,
        "PREFIX service: <urn:x#> SELECT * WHERE { ?s service:p -1.0 }",  # rdflib's TypeError
        'ASK { "\\u005C" }',
        "ASK {",
    ]
    with httpx.Client(base_url=server, timeout=30) as http:
        for query in bad:
            response = http.post("/sparql", data={"query": query})
            assert_problem(response, 400, 403)
            assert response.headers.get("connection", "").lower() != "close"
            assert http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
        assert http.get("/health").json()["egress_sandbox"] is True
    assert listener.connections == []


def test_without_seccomp_the_service_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A platform without the filter (here: a pyseccomp that cannot be imported, as where libseccomp is
    missing): the service starts, logs a warning, and /health says the sandbox is not in force."""
    folder = tmp_path
    (folder / "pyseccomp.py").write_text("raise ImportError('no libseccomp on this platform')\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]))
    with TestClient(create_app(Settings(sparql_workers=1))) as bare:
        assert bare.get("/health").json()["egress_sandbox"] is False
        assert bare.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
    assert any("WITHOUT the egress sandbox" in record.getMessage() for record in caplog.records)


def test_remote_store_gets_the_normalised_text_and_no_ssrf(oxigraph_server: str, listener: Listener) -> None:
    """The remote store (here a real Oxigraph server, which would run SERVICE itself): the guard is the
    only line, /health says so, and the text it forwards is the normalised one."""
    settings = Settings(store=f"sparql:{oxigraph_server}", sparql_cache_bytes=0)
    with TestClient(create_app(settings)) as remote:
        assert remote.get("/health").json()["egress_sandbox"] is False
        for how in ("get", "form", "direct"):
            assert_problem(_send(remote, how, _ssrf(listener.url)), 403)
        text = "SELECT ?x WHERE { # comment\r BIND(\\u0022hi\\u0022 AS ?x) }"
        response = remote.get("/sparql", params={"query": text, "format": "csv"})
        assert response.status_code == 200, response.text
        assert response.text.split() == ["x", "hi"]
    assert listener.connections == []


# --- SPARQL 1.2 with a dataset clause, and the words FROM and SERVICE (issue 12) -----------------------
ASSERTED = "https://w3id.org/mgkg/graph/asserted"


def _rows(client: TestClient, query: str) -> list[dict[str, object]]:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    rows: list[dict[str, object]] = response.json()["results"]["bindings"]
    return rows


def test_sparql_12_with_a_dataset_clause_is_answered(client: TestClient) -> None:
    """What rdflib refused (a 400) and Oxigraph answers: the FROM graph is read, an absent one is empty."""
    counted = f"SELECT (COUNT(*) AS ?n) FROM <{ASSERTED}> WHERE {{ ?s ?p ?o BIND(<<( ?s ?p ?o )>> AS ?t) }}"
    plain = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ASSERTED}> {{ ?s ?p ?o }} }}"
    assert int(str(_rows(client, plain)[0]["n"]["value"])) > 0  # type: ignore[index]
    assert _rows(client, counted) == _rows(client, plain)
    assert _rows(client, "SELECT * FROM <urn:g> WHERE { ?s ?p <<( ?a ?b ?c )>> }") == []  # not held: empty
    named = (
        f"VERSION '1.2' SELECT ?from (COUNT(*) AS ?n) FROM NAMED <{ASSERTED}> "
        "WHERE { GRAPH ?from { ?s ?p ?o } } GROUP BY ?from"
    )
    assert [row["from"]["value"] for row in _rows(client, named)] == [ASSERTED]  # type: ignore[index]


def test_words_in_comments_strings_and_names_change_no_answer(client: TestClient) -> None:
    query = (
        "PREFIX mgkg: <https://w3id.org/mgkg/vocab#>\n"
        f"SELECT ?x FROM <{ASSERTED}> WHERE {{ ?x a ?c }} ORDER BY ?x LIMIT 5"
    )
    expected = _rows(client, query)
    assert expected
    for variant in [
        query.replace("WHERE", "# SERVICE <http://127.0.0.1:9/> { } FROM <urn:elsewhere>\nWHERE"),
        query.replace(
            "?x a ?c", "?x a ?c FILTER(STR(?c) != 'SERVICE <http://127.0.0.1:9/> {} FROM <urn:x>')"
        ),
        query.replace("?x a ?c", "?x a ?c OPTIONAL { ?x mgkg:service ?from }").replace(
            "SELECT ?x", "SELECT ?x"
        ),
        "VERSION '1.2'\n" + query.replace("?x a ?c", "?x a ?c BIND(<<( ?x a ?c )>> AS ?service)"),
    ]:
        assert _rows(client, variant) == expected, variant


def test_service_in_sparql_12_is_refused_as_ever(client: TestClient, listener: Listener) -> None:
    """A SERVICE call is refused with the same 403 and wording whether rdflib can read the text or not."""
    for query in [
        f"SELECT * WHERE {{ SERVICE <{listener.url}/s> {{ ?s ?p ?o }} }}",  # SPARQL 1.1
        f"VERSION '1.2' SELECT * WHERE {{ SERVICE <{listener.url}/s> {{ ?s ?p <<( ?a ?b ?c )>> }} }}",
        f"SELECT * FROM <{ASSERTED}> WHERE {{ ?s ?p ?o {{| ?q ?r |}} SERVICE <{listener.url}/s> {{ }} }}",
    ]:
        body = assert_problem(client.get("/sparql", params={"query": query}), 403)
        assert str(body["type"]).endswith("refused-service")
        assert str(body["detail"]).startswith(f"SERVICE <{listener.url}/s> is refused: this endpoint never")
    assert listener.connections == []
