"""A read-only, bounded SPARQL engine: a guard that parses every query, and a pool of killable workers.

Two halves, both engine-independent in what they promise:

* the guard (:func:`check_query`) parses the query with rdflib's SPARQL parser, walks its algebra and
  refuses what reaches outside or writes: SPARQL Update of any kind, ``SERVICE``, and ``FROM`` /
  ``FROM NAMED`` naming anything but our two graphs. The known traps (DESIGN.md) are that rdflib fetches
  ``SERVICE``/``FROM`` URLs itself and Oxigraph does so from Rust where audit hooks cannot see it, so
  refusing before execution is the only dependable guard. Parses are cached by query text (LRU);
* the engine (:class:`SparqlEngine`) runs checked queries in worker processes (kg/sparql_worker.py),
  each holding its own pyoxigraph Store loaded from an N-Quads dump of the dataset. A query that runs
  past the time limit has its worker killed and replaced, which is the only way to really stop it.
  With two or more workers one slow query never blocks the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import pyoxigraph as ox
from pyparsing import ParseException
from rdflib import Dataset, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from kg.errors import MgkgError
from kg.vocab import ASSERTED_GRAPH, INFERRED_GRAPH

QueryForm = Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]

DATASET_GRAPHS: Final = frozenset({str(ASSERTED_GRAPH), str(INFERRED_GRAPH)})
"""The only graph IRIs a query may name in FROM / FROM NAMED or the protocol's graph parameters."""

RESULTS_FORMATS: Final[dict[str, str]] = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
"""SELECT/ASK result formats: short name -> media type; the first is the default."""

GRAPH_FORMATS: Final[dict[str, str]] = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
"""CONSTRUCT/DESCRIBE result formats: short name -> media type; the first is the default."""

_FORM_NAMES: Final[dict[str, QueryForm]] = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}
_WORKER_SCRIPT: Final = Path(__file__).with_name("sparql_worker.py")


class SparqlError(MgkgError):
    """Base of the errors a SPARQL request can meet; ``detail`` says what to do."""


class SparqlSyntaxError(SparqlError):
    """The query does not parse; ``line``/``column`` locate the problem when the parser knows."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message, self.line, self.column = message, line, column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(
            f"The SPARQL query does not parse{where}: {message}. Fix the query and send it again."
        )


class QueryRefusedError(SparqlError):
    """The query parses but asks for something this read-only, offline endpoint never does."""

    def __init__(self, reason: Literal["update", "service", "dataset"], detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


class QueryTimeoutError(SparqlError):
    """The query ran past the time limit; its worker was killed and replaced."""


class EngineBusyError(SparqlError):
    """No worker became free within the time limit."""


class EngineFailureError(SparqlError):
    """The engine itself failed on a query the guard let through (e.g. an evaluation error)."""


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the guard: its text, its form and the graphs its dataset clause names."""

    text: str
    form: QueryForm
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()


