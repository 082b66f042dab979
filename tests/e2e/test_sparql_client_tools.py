"""Informaticians' own tools against a real `mgkg serve`: SPARQLWrapper with its defaults for every format
and query form, and another engine (Oxigraph's server) calling mgkg through SERVICE at the row limit."""

from __future__ import annotations

import io
import json
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from rdflib import Graph
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from tests.conftest import MgkgStarter, oxigraph_running

pytestmark = pytest.mark.slow

NODE = "https://w3id.org/mgkg/id/hypocalcemia"
QUERIES = {
    "SELECT": "SELECT ?s WHERE { ?s a <https://w3id.org/mgkg/vocab#CausalLink> } LIMIT 3",
    "ASK": f"ASK {{ <{NODE}> ?p ?o }}",
    "CONSTRUCT": "CONSTRUCT WHERE { ?s a <https://w3id.org/mgkg/vocab#CausalLink> } LIMIT 3",
    "DESCRIBE": f"DESCRIBE <{NODE}>",
}
SRJ, SRX = "application/sparql-results+json", "application/sparql-results+xml"
# What each SPARQLWrapper returnFormat gets, per form: the format asked for where the form has it; where it
# has not (TURTLE on a SELECT, CSV on a CONSTRUCT), SPARQLWrapper sends Accept */* and gets the default.
EXPECTED = {
    "SELECT": {JSON: SRJ, XML: SRX, CSV: "text/csv", TSV: "text/tab-separated-values"},
    "CONSTRUCT": {
        JSON: "application/ld+json",
        XML: "application/rdf+xml",
        TURTLE: "text/turtle",
        N3: "text/turtle",
        JSONLD: "application/ld+json",
        RDFXML: "application/rdf+xml",
    },
}
FORMATS = (JSON, XML, CSV, TSV, TURTLE, N3, JSONLD, RDFXML)


@pytest.fixture(scope="module")
def endpoint(oxigraph_store: Path, serve_mgkg: MgkgStarter) -> Iterator[str]:
    """`mgkg serve` over the on-disk store, with the default settings; yields its /sparql URL."""
    env = {"MGKG_STORE": f"oxigraph:{oxigraph_store}", "MGKG_SPARQL_CACHE_BYTES": "0"}
    with serve_mgkg(env=env) as base:
        yield f"{base}/sparql"


def _ask(url: str, query: str, return_format: str) -> tuple[str, Any]:
    """Run a query with SPARQLWrapper's defaults (GET, format=/output=/results= in the URL) and only the
    return format set; (the answer's media type, SPARQLWrapper's converted answer)."""
    client = SPARQLWrapper(url)
    client.setQuery(query)
    client.setReturnFormat(return_format)
    with warnings.catch_warnings():
        # SPARQLWrapper warns when it asks for a format the query form has not (it then sends */*), and
        # rdflib's JSON-LD parser about its own deprecated API: neither is about the endpoint
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        result = client.query()
        media_type = result.info()["content-type"].split(";")[0]
        return media_type, result.convert()


def _size(form: str, media_type: str, answer: Any) -> int | bool:
    """Rows (SELECT), the boolean (ASK) or triples (CONSTRUCT, DESCRIBE) of a converted answer."""
    if isinstance(answer, Graph):
        return len(answer)
    if isinstance(answer, dict):
        return answer["boolean"] if form == "ASK" else len(answer["results"]["bindings"])
    if form in ("CONSTRUCT", "DESCRIBE"):  # Turtle comes back as bytes
        return len(Graph().parse(data=answer, format="turtle"))
    if media_type == SRX:
        if form == "ASK":
            return answer.getElementsByTagName("boolean")[0].firstChild.data == "true"  # type: ignore[no-any-return]
        return len(answer.getElementsByTagName("result"))
    lines = answer.decode().strip().splitlines()  # CSV, TSV: a header line, then one line per row
    return lines[-1].strip() == "true" if form == "ASK" else len(lines) - 1


def _reference(url: str, form: str) -> int | bool:
    """The same answer's size asked plainly (JSON, or N-Triples for graphs) without SPARQLWrapper."""
    graph_form = form in ("CONSTRUCT", "DESCRIBE")
    accept = "application/n-triples" if graph_form else SRJ
    request = urllib.request.Request(
        f"{url}?{urlencode({'query': QUERIES[form]})}", headers={"Accept": accept}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # only 127.0.0.1
        body = response.read()
    if graph_form:
        return len(list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES)))
    answer: dict[str, Any] = json.loads(body)
    return bool(answer["boolean"]) if form == "ASK" else len(answer["results"]["bindings"])


