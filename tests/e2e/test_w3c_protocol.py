"""The W3C SPARQL 1.1 Protocol tests (../shared/w3c-sparql-protocol), read-only flavour, against `mgkg serve`.

Each test of the suite's manifest becomes one test case here: its HTTP requests are sent as written (method,
path under /sparql, headers, body in its declared encoding) to a real server, and each response is checked
against the manifest's expectations: status class, result format (boolean, tabular, RDF, parsed with
pyoxigraph from the response's media type) and the boolean of an ASK. In the read-only flavour (the suite's
README) an update request must get a 4xx, and a query after it must still answer, finding nothing written.
The tests that carry their own data (``ut:graphData``) run on an on-disk store into which `mgkg load` put
each data file as the named graph the manifest names.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

import httpx
import pyoxigraph as ox
import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace
from rdflib.collection import Collection
from rdflib.term import Node

from tests.conftest import REPO, MgkgStarter, mgkg_command

SUITE = REPO.parent / "shared" / "w3c-sparql-protocol"
MANIFEST = SUITE / "manifest.ttl"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")


@dataclass(frozen=True)
class Exchange:
    """One request of a protocol test and what its response must be."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[str]  # status classes such as "2xx"
    result_format: str | None  # "boolean", "tabular", "RDF" or None
    boolean: bool | None

    @property
    def is_update(self) -> bool:
        """Whether this request asks for a SPARQL Update (refused by a read-only endpoint)."""
        content_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        form = parse_qs(self.body.decode("utf-8", "replace")) if self.body is not None else {}
        query = parse_qs(urlsplit(self.path).query)
        return content_type == "application/sparql-update" or "update" in form or "update" in query


@dataclass(frozen=True)
class ProtocolTest:
    """A test of the manifest: its name, its requests in order, and the data graphs it needs."""

    name: str
    exchanges: tuple[Exchange, ...]
    graphs: tuple[tuple[Path, str], ...]  # (data file, graph IRI)


