"""Shared fixtures: paths to test resources, found relative to this file."""

from __future__ import annotations

import asyncio
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple, NoReturn, Protocol, TypeVar

import pytest

from bench.servers import answers, free_port, running
from bench.servers import mgkg_command as mgkg_command  # the tests import it from here

if TYPE_CHECKING:
    import httpx
    from fastapi.testclient import TestClient
    from playwright.sync_api import Browser

    from kg.graph.knowledge import KnowledgeGraph

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
RESOURCES = TESTS / "resources"


PROBLEM: Final = "application/problem+json"


def assert_problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """Check that ``response`` is an RFC 9457 problem (problem+json, one of ``statuses``, its ``status``
    member the same, a ``detail``) and return its body."""
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["detail"]
    return body


@pytest.fixture
def resources() -> Path:
    """The folder of small fixture graphs."""
    return RESOURCES


@pytest.fixture(scope="module")
def client(store_setting: str) -> Iterator[TestClient]:
    """The app on each store backend (memory, on-disk Oxigraph, a remote Oxigraph server), lifespan entered:
    a test asking for it is about the HTTP surface and runs once per backend. A module that needs other
    settings defines its own ``client``, which overrides this one."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.config import Settings

    with TestClient(create_app(Settings(store=store_setting))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def knowledge_graph(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    """The shipped knowledge graph, loaded (and reasoned over) once per session, with a private cache."""
    from kg.graph.knowledge import load_knowledge_graph

    return load_knowledge_graph(cache_dir=tmp_path_factory.mktemp("mgkg-cache"))


# --- Store backends (kg/stores: the registry and the memory, oxigraph and remote kinds) ---


@pytest.fixture(scope="session")
def oxigraph_store(knowledge_graph: KnowledgeGraph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An on-disk Oxigraph store holding the mgkg graphs, written as `mgkg load` does (kg.stores.oxigraph)."""
    from kg.stores.base import EXTERNAL_GRAPH, StoreSpec
    from kg.stores.oxigraph import load_oxigraph

    folder = tmp_path_factory.mktemp("oxigraph") / "store"
    load_oxigraph(StoreSpec("oxigraph", str(folder)), [], EXTERNAL_GRAPH, knowledge_graph)
    return folder