def _walk(node: object) -> Iterable[CompValue]:
    """Yield every CompValue in an rdflib parse tree or algebra, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _parse(text: str) -> CheckedQuery:
    try:
        parsed = parseQuery(text)
    except ParseException as error:
        try:
            parseUpdate(text)
        except ParseException:
            raise SparqlSyntaxError(error.msg, error.lineno, error.col) from error
        raise QueryRefusedError(
            "update",
            "SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ...) is refused: this endpoint is "
            "read-only. Send a SELECT, ASK, CONSTRUCT or DESCRIBE query.",
        ) from None
    try:
        query = translateQuery(parsed)
    except Exception as error:  # rdflib's translation raises bare Exceptions for semantic errors
        raise SparqlSyntaxError(str(error)) from error
    for node in _walk(query.algebra):
        if node.name == "ServiceGraphPattern":
            raise QueryRefusedError(
                "service",
                f"SERVICE <{node.get('term')}> is refused: this endpoint never makes a network request "
                "on a client's behalf. Run federated queries from your own client.",
            )
    from_graphs: list[str] = []
    from_named: list[str] = []
    for clause in query.algebra.get("datasetClause") or ():
        iri = str(clause.get("default") or clause.get("named"))
        if iri not in DATASET_GRAPHS:
            raise QueryRefusedError(
                "dataset",
                f"FROM/FROM NAMED <{iri}> is refused: only this endpoint's graphs may be named "
                f"({', '.join(sorted(DATASET_GRAPHS))}); nothing is fetched from elsewhere.",
            )
        (from_graphs if clause.get("default") is not None else from_named).append(iri)
    return CheckedQuery(text, _FORM_NAMES[query.algebra.name], tuple(from_graphs), tuple(from_named))


class _GuardCache:
    """A thread-safe LRU of guard verdicts by query text (refusals are cached too: they are verdicts)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, CheckedQuery | SparqlError] = OrderedDict()
        self._lock = threading.Lock()
        self._parse_lock = threading.Lock()  # pyparsing's packrat cache is not thread-safe

    def get(self, text: str) -> CheckedQuery | SparqlError | None:
        with self._lock:
            entry = self._entries.get(text)
            if entry is not None:
                self._entries.move_to_end(text)
            return entry

    def check(self, text: str) -> CheckedQuery:
        entry = self.get(text)
        if entry is None:
            with self._parse_lock:
                try:
                    entry = _parse(text)
                except SparqlError as error:
                    entry = error
            with self._lock:
                self._entries[text] = entry
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        if isinstance(entry, SparqlError):
            raise entry
        return entry


_GUARD = _GuardCache(1024)


def is_checked(text: str) -> bool:
    """Whether the guard's verdict on this text is cached (so checking it costs no parse)."""
    return _GUARD.get(text) is not None


def check_query(text: str) -> CheckedQuery:
    """Parse a query and refuse updates, SERVICE and foreign FROM graphs; cached by text.

    >>> check_query("SELECT ?s WHERE { ?s ?p ?o }").form
    'SELECT'
    >>> check_query("ASK { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    kg.sparql.QueryRefusedError: SERVICE <http://example.org/sparql> is refused: ...
    """
    return _GUARD.check(text)


def check_graphs(iris: Sequence[str], parameter: str) -> None:
    """Refuse protocol graph parameters (default-graph-uri, named-graph-uri) naming foreign graphs."""
    for iri in iris:
        if iri not in DATASET_GRAPHS:
            raise QueryRefusedError(
                "dataset",
                f"{parameter}={iri} is refused: only this endpoint's graphs may be named "
                f"({', '.join(sorted(DATASET_GRAPHS))}); nothing is fetched from elsewhere.",
            )


def formats_for(form: QueryForm) -> dict[str, str]:
    """The result formats (short name -> media type) a query form can be answered in."""
    return RESULTS_FORMATS if form in ("SELECT", "ASK") else GRAPH_FORMATS


def _media_ranges(accept: str) -> list[tuple[str, str, float, int]]:
    ranges = []
    for position, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        kind = pieces[0].lower()
        if "/" not in kind:
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        main, _, sub = kind.partition("/")
        ranges.append((main, sub, quality, position))
    return ranges


def negotiate(accept: str | None, offered: Sequence[str]) -> str | None:
    """Pick the offered media type the Accept header prefers (RFC 9110 q-values and specificity).

    The first offer wins ties and answers an absent or empty header; None means nothing acceptable.

    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", ["application/sparql-results+json",
    ...     "application/sparql-results+xml", "text/csv"])
    'application/sparql-results+xml'
    >>> negotiate("text/*;q=0.9, */*;q=0.1", ["application/n-triples", "text/turtle"])
    'text/turtle'
    >>> negotiate("image/png", ["text/turtle"]) is None
    True
    >>> negotiate("text/turtle;q=0, */*", ["text/turtle", "application/rdf+xml"])
    'application/rdf+xml'
    """
    if not accept or not accept.strip():
        return offered[0] if offered else None
    ranges = _media_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for index, offer in enumerate(offered):
        main, _, sub = offer.partition("/")
        quality = None
        specificity = -1
        for r_main, r_sub, r_quality, _ in ranges:
            if r_main == main and r_sub == sub:
                level = 2
            elif r_main == main and r_sub == "*":
                level = 1
            elif r_main == "*" and r_sub == "*":
                level = 0
            else:
                continue
            if level > specificity:
                specificity, quality = level, r_quality
        if quality is None or quality <= 0:
            continue
        key = (quality, specificity, -index)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen


@dataclass(frozen=True)
class SparqlResult:
    """A serialized answer: its media type, body, and whether rows were cut at the row limit."""

    media_type: str
    body: bytes
    truncated: bool


def _dataset(
    query: CheckedQuery, default_graphs: Sequence[str] | None, named_graphs: Sequence[str] | None
) -> dict[str, list[str] | None]:
    """The RDF dataset of a request, as the SPARQL 1.1 Protocol orders it.

    Protocol parameters (default-graph-uri / named-graph-uri) override the query's FROM / FROM NAMED;
    with neither, the default graph is the union of the named graphs (None tells the worker so). A
    dataset naming only FROM NAMED graphs has an empty default graph, as the spec says.
    """
    if default_graphs or named_graphs:
        return {"default_graphs": list(default_graphs or ()), "named_graphs": list(named_graphs or ())}
    if query.from_graphs or query.from_named:
        return {"default_graphs": list(query.from_graphs), "named_graphs": list(query.from_named)}
    return {"default_graphs": None, "named_graphs": None}


def write_nquads(dataset: Dataset, path: Path) -> None:
    """Write every named graph of an rdflib Dataset to one N-Quads file, through pyoxigraph.

    Each graph goes through rdflib's N-Triples writer (one escaped line per triple) and pyoxigraph's
    bulk loader, which is faster than rdflib's N-Quads writer and avoids its deprecated API.
    """
    store = ox.Store()
    for graph in dataset.graphs():
        if isinstance(graph.identifier, URIRef) and graph.identifier != DATASET_DEFAULT_GRAPH_ID:
            data = graph.serialize(format="nt", encoding="utf-8")
            store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(graph.identifier)))
    store.dump(str(path), format=ox.RdfFormat.N_QUADS)


@dataclass(eq=False)
class _Worker:
    process: asyncio.subprocess.Process

    async def request(self, payload: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(payload).encode() + b"\n")
        await self.process.stdin.drain()
        header = json.loads(await self.process.stdout.readline())
        body = await self.process.stdout.readexactly(header["length"])
        return header, body

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # it may already have exited
            self.process.kill()
        await self.process.wait()


