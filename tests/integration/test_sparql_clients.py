"""SPARQL as other endpoints speak it (issue 12): relative IRIs, the dataset of the protocol, the clients'
own parameters (format hints, Accept: application/json), refusals, CORS, the service description and the
editor page; through the app's HTTP surface on every local store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.config import Settings
from kg.sparql.named_queries import load_named_queries
from kg.stores.base import StoreSpec
from kg.stores.oxigraph import load_oxigraph
from tests.conftest import RESOURCES

LOAD = RESOURCES / "load"


@pytest.fixture(scope="module", params=["memory", "oxigraph"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    store = "memory"
    if request.param == "oxigraph":
        store = f"oxigraph:{request.getfixturevalue('oxigraph_store')}"
    with TestClient(create_app(Settings(store=store, sparql_cache_bytes=0))) as test_client:
        yield test_client


ENDPOINT = "http://testserver/sparql"


def test_a_relative_iri_resolves_against_the_endpoint(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT (<x> AS ?x) {}"})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"] == [{"x": {"type": "uri", "value": "http://testserver/x"}}]


def test_relative_iris_in_patterns_and_templates(client: TestClient) -> None:
    ask = client.get("/sparql", params={"query": "ASK { <a> <b> <c> }"})
    assert ask.status_code == 200, ask.text
    assert ask.json()["boolean"] is False
    graph = client.get("/sparql", params={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}", "format": "ntriples"})
    assert graph.status_code == 200, graph.text
    assert "<http://testserver/s> <http://testserver/p>" in graph.text


def test_a_base_declared_in_the_query_wins(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "BASE <http://example.org/kb/> SELECT (<x> AS ?x) {}"})
    assert response.json()["results"]["bindings"][0]["x"]["value"] == "http://example.org/kb/x"


def test_from_named_is_read_as_from_named(client: TestClient) -> None:
    """FROM NAMED <g> names g as a named graph (rdflib's parse tree once read it as FROM <default>)."""
    asserted = "https://w3id.org/mgkg/graph/asserted"
    query = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{asserted}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    assert int(response.json()["results"]["bindings"][0]["n"]["value"]) > 1000
    default_only = client.get(
        "/sparql", params={"query": f"ASK FROM NAMED <{asserted}> WHERE {{ ?s ?p ?o }}"}
    )
    assert default_only.json()["boolean"] is False  # the default graph is empty: only a named graph given


def test_a_graph_the_store_does_not_hold_is_empty(client: TestClient) -> None:
    for params in (
        {"query": "ASK { ?s ?p ?o }", "default-graph-uri": "http://example.org/none"},
        {"query": "ASK FROM <http://example.org/none> { ?s ?p ?o }"},
        {"query": "ASK { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": "http://example.org/none"},
    ):
        response = client.get("/sparql", params=params)
        assert response.status_code == 200, response.text
        assert response.json()["boolean"] is False


# --- format hints: format=, output=, results= never break a query (SPARQLWrapper sends all three) ------

SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/mgkg/vocab#CausalLink> } LIMIT 3"
CONSTRUCT = "CONSTRUCT WHERE { ?s a <https://w3id.org/mgkg/vocab#CausalLink> } LIMIT 3"


@pytest.mark.parametrize(
    ("query", "hints", "accept", "expected"),
    [
        (CONSTRUCT, {"format": "xml", "output": "xml", "results": "xml"}, None, "application/rdf+xml"),
        (CONSTRUCT, {"format": "json"}, None, "application/ld+json"),
        (CONSTRUCT, {"format": "n3"}, None, "text/turtle"),
        (CONSTRUCT, {"format": ["json-ld", "application/ld+json"]}, None, "application/ld+json"),
        (CONSTRUCT, {"format": ["rdf+xml", "application/rdf+xml"]}, None, "application/rdf+xml"),
        (CONSTRUCT, {"format": "csv"}, "application/n-triples", "application/n-triples"),
        (SELECT, {"format": "xml"}, None, "application/sparql-results+xml"),
        (SELECT, {"format": ["tsv", "text/tab-separated-values"]}, None, "text/tab-separated-values"),
        (SELECT, {"format": "turtle"}, "*/*", "application/sparql-results+json"),
        (SELECT, {"format": ["json-ld", ""]}, "text/csv", "text/csv"),
        (SELECT, {"output": "csv"}, None, "text/csv"),
        (SELECT, {"results": "turtle", "output": "xml"}, None, "application/sparql-results+xml"),
    ],
)
def test_format_hints_pick_a_fitting_format_and_pass_over_the_rest(
    client: TestClient, query: str, hints: dict[str, str | list[str]], accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    for method in ("GET", "POST"):
        if method == "GET":
            response = client.get("/sparql", params={"query": query, **hints}, headers=headers)
        else:
            response = client.post("/sparql", data={"query": query, **hints}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].split(";")[0] == expected


def test_accept_json_gets_sparql_json_or_json_ld(client: TestClient) -> None:
    headers = {"Accept": "application/json"}
    select = client.get("/sparql", params={"query": SELECT}, headers=headers)
    assert select.headers["content-type"] == "application/sparql-results+json"
    assert len(select.json()["results"]["bindings"]) == 3
    ask = client.get("/sparql", params={"query": "ASK {}"}, headers=headers)
    assert ask.json() == {"head": {}, "boolean": True}
    graph = client.get("/sparql", params={"query": CONSTRUCT}, headers=headers)
    assert graph.headers["content-type"] == "application/ld+json"
    assert len(graph.json()) == 3  # three nodes, each with its @type


def test_a_format_that_names_no_format_is_400(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": SELECT, "format": "png"})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/format")
    assert "json" in response.json()["detail"]
    ignored = client.get("/sparql", params={"query": SELECT, "output": "png", "results": "html"})
    assert ignored.status_code == 200  # output= and results= are other tools' words: only hints


# --- what is refused, and how the refusal says it --------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t\r\n"])
def test_an_empty_query_is_400_saying_how_to_send_one(client: TestClient, text: str) -> None:
    for response in (
        client.get("/sparql", params={"query": text}),
        client.post("/sparql", data={"query": text}),
        client.post("/sparql", content=text, headers={"Content-Type": "application/sparql-query"}),
    ):
        assert response.status_code == 400, response.text
        problem = response.json()
        assert problem["type"].endswith("/empty-query")
        assert "empty" in problem["detail"]
        assert "query=" in problem["detail"]
        assert "Update" not in problem["detail"]


def test_two_queries_are_400(client: TestClient) -> None:
    twice = client.get("/sparql?query=ASK%7B%7D&query=SELECT%20*%7B%7D")
    assert twice.status_code == 400
    assert twice.json()["type"].endswith("/repeated-parameter")
    form = client.post(
        "/sparql",
        content="query=ASK%7B%7D&query=SELECT%20*%7B%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 400
    assert form.json()["type"].endswith("/repeated-parameter")


# --- CORS: a page on another origin (YASGUI elsewhere, a notebook) may query ----------------------------

ORIGIN = "https://yasgui.example.org"


@pytest.mark.parametrize("path", ["/sparql", "/why", "/findings", "/queries"])
def test_a_preflight_is_answered(client: TestClient, path: str) -> None:
    response = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, accept",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


def test_cross_origin_get_and_post_carry_the_headers_clients_need(client: TestClient) -> None:
    get = client.get("/sparql", params={"query": SELECT}, headers={"Origin": ORIGIN})
    assert get.status_code == 200
    assert get.headers["access-control-allow-origin"] == "*"
    exposed = get.headers["access-control-expose-headers"]
    assert "MGKG-Results-Truncated" in exposed
    assert "Retry-After" in exposed
    post = client.post("/sparql", data={"query": SELECT}, headers={"Origin": ORIGIN})
    assert post.status_code == 200
    assert post.headers["access-control-allow-origin"] == "*"
    refused = client.get("/sparql", params={"query": "   "}, headers={"Origin": ORIGIN})
    assert refused.status_code == 400
    assert refused.headers["access-control-allow-origin"] == "*"  # a page can read why it was refused
    rest = client.get("/findings", headers={"Origin": ORIGIN})
    assert rest.headers["access-control-allow-origin"] == "*"


def test_allowed_origins_are_a_setting() -> None:
    settings = Settings(cors_origins="https://a.example, https://b.example", sparql_cache_bytes=0)
    with TestClient(create_app(settings)) as only_two:
        allowed = only_two.options(
            "/sparql", headers={"Origin": "https://b.example", "Access-Control-Request-Method": "GET"}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://b.example"
        other = only_two.options(
            "/sparql", headers={"Origin": "https://c.example", "Access-Control-Request-Method": "GET"}
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        plain = only_two.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://c.example"})
        assert plain.status_code == 200
        assert "access-control-allow-origin" not in plain.headers  # the browser hides the answer


# --- the service description: by content negotiation, true for the store it describes -----------------

SD = "http://www.w3.org/ns/sparql-service-description#"
DESCRIBED_GRAPHS = f"""
PREFIX sd: <{SD}>
SELECT ?name WHERE {{ ?service sd:defaultDataset/sd:namedGraph/sd:name ?name }}
"""


def described_graphs(body: bytes, media_type: str) -> set[str]:
    """The named graphs a service description (in any RDF format) lists, read by pyoxigraph."""
    store = ox.Store()
    store.load(body, format=ox.RdfFormat.from_media_type(media_type))
    return {row["name"].value for row in store.query(DESCRIBED_GRAPHS)}  # type: ignore[union-attr]


def held_graphs(client: TestClient) -> set[str]:
    """The named graphs that hold triples, by asking the endpoint itself."""
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    return {
        row["g"]["value"]
        for row in client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    }


@pytest.mark.parametrize(
    ("accept", "fmt", "expected"),
    [
        (None, None, "text/turtle"),
        ("*/*", None, "text/turtle"),
        ("application/rdf+xml", None, "application/rdf+xml"),
        ("application/ld+json", None, "application/ld+json"),
        ("application/json", None, "application/ld+json"),
        ("application/n-triples", None, "application/n-triples"),
        ("text/turtle;q=0.5, application/n-triples", None, "application/n-triples"),
        (None, "jsonld", "application/ld+json"),
        ("text/html", "xml", "application/rdf+xml"),  # a format= wins over the editor
        ("image/png", None, "text/turtle"),  # a description is never refused for its Accept header
    ],
)
def test_the_service_description_is_negotiated(
    client: TestClient, accept: str | None, fmt: str | None, expected: str
) -> None:
    response = client.get(
        "/sparql", params={"format": fmt} if fmt else {}, headers={"Accept": accept} if accept else {}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == expected
    assert described_graphs(response.content, expected) >= held_graphs(client)


def test_the_description_lists_every_graph_and_says_what_the_default_graph_is(client: TestClient) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    store = ox.Store()
    store.load(response.content, format=ox.RdfFormat.TURTLE)
    names = described_graphs(response.content, "text/turtle")
    assert names >= {"https://w3id.org/mgkg/graph/asserted", "https://w3id.org/mgkg/graph/inferred"}
    assert names >= held_graphs(client)
    union = f"ASK {{ ?service <{SD}feature> <{SD}UnionDefaultGraph> ; <{SD}endpoint> <{ENDPOINT}> }}"
    assert bool(store.query(union))
    comments = store.query(f"SELECT ?c {{ ?d <{SD}defaultGraph> ?g . ?g ?p ?c FILTER isLiteral(?c) }}")
    assert isinstance(comments, ox.QuerySolutions)
    assert "union" in next(comments)["c"].value


def test_an_on_disk_store_with_loaded_graphs_is_described_whole(oxigraph_store: Path, tmp_path: Path) -> None:
    """Every graph `mgkg load` put into the store is listed, and the default graph is their union."""
    folder = tmp_path / "store"
    shutil.copytree(oxigraph_store, folder)
    extra = [f"https://example.org/graph/{number}" for number in range(12)]
    for graph in extra:
        load_oxigraph(StoreSpec("oxigraph", str(folder)), [LOAD / "good.ttl"], graph, None)
    settings = Settings(store=f"oxigraph:{folder}", sparql_cache_bytes=0)
    with TestClient(create_app(settings)) as on_disk:
        for media_type in (
            "text/turtle",
            "application/ld+json",
            "application/rdf+xml",
            "application/n-triples",
        ):
            response = on_disk.get("/sparql", headers={"Accept": media_type})
            assert response.headers["content-type"].split(";")[0] == media_type
            names = described_graphs(response.content, media_type)
            assert names >= set(extra) | held_graphs(on_disk)
        # what the description says of the default graph holds: a loaded graph's triple is in it
        triple = next(ox.parse(path=str(LOAD / "good.ttl"), format=ox.RdfFormat.TURTLE))
        ask = f"ASK {{ {triple.subject} {triple.predicate} {triple.object} }}"
        assert on_disk.get("/sparql", params={"query": ask}).json()["boolean"] is True


# --- the editor: a browser asking /sparql for HTML gets YASGUI (tests/e2e/test_sparql_editor.py runs it) --


def test_a_browser_gets_the_editor_and_a_client_the_description(client: TestClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
    page = client.get("/sparql", headers={"Accept": browser})
    assert page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]
    assert "/static/vendor/yasgui/yasgui.min.js" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-eval" not in policy
    for name in load_named_queries():
        assert f'"name": "{name}"' in page.text
    assert (
        client.get("/sparql", headers={"Accept": "text/turtle"})
        .headers["content-type"]
        .startswith("text/turtle")
    )
    assert "content-security-policy" not in client.get("/sparql", params={"query": "ASK {}"}).headers


# --- truncation: a cut answer is an error unless the client asks for it (e2e: through SERVICE) -----------


@pytest.fixture(scope="module")
def limited(oxigraph_store: Path) -> Iterator[TestClient]:
    settings = Settings(store=f"oxigraph:{oxigraph_store}", sparql_max_rows=7, sparql_cache_bytes=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p ?o }",
        "SELECT * WHERE { ?s ?p ?o } LIMIT 8",
        "CONSTRUCT WHERE { ?s ?p ?o }",
        "DESCRIBE <https://w3id.org/mgkg/id/hypocalcemia>",
    ],
)
def test_an_answer_over_the_row_limit_is_403_saying_how_to_page(limited: TestClient, query: str) -> None:
    response = limited.get("/sparql", params={"query": query})
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["type"].endswith("/too-many-rows")
    assert problem["max_rows"] == 7
    assert "LIMIT 7 OFFSET 0" in problem["detail"]
    assert "handling=lenient" in problem["detail"]
    assert "MGKG-Results-Truncated" not in response.headers


def test_prefer_lenient_gets_the_cut_answer_marked(limited: TestClient) -> None:
    query = "SELECT * WHERE { ?s ?p ?o }"
    response = limited.get("/sparql", params={"query": query}, headers={"Prefer": "handling=lenient"})
    assert response.status_code == 200
    assert response.headers["MGKG-Results-Truncated"] == "7"
    assert response.headers["Preference-Applied"] == "handling=lenient"
    assert len(response.json()["results"]["bindings"]) == 7
    strict = limited.get("/sparql", params={"query": query}, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 403


def test_pages_of_the_row_limit_are_answered_and_add_up(limited: TestClient) -> None:
    """The way the refusal says to page works: LIMIT 7 pages with OFFSET answer, and together they are the
    whole answer."""
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/mgkg/vocab#CausalLink> }"
    total = int(
        limited.get("/sparql", params={"query": count}).json()["results"]["bindings"][0]["n"]["value"]
    )
    seen: list[str] = []
    for offset in range(0, total, 7):
        page = "SELECT ?s WHERE { ?s a <https://w3id.org/mgkg/vocab#CausalLink> } ORDER BY ?s LIMIT 7 OFFSET "
        response = limited.get("/sparql", params={"query": page + str(offset)})
        assert response.status_code == 200, response.text
        seen += [row["s"]["value"] for row in response.json()["results"]["bindings"]]
    assert len(seen) == len(set(seen)) == total > 7


# --- query syntax: the same answer whatever words the comments and strings hold -------------------------

RISKY_WORDS = (
    "FROM <default>",
    "FROM NAMED <urn:g>",
    "SERVICE <http://127.0.0.1:9/>",
    "from",
    "SeRvIcE",
    "#",
)
PARITY_QUERIES = (
    "PREFIX mgkg: <https://w3id.org/mgkg/vocab#> SELECT (COUNT(*) AS ?n) WHERE { ?l a mgkg:CausalLink ; "
    "mgkg:cause ?c } ",
    "SELECT ?t WHERE { BIND(<<( <urn:a> <urn:b> <urn:c> )>> AS ?t) } ",
    "VERSION '1.2' SELECT ?s ?o WHERE { BIND(TRIPLE(<urn:a>, <urn:b>, 1) AS ?t) BIND(SUBJECT(?t) AS ?s) "
    "BIND(OBJECT(?t) AS ?o) } ",
    "ASK { ?s ?p ?o FILTER(?o != 'x') } ",
)


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.sampled_from(PARITY_QUERIES),
    inserts=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(RISKY_WORDS)), min_size=1, max_size=4
    ),
)
def test_comments_with_risky_words_change_no_answer(
    client: TestClient, query: str, inserts: list[tuple[int, str]]
) -> None:
    """A comment holding FROM, SERVICE or any such word, put at any space between tokens, changes nothing."""
    expected = client.get("/sparql", params={"query": query})
    assert expected.status_code == 200, expected.text
    spaces = [index for index, char in enumerate(query) if char == " "]
    text = query
    for where, word in sorted(inserts, key=lambda item: -spaces[item[0] % len(spaces)]):
        at = spaces[where % len(spaces)]
        text = text[:at] + f" # {word}\n" + text[at + 1 :]
    answered = client.get("/sparql", params={"query": text})
    assert answered.status_code == 200, (text, answered.text)
    assert answered.json() == expected.json()


@pytest.mark.parametrize("word", RISKY_WORDS)
def test_strings_with_risky_words_are_data(client: TestClient, word: str) -> None:
    for literal in (f"'{word}'", f'"{word}"', f"'''{word}\n{word}'''"):
        value = literal.strip("'\"")
        response = client.get("/sparql", params={"query": f"SELECT (STRLEN({literal}) AS ?n) {{}}"})
        assert response.status_code == 200, response.text
        assert int(response.json()["results"]["bindings"][0]["n"]["value"]) == len(value)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p ?o  LIMIT 1",
        "SELECT ?x WHERE { ?s ?p ?o } GROUP BY ?s",
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o }",
        "SELECT * FROM <http://127.0.0.1:9/> WHERE { ?s ?p ?o",
        "ASK { <<( <urn:a> <urn:b> )>> ?p ?o }",
        "VERSION 1.2 SELECT * {}",
    ],
)
def test_what_oxigraph_refuses_is_a_400(client: TestClient, query: str) -> None:
    with pytest.raises(SyntaxError):
        ox.Store().query(query)
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/sparql-syntax")