@contextmanager
def oxigraph_running(location: Path, *args: str, load: Path | None = None) -> Iterator[str]:
    """Run the `oxigraph` server (the oxigraph PyPI package) on a free 127.0.0.1 port with ``args``
    (``serve``, ``serve-read-only`` and its flags) over the store at ``location``, after ``oxigraph load``
    of the file ``load`` into it if given; yields its base URL, stops it on the way out.

    Under CI=true a missing server fails the test; elsewhere it skips it.
    """
    executable = shutil.which("oxigraph")
    if executable is None:
        unavailable("the Oxigraph server is not installed: pip install oxigraph (it is in the test extra)")
    if load is not None:
        subprocess.run(
            [executable, "load", "--location", str(location), "--file", str(load)],
            check=True,
            capture_output=True,
        )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [executable, *args, "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    with running(command, answers(f"{base}/query?query=ASK%7B%7D"), start_s=30):
        yield base


@pytest.fixture(scope="session")
def oxigraph_server(
    knowledge_graph: KnowledgeGraph, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real, read-only Oxigraph SPARQL server holding the mgkg graphs (loaded with `oxigraph load`);
    yields its query endpoint URL. Its own 5 s query timeout stops queries mgkg abandoned."""
    from kg.sparql import write_nquads

    folder = tmp_path_factory.mktemp("oxigraph-server")
    dump = folder / "mgkg.nq"
    write_nquads(knowledge_graph.dataset, dump)
    with oxigraph_running(folder / "db", "serve-read-only", "--timeout-s", "5", load=dump) as base:
        yield f"{base}/query"


class WritableStore(NamedTuple):
    """A writable SPARQL server: its engine, query endpoint, Graph Store Protocol and SPARQL Update URLs."""

    engine: str
    query: str
    gsp: str
    update: str


@pytest.fixture
def writable_server(tmp_path: Path) -> Iterator[str]:
    """A writable Oxigraph server (`oxigraph serve`): its base URL (/query, /update, /store)."""
    with oxigraph_running(tmp_path / "remote", "serve") as base:
        yield base


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {folder}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {folder}
ServerThreads = 10
[SPARQL]
ResultSetMaxRows = 10000
MaxQueryExecutionTime = 5
"""
"""A minimal virtuoso.ini: a private database folder, the SQL and HTTP ports on 127.0.0.1 only."""


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WritableStore]:
    """Debian's Virtuoso 7.2.5 (virtuoso-opensource), started once per session from a minimal ini in a
    temporary folder, with SPARQL Update granted to its SPARQL user so that it can be written; empty.

    Under CI=true a missing Virtuoso fails the test (.ci/run installs it); elsewhere it skips it.
    """
    executable, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if executable is None or isql is None:
        unavailable("Virtuoso is not installed: apt-get install virtuoso-opensource")
    folder = tmp_path_factory.mktemp("virtuoso")
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(folder=folder, sql_port=sql_port, http_port=http_port))
    grant = [isql, f"127.0.0.1:{sql_port}", "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";']

    def granted() -> bool:
        return subprocess.run(grant, capture_output=True, timeout=30).returncode == 0

    command = [executable, "+foreground", "+configfile", str(ini)]
    with running(command, granted, log=folder / "server.out", start_s=120):
        base = f"http://127.0.0.1:{http_port}"
        yield WritableStore("virtuoso", f"{base}/sparql", f"{base}/sparql-graph-crud", f"{base}/sparql")


@pytest.fixture(scope="session")
def virtuoso_server(virtuoso: WritableStore, knowledge_graph: KnowledgeGraph) -> str:
    """The session's Virtuoso holding the mgkg graphs, written by `mgkg load`'s remote loader through the
    Graph Store Protocol (kg.stores.remote); its query endpoint URL."""
    from kg.stores.base import EXTERNAL_GRAPH, StoreSpec, WriteOptions
    from kg.stores.registry import loader_for

    spec = StoreSpec("sparql", virtuoso.query)
    loader_for(spec, WriteOptions(gsp_url=virtuoso.gsp))([], EXTERNAL_GRAPH, knowledge_graph)
    return virtuoso.query


@pytest.fixture(params=["oxigraph", "virtuoso"])
def writable_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WritableStore]:
    """A writable remote store on each real engine in turn: a fresh `oxigraph serve`, and the session's
    Virtuoso, whose graphs the test added are dropped afterwards (the mgkg graphs it may rewrite are the
    same ones again), so that later tests see it as it was."""
    if request.param == "oxigraph":
        with oxigraph_running(tmp_path / "remote", "serve") as base:
            yield WritableStore("oxigraph", f"{base}/query", f"{base}/store", f"{base}/update")
        return
    import httpx

    request.getfixturevalue("virtuoso_server")  # the mgkg graphs are in before the test starts
    store: WritableStore = request.getfixturevalue("virtuoso")
    before = _remote_graphs(store.query)
    try:
        yield store
    finally:
        for graph in _remote_graphs(store.query) - before:
            httpx.post(store.update, data={"update": f"DROP SILENT GRAPH <{graph}>"}).raise_for_status()