@dataclass
class SparqlEngine:
    """A pool of pyoxigraph worker processes over one N-Quads dump; start it inside a running loop.

    The default graph is the union of the named graphs unless a query or request names graphs.
    Answers are cached by (query, format, dataset, bindings) up to ``cache_bytes`` in all (LRU; answers
    over 1 MiB are not kept): the store never changes while the engine runs, so a cached answer stays
    right, and a repeated query then costs no worker round trip. ``cache_bytes=0`` turns it off.
    """

    dump: Path
    workers: int = 2
    timeout_s: float = 10.0
    max_rows: int = 10_000
    cache_bytes: int = 32 * 2**20
    _cache: OrderedDict[str, SparqlResult] = field(default_factory=OrderedDict, init=False, repr=False)
    _cached_bytes: int = field(default=0, init=False, repr=False)
    _idle: asyncio.Queue[_Worker] = field(init=False, repr=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)
    _live: set[_Worker] = field(default_factory=set, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    @classmethod
    async def from_dataset(
        cls,
        dataset: Dataset,
        *,
        workers: int = 2,
        timeout_s: float = 10.0,
        max_rows: int = 10_000,
        cache_bytes: int = 32 * 2**20,
    ) -> SparqlEngine:
        """Dump the dataset's named graphs to N-Quads in a private temporary folder and start the pool."""
        tmp = tempfile.TemporaryDirectory(prefix="mgkg-sparql-")
        dump = Path(tmp.name) / "dataset.nq"
        write_nquads(dataset, dump)
        engine = cls(dump, workers=workers, timeout_s=timeout_s, max_rows=max_rows, cache_bytes=cache_bytes)
        engine._tmp = tmp
        await engine.start()
        return engine

    async def start(self) -> None:
        """Start the workers and wait until each has loaded the store."""
        self._idle = asyncio.Queue()
        for worker in await asyncio.gather(*(self._spawn() for _ in range(self.workers))):
            self._idle.put_nowait(worker)

    async def _spawn(self) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",  # do not put kg/ on sys.path: its module names must not shadow the standard library
            str(_WORKER_SCRIPT),
            str(self.dump),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**20,
        )
        assert process.stdout is not None
        line = await process.stdout.readline()
        if line != b"READY\n":
            await process.wait()
            raise EngineFailureError(
                f"a SPARQL worker failed to start (exit {process.returncode}); see stderr"
            )
        worker = _Worker(process)
        self._live.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        async def replace() -> None:
            self._live.discard(worker)
            await worker.kill()
            self._idle.put_nowait(await self._spawn())

        task = asyncio.get_running_loop().create_task(replace())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait_for_worker(self) -> _Worker:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._idle.get()
        except TimeoutError:
            raise EngineBusyError(
                f"Every SPARQL worker stayed busy for {self.timeout_s:g} s. Retry shortly, or simplify "
                "the queries."
            ) from None

    async def run(
        self,
        query: CheckedQuery,
        media_type: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        substitutions: Mapping[str, Mapping[str, str]] | None = None,
    ) -> SparqlResult:
        """Run a checked query on a free worker within the time limit and return its serialized answer."""
        payload = {
            "query": query.text,
            "media_type": media_type,
            "max_rows": self.max_rows,
            **_dataset(query, default_graphs, named_graphs),
            "substitutions": dict(substitutions or {}),
        }
        key = json.dumps(payload, sort_keys=True)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        result = await self._execute(payload)
        if len(result.body) <= min(2**20, self.cache_bytes):
            self._cache[key] = result
            self._cached_bytes += len(result.body)
            while self._cached_bytes > self.cache_bytes:
                self._cached_bytes -= len(self._cache.popitem(last=False)[1].body)
        return result

    async def _execute(self, payload: dict[str, Any]) -> SparqlResult:
        try:
            worker = self._idle.get_nowait()  # the common case, without wait_for's extra task
        except asyncio.QueueEmpty:
            worker = await self._wait_for_worker()
        try:
            async with asyncio.timeout(self.timeout_s):  # cheaper than wait_for: no extra task
                header, body = await worker.request(payload)
        except TimeoutError:
            self._replace(worker)
            raise QueryTimeoutError(
                f"The query ran past the {self.timeout_s:g} s limit and was stopped. Narrow it (LIMIT, more "
                "specific patterns) and try again."
            ) from None
        except (asyncio.IncompleteReadError, json.JSONDecodeError, ConnectionError) as error:
            self._replace(worker)
            raise EngineFailureError(
                f"A SPARQL worker died while answering ({error}); it was restarted."
            ) from error
        except asyncio.CancelledError:  # the client went away mid-query: the worker's state is unknown
            self._replace(worker)
            raise
        self._idle.put_nowait(worker)
        if not header["ok"]:
            if header["kind"] == "syntax":
                raise SparqlSyntaxError(header["message"])
            raise EngineFailureError(f"The query could not be evaluated: {header['message']}")
        return SparqlResult(payload["media_type"], body, header["truncated"])

    async def close(self) -> None:
        """Stop every worker and remove the dump."""
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, EngineFailureError):
                await task
        for worker in list(self._live):
            await worker.kill()
        self._live.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