def _exchange(manifest: Graph, request: Node) -> Exchange:
    headers: dict[str, str] = {}
    header_list = manifest.value(request, HT.headers)
    if header_list is not None:
        for header in Collection(manifest, header_list):
            name = str(manifest.value(header, HT.fieldName)).lower()
            headers[name] = str(manifest.value(header, HT.fieldValue))
    body_node = manifest.value(request, HT.body)
    body = None
    if body_node is not None:
        encoding = str(manifest.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(manifest.value(body_node, CNT.chars)).encode(encoding)
    response = manifest.value(request, HT.resp)
    statuses = frozenset(
        str(status).removeprefix(str(HTS)).removeprefix("StatusCode")
        for status in manifest.objects(response, MF.expectedStatus)
    )
    result_format = manifest.value(response, MF.expectedFormat)
    boolean = manifest.value(response, MF.expectedBoolean)
    path = str(manifest.value(request, HT.absolutePath)).replace("/sparql/", "/sparql", 1)
    return Exchange(
        method=str(manifest.value(request, HT.methodName)),
        path=path,
        headers=headers,
        body=body,
        statuses=statuses,
        result_format=None if result_format is None else str(result_format),
        boolean=boolean.toPython() if isinstance(boolean, Literal) else None,
    )


def _required(node: Node | None) -> Node:
    assert node is not None, "the manifest lacks a list it must have"
    return node


def read_manifest() -> list[ProtocolTest]:
    """Every protocol test of the manifest, in its order."""
    manifest = Graph().parse(MANIFEST, format="turtle")
    root = next(manifest.subjects(RDF.type, MF.Manifest))
    tests = []
    for test in Collection(manifest, _required(manifest.value(root, MF.entries))):
        action = manifest.value(test, MF.action)
        requests = Collection(manifest, _required(manifest.value(action, HT.requests)))
        graphs = tuple(
            (SUITE / Path(str(manifest.value(data, UT.graph))).name, str(manifest.value(data, RDFS.label)))
            for data in manifest.objects(test, UT.graphData)
        )
        tests.append(
            ProtocolTest(
                name=str(test).rsplit("#", 1)[1],
                exchanges=tuple(_exchange(manifest, request) for request in requests),
                graphs=graphs,
            )
        )
    return tests


TESTS = read_manifest() if MANIFEST.is_file() else []
DATASET_GRAPHS = sorted({graph for test in TESTS for graph in test.graphs})


TIMEOUT: Final = {"MGKG_SPARQL_TIMEOUT_S": "10"}


@pytest.fixture(scope="module")
def server(serve_mgkg: MgkgStarter) -> Iterator[str]:
    """`mgkg serve` on the default (memory) store."""
    with serve_mgkg(env=TIMEOUT) as base:
        yield base


@pytest.fixture(scope="module")
def dataset_server(tmp_path_factory: pytest.TempPathFactory, serve_mgkg: MgkgStarter) -> Iterator[str]:
    """`mgkg serve` on an on-disk store holding the suite's data files as named graphs."""
    store = f"oxigraph:{tmp_path_factory.mktemp('w3c-store') / 'db'}"
    for index, (data, graph) in enumerate(DATASET_GRAPHS):
        skip = ["--skip-mgkg"] if index else []
        subprocess.run(
            [*mgkg_command(), "load", "--store", store, "--graph", graph, *skip, str(data)],
            check=True,
            capture_output=True,
        )
    with serve_mgkg("--store", store, env=TIMEOUT) as base:
        yield base


def _check_result(exchange: Exchange, response: httpx.Response, boolean: bool | None) -> None:
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if exchange.result_format in {"boolean", "tabular"}:
        results_format = ox.QueryResultsFormat.from_media_type(media_type)
        assert results_format is not None, f"not a SPARQL results media type: {media_type!r}"
        results = ox.parse_query_results(response.content, results_format)
        if exchange.result_format == "boolean":
            assert isinstance(results, ox.QueryBoolean), f"expected a boolean, got {type(results).__name__}"
            if boolean is not None:
                assert bool(results) is boolean
        else:
            assert isinstance(results, ox.QuerySolutions), f"expected solutions, got {type(results).__name__}"
            list(results)
    elif exchange.result_format == "RDF":
        rdf_format = ox.RdfFormat.from_media_type(media_type)
        assert rdf_format is not None, f"not an RDF media type: {media_type!r}"
        list(ox.parse(response.content, rdf_format))


def run_protocol_test(base: str, test: ProtocolTest) -> None:
    """Send the test's requests in order and check every response (read-only flavour)."""
    refused_update = False
    with httpx.Client(base_url=base, timeout=30) as client:
        for exchange in test.exchanges:
            response = client.request(
                exchange.method, exchange.path, headers=exchange.headers, content=exchange.body
            )
            status_class = f"{response.status_code // 100}xx"
            if exchange.is_update:
                assert status_class == "4xx", (
                    f"an update must be refused with a 4xx: {response.status_code} {response.text[:300]}"
                )
                refused_update = True
                continue
            assert status_class in exchange.statuses, (
                f"{exchange.method} {exchange.path[:80]}: {response.status_code}, expected "
                f"{sorted(exchange.statuses)}: {response.text[:300]}"
            )
            if status_class == "2xx":
                # after a refused update, what the update would have written is not there
                boolean = exchange.boolean
                if refused_update and boolean:
                    boolean = False
                _check_result(exchange, response, boolean)


@pytest.mark.slow
@pytest.mark.parametrize("test", [test for test in TESTS if not test.graphs], ids=lambda test: test.name)
def test_protocol(server: str, test: ProtocolTest) -> None:
    run_protocol_test(server, test)


@pytest.mark.slow
@pytest.mark.parametrize("test", [test for test in TESTS if test.graphs], ids=lambda test: test.name)
def test_protocol_dataset(dataset_server: str, test: ProtocolTest) -> None:
    run_protocol_test(dataset_server, test)


def test_the_suite_is_there() -> None:
    """The suite is read from ../shared; without it the parametrized tests above would silently be none."""
    assert len(TESTS) == 34
    assert sum(1 for test in TESTS if test.graphs) == 6