def _remote_graphs(endpoint: str) -> set[str]:
    import httpx

    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = httpx.post(
        endpoint, data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    response.raise_for_status()
    return {row["g"]["value"] for row in response.json()["results"]["bindings"]}


@pytest.fixture(scope="module", params=["memory", "oxigraph", "sparql", "virtuoso"])
def store_setting(request: pytest.FixtureRequest) -> str:
    """The --store / MGKG_STORE value of each backend in turn: memory, an on-disk Oxigraph store written
    by kg.stores.oxigraph, a real Oxigraph server over HTTP, and Virtuoso over HTTP. A test using it runs
    once per backend."""
    if request.param == "oxigraph":
        return f"oxigraph:{request.getfixturevalue('oxigraph_store')}"
    if request.param == "sparql":
        return f"sparql:{request.getfixturevalue('oxigraph_server')}"
    if request.param == "virtuoso":
        return f"sparql:{request.getfixturevalue('virtuoso_server')}"
    return "memory"


ServerStarter = Callable[[Sequence[str], Path, Mapping[str, str]], AbstractContextManager[str]]
"""Start a server command on a free 127.0.0.1 port; the context yields its base URL."""


@contextmanager
def _running_server(command: Sequence[str], log: Path, env: Mapping[str, str]) -> Iterator[str]:
    """Run ``command --port PORT`` (output to ``log``, ``env`` on top of the environment), wait for /health,
    yield the base URL, then stop it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([*command, "--port", str(port)], answers(f"{base}/health"), log=log, env=env):
        yield base


@pytest.fixture(scope="session")
def start_server() -> ServerStarter:
    """Start a real server process (``mgkg serve`` or uvicorn) for a test module; see _running_server."""
    return _running_server


class MgkgStarter(Protocol):
    """Start ``mgkg serve --host 127.0.0.1 --log-level LEVEL ARGS`` on a free port with ``env`` on top of the
    environment, its output in ``log`` (a fresh temporary file if not given); the context yields its base
    URL and stops the server on the way out."""

    def __call__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
        log_level: str = "warning",
    ) -> AbstractContextManager[str]: ...


@pytest.fixture(scope="session")
def serve_mgkg(tmp_path_factory: pytest.TempPathFactory) -> MgkgStarter:
    """Start a real `mgkg serve` for a test module (see MgkgStarter); the e2e tests' way to one."""

    def start(
        *args: str, env: Mapping[str, str] | None = None, log: Path | None = None, log_level: str = "warning"
    ) -> AbstractContextManager[str]:
        command = [*mgkg_command(), "serve", "--host", "127.0.0.1", "--log-level", log_level, *args]
        return _running_server(
            command, log or tmp_path_factory.mktemp("mgkg-serve") / "server.log", env or {}
        )

    return start


# --- A recording HTTP listener for the SSRF tests (tests/unit/sparql/test_sparql_guard.py, _fuzz.py) ---


class Listener(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records every connection and answers as a SPARQL endpoint."""

    daemon_threads = True

    def __init__(self) -> None:
        self.connections: list[str] = []
        super().__init__(("127.0.0.1", 0), _Recorder)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Recorder(http.server.BaseHTTPRequestHandler):
    def setup(self) -> None:
        assert isinstance(self.server, Listener)
        self.server.connections.append(str(self.client_address))
        super().setup()

    def do_GET(self) -> None:
        body = b'{"head":{"vars":["a"]},"results":{"bindings":[{"a":{"type":"literal","value":"leak"}}]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # noqa: N815  # the name http.server calls

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    """A recording listener for a test module (SSRF tests point the server at it)."""
    server = Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# --- A real browser and a real server for the page (tests/e2e: the page, the case form) ---

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


_T = TypeVar("_T")


class LoopThread:
    """An event loop running in a daemon thread, for tests that drive async engines from sync hypothesis
    tests: :meth:`call` runs a coroutine there and waits for it; :meth:`close` stops and closes the loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def call(self, coroutine: Coroutine[object, object, _T], timeout_s: float = 30) -> _T:
        """Run ``coroutine`` on the loop and return its result (raising its exception)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=timeout_s)

    def close(self) -> None:
        """Stop the loop, wait for its thread, and close it (its self-pipe sockets too)."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()


def unavailable(reason: str) -> NoReturn:
    """A component a test needs is missing: fail under CI=true (.ci/run installs every one), skip
    elsewhere. ``reason`` says what is missing and how to install it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (.ci/run installs it; under CI=true a missing component fails the test)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def page_server(tmp_path_factory: pytest.TempPathFactory, start_server: ServerStarter) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 for the web page, started as a subprocess; yields its base URL."""
    if shutil.which("dot") is None:
        unavailable("Graphviz `dot` is not installed")
    log = tmp_path_factory.mktemp("page-server") / "server.log"
    env = {"MGKG_CACHE_DIR": str(tmp_path_factory.mktemp("mgkg-cache"))}
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1"]
    with start_server(command, log, env) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless chromium, driven by Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