@pytest.mark.parametrize("return_format", FORMATS)
@pytest.mark.parametrize("form", list(QUERIES))
def test_sparqlwrapper_defaults_answer_every_format(endpoint: str, form: str, return_format: str) -> None:
    """SPARQLWrapper(url).setQuery(q).setReturnFormat(f).query().convert(), nothing else set, never fails."""
    media_type, answer = _ask(endpoint, QUERIES[form], return_format)
    table = EXPECTED["SELECT" if form in ("SELECT", "ASK") else "CONSTRUCT"]
    assert media_type == table.get(return_format, SRJ if form in ("SELECT", "ASK") else "text/turtle")
    expected = _reference(endpoint, form)
    assert _size(form, media_type, answer) == expected
    assert expected  # the queries are chosen to have answers: a non-empty one, or true


# --- truncation through federation: an engine that calls mgkg by SERVICE never gets a short answer -----

MAX_ROWS = 5


@pytest.fixture(scope="module")
def small_endpoint(oxigraph_store: Path, serve_mgkg: MgkgStarter) -> Iterator[str]:
    """`mgkg serve` with a row limit of 5; yields its /sparql URL."""
    env = {
        "MGKG_STORE": f"oxigraph:{oxigraph_store}",
        "MGKG_SPARQL_MAX_ROWS": str(MAX_ROWS),
        "MGKG_SPARQL_CACHE_BYTES": "0",
    }
    with serve_mgkg(env=env) as base:
        yield f"{base}/sparql"


@pytest.fixture(scope="module")
def federator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Oxigraph's read-only server over a one-triple store: the engine that calls mgkg with SERVICE."""
    folder = tmp_path_factory.mktemp("federator") / "db"
    seed = folder.parent / "seed.nt"
    seed.write_text("<urn:a> <urn:b> <urn:c> .\n")
    with oxigraph_running(folder, "serve-read-only", "--timeout-s", "30", load=seed) as base:
        yield f"{base}/query"


def _federate(federator: str, query: str, accept: str = SRJ) -> tuple[int, bytes]:
    """POST a query to the federating engine; (status, body), whatever the status."""
    request = urllib.request.Request(
        federator,
        data=urlencode({"query": query}).encode(),
        headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # only 127.0.0.1
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _rows(body: bytes) -> list[dict[str, Any]] | None:
    """The rows of a SPARQL JSON answer, or None when the body is no complete answer."""
    try:
        return json.loads(body)["results"]["bindings"]  # type: ignore[no-any-return]
    except (ValueError, KeyError):
        return None


def test_service_within_the_row_limit_is_answered(federator: str, small_endpoint: str) -> None:
    query = f"SELECT * WHERE {{ SERVICE <{small_endpoint}> {{ SELECT ?s {{ ?s ?p ?o }} LIMIT {MAX_ROWS} }} }}"
    status, body = _federate(federator, query)
    assert status == 200
    rows = _rows(body)
    assert rows is not None
    assert len(rows) == MAX_ROWS


@pytest.mark.parametrize(
    "pattern",
    [
        "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "SELECT (COUNT(*) AS ?n) WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ SERVICE <{url}> {{ SELECT * {{ ?s ?p ?o }} LIMIT 1000 }} }}",
        "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    ],
)
def test_a_service_answer_over_the_row_limit_is_an_error_never_a_short_answer(
    federator: str, small_endpoint: str, pattern: str
) -> None:
    """Oxigraph streams its answer (200 first), so mgkg's 403 reaches the caller as a broken body that
    carries mgkg's problem (too-many-rows, how to page); it never parses as a complete, shorter answer."""
    query = pattern.format(url=small_endpoint)
    graph = query.startswith("CONSTRUCT")
    status, body = _federate(federator, query, "application/n-triples" if graph else SRJ)
    assert b"too-many-rows" in body
    assert b"LIMIT" in body
    if status == 200 and graph:
        with pytest.raises(SyntaxError):
            list(ox.parse(io.BytesIO(body), format=ox.RdfFormat.N_TRIPLES))
    elif status == 200:
        assert _rows(body) is None
