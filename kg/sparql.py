"""A read-only, bounded SPARQL engine: a pool of killable pyoxigraph worker processes behind the guard.

The guard (kg.sparql_guard) parses every query and refuses what writes or reaches outside; the formats
and Accept negotiation live in kg.sparql_formats; both are re-exported here. This module runs checked
queries in worker processes (kg/sparql_worker.py), each holding its own pyoxigraph Store (an N-Quads
dump loaded into memory, or an on-disk store opened read-only). A query that runs past the time limit
has its worker killed and replaced, which is the only way to really stop it; with two or more workers
one slow query never blocks the others.

The round trip is kept cheap: each worker has two plain pipes; a request is one length-prefixed
``marshal`` frame written straight to the pipe, and the reply is read by a callback the event loop
runs when the pipe is readable (``loop.add_reader``), with no stream objects, threads or JSON lines in
between. Bodies are written in the worker by pyoxigraph's own serializers and passed through untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import marshal
import os
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import pyoxigraph as ox
from rdflib import Dataset, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from kg.sparql_formats import GRAPH_FORMATS, RESULTS_FORMATS, formats_for, negotiate
from kg.sparql_guard import (
    DATASET_GRAPHS,
    CheckedQuery,
    EngineBusyError,
    EngineFailureError,
    QueryForm,
    QueryRefusedError,
    QueryTimeoutError,
    SparqlError,
    SparqlSyntaxError,
    check_graphs,
    check_query,
    is_checked,
)
from kg.sparql_worker import REPLY_HEAD, REQUEST_HEAD, read_exactly, write_all

__all__ = [
    "DATASET_GRAPHS",
    "GRAPH_FORMATS",
    "RESULTS_FORMATS",
    "AnswerCache",
    "CheckedQuery",
    "EngineBusyError",
    "EngineFailureError",
    "QueryEngine",
    "QueryForm",
    "QueryRefusedError",
    "QueryTimeoutError",
    "SparqlEngine",
    "SparqlError",
    "SparqlResult",
    "SparqlSyntaxError",
    "check_graphs",
    "check_query",
    "formats_for",
    "is_checked",
    "negotiate",
    "write_nquads",
]

_WORKER_SCRIPT: Final = Path(__file__).with_name("sparql_worker.py")
_PIPE_CHUNK: Final = 1 << 20
StoreKind = Literal["nquads", "oxigraph"]


@dataclass(frozen=True)
class SparqlResult:
    """A serialized answer: its media type, body, and whether rows were cut at the row limit."""

    media_type: str
    body: bytes
    truncated: bool


class QueryEngine(Protocol):
    """What the service asks of a SPARQL engine, local worker pool or remote store alike."""

    max_rows: int
    workers: int

    @property
    def graphs(self) -> frozenset[str]:
        """The named graphs a query may name (FROM, FROM NAMED, graph parameters)."""
        ...

    async def run(
        self,
        query: CheckedQuery,
        media_type: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        substitutions: Mapping[str, Mapping[str, str]] | None = None,
    ) -> SparqlResult:
        """Run a checked query within the time limit and return its serialized answer."""
        ...

    async def close(self) -> None:
        """Release workers, connections and temporary files."""
        ...


def dataset_of(
    query: CheckedQuery, default_graphs: Sequence[str] | None, named_graphs: Sequence[str] | None
) -> tuple[list[str] | None, list[str] | None]:
    """The RDF dataset of a request, as the SPARQL 1.1 Protocol orders it: (default graphs, named graphs).

    Protocol parameters (default-graph-uri / named-graph-uri) override the query's FROM / FROM NAMED;
    with neither, (None, None) means the default graph is the union of the named graphs. A dataset
    naming only FROM NAMED graphs has an empty default graph, as the spec says.

    >>> dataset_of(CheckedQuery("ASK {}", "ASK", ("urn:g",)), None, None)
    (['urn:g'], [])
    >>> dataset_of(CheckedQuery("ASK {}", "ASK"), None, None)
    (None, None)
    """
    if default_graphs or named_graphs:
        return list(default_graphs or ()), list(named_graphs or ())
    if query.from_graphs or query.from_named:
        return list(query.from_graphs), list(query.from_named)
    return None, None


class AnswerCache:
    """Serialized answers by request key, bounded in bytes (LRU; answers over 1 MiB are not kept).

    The store never changes while an engine runs, so a cached answer stays right and a repeated query
    costs a dict lookup. ``max_bytes=0`` turns it off.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, SparqlResult] = OrderedDict()
        self._bytes = 0

    def get(self, key: str) -> SparqlResult | None:
        """The cached answer, marked recently used, or None."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: str, result: SparqlResult) -> None:
        """Keep an answer if it fits, evicting the least recently used."""
        if len(result.body) > min(2**20, self.max_bytes):
            return
        self._entries[key] = result
        self._bytes += len(result.body)
        while self._bytes > self.max_bytes:
            self._bytes -= len(self._entries.popitem(last=False)[1].body)


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
    """One worker process and its two pipe ends: requests go to ``to_worker``, replies come from
    ``from_worker`` (non-blocking, read by an event-loop reader callback)."""

    process: subprocess.Popen[bytes]
    to_worker: int
    from_worker: int
    _buffer: bytearray = field(default_factory=bytearray)
    _waiter: asyncio.Future[tuple[dict[str, Any], bytes]] | None = None

    async def request(self, payload: dict[str, Any], spin_s: float = 0.0) -> tuple[dict[str, Any], bytes]:
        """Send one request frame and wait for the reply frame (header dict, body).

        ``spin_s`` > 0 first polls the pipe for up to that long before handing the wait to the event
        loop: a simple query is answered in tens of microseconds, less than it costs to put the loop
        to sleep and wake it again, so a short poll halves the round trip of the common case.
        """
        data = marshal.dumps(payload)
        frame = REQUEST_HEAD.pack(len(data)) + data
        loop = asyncio.get_running_loop()
        if len(frame) <= 65_536:  # fits the pipe buffer of an idle worker: never blocks
            write_all(self.to_worker, frame)
        else:
            await loop.run_in_executor(None, write_all, self.to_worker, frame)
        self._buffer.clear()
        if spin_s > 0:
            deadline = time.perf_counter() + spin_s
            while time.perf_counter() < deadline:
                if not self._read():
                    os.sched_yield()  # a polite poll: any other runnable process goes first
                    continue
                reply = self._reply()
                if reply is not None:
                    return reply
        self._waiter = loop.create_future()
        loop.add_reader(self.from_worker, self._on_readable)
        try:
            return await self._waiter
        finally:
            loop.remove_reader(self.from_worker)
            self._waiter = None

    def _read(self) -> bool:
        """Append what the pipe holds to the buffer; False when it holds nothing yet."""
        try:
            chunk = os.read(self.from_worker, _PIPE_CHUNK)
        except BlockingIOError:
            return False
        if not chunk:
            raise ConnectionError("the worker closed its pipe")
        self._buffer += chunk
        return True

    def _reply(self) -> tuple[dict[str, Any], bytes] | None:
        """The reply frame, once the buffer holds all of it."""
        if len(self._buffer) < REPLY_HEAD.size:
            return None
        header_size, body_size = REPLY_HEAD.unpack_from(self._buffer)
        end = REPLY_HEAD.size + header_size
        if len(self._buffer) < end + body_size:
            return None
        return marshal.loads(self._buffer[REPLY_HEAD.size : end]), bytes(self._buffer[end : end + body_size])

    def _on_readable(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        try:
            if not self._read():
                return
            reply = self._reply()
        except (OSError, ValueError, EOFError) as error:  # ConnectionError is an OSError
            waiter.set_exception(ConnectionError(str(error)))
            return
        if reply is not None:
            waiter.set_result(reply)

    def kill(self) -> None:
        """Kill the process (it may already have exited), reap it and close the pipes."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        for fd in (self.to_worker, self.from_worker):
            with contextlib.suppress(OSError):
                os.close(fd)


def _start_worker(kind: StoreKind, path: str, spin_s: float = 0.0) -> _Worker:
    """Start a worker process and wait (blocking: run it in a thread) until its store is open."""
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    fds = (str(request_read), str(reply_write))
    process = subprocess.Popen(
        # -P: do not put kg/ on sys.path, its module names must not shadow the standard library
        [sys.executable, "-P", str(_WORKER_SCRIPT), kind, path, *fds, str(spin_s)],
        pass_fds=(request_read, reply_write),
        stdin=subprocess.DEVNULL,
    )
    os.close(request_read)
    os.close(reply_write)
    worker = _Worker(process, request_write, reply_read)
    head = read_exactly(reply_read, REPLY_HEAD.size)
    if head is None or read_exactly(reply_read, sum(REPLY_HEAD.unpack(head))) is None:
        worker.kill()
        raise EngineFailureError(f"a SPARQL worker failed to start (exit {process.returncode}); see stderr")
    os.set_blocking(reply_read, False)
    return worker


@dataclass
class SparqlEngine:
    """A pool of pyoxigraph worker processes over one store; start it inside a running event loop.

    ``kind`` says what ``path`` is: an N-Quads dump each worker loads into memory (``nquads``, the memory
    store) or an on-disk Oxigraph store each worker opens read-only (``oxigraph``). ``spin_s`` bounds two
    short polls that spare a process wake-up on each side of a round trip: the parent's for a lone
    query's reply, a worker's for its next query (0 turns both off). The default graph is
    the union of the named graphs unless a query or request names graphs. Answers are cached (see
    :class:`AnswerCache`); ``cache_bytes=0`` turns that off.
    """

    dump: Path
    workers: int = 2
    timeout_s: float = 10.0
    max_rows: int = 10_000
    cache_bytes: int = 32 * 2**20
    kind: StoreKind = "nquads"
    named_graphs: frozenset[str] = DATASET_GRAPHS
    spin_s: float = 1e-3
    _cache: AnswerCache = field(init=False, repr=False)
    _idle: asyncio.Queue[_Worker] = field(init=False, repr=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)
    _live: set[_Worker] = field(default_factory=set, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._cache = AnswerCache(self.cache_bytes)

    @property
    def graphs(self) -> frozenset[str]:
        """The named graphs of the store: the only ones a query may name."""
        return self.named_graphs

    @classmethod
    async def from_dataset(
        cls,
        dataset: Dataset,
        *,
        workers: int = 2,
        timeout_s: float = 10.0,
        max_rows: int = 10_000,
        cache_bytes: int = 32 * 2**20,
        spin_s: float = 1e-3,
    ) -> SparqlEngine:
        """Dump the dataset's named graphs to N-Quads in a private temporary folder and start the pool."""
        tmp = tempfile.TemporaryDirectory(prefix="mgkg-sparql-")
        dump = Path(tmp.name) / "dataset.nq"
        write_nquads(dataset, dump)
        graphs = frozenset(str(g.identifier) for g in dataset.graphs() if isinstance(g.identifier, URIRef))
        engine = cls(
            dump,
            workers=workers,
            timeout_s=timeout_s,
            max_rows=max_rows,
            cache_bytes=cache_bytes,
            named_graphs=(graphs - {str(DATASET_DEFAULT_GRAPH_ID)}) | DATASET_GRAPHS,
            spin_s=spin_s,
        )
        engine._tmp = tmp
        await engine.start()
        return engine

    async def start(self) -> None:
        """Start the workers and wait until each has opened the store."""
        self._idle = asyncio.LifoQueue()  # the last worker used is the warmest (caches, scheduler)
        for worker in await asyncio.gather(*(self._spawn() for _ in range(self.workers))):
            self._idle.put_nowait(worker)

    async def _spawn(self) -> _Worker:
        worker = await asyncio.to_thread(_start_worker, self.kind, str(self.dump), self.spin_s)
        self._live.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        async def replace() -> None:
            self._live.discard(worker)
            await asyncio.to_thread(worker.kill)
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
        default, named = dataset_of(query, default_graphs, named_graphs)
        payload = {
            "query": query.text,
            "media_type": media_type,
            "max_rows": self.max_rows,
            "default_graphs": default,
            "named_graphs": named,
            "substitutions": {k: dict(v) for k, v in (substitutions or {}).items()},
        }
        if not self._cache.max_bytes:
            return await self._execute(payload)
        key = json.dumps(payload, sort_keys=True)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = await self._execute(payload)
        self._cache.put(key, result)
        return result

    async def _execute(self, payload: dict[str, Any]) -> SparqlResult:
        try:
            worker = self._idle.get_nowait()  # the common case, without wait_for's extra task
        except asyncio.QueueEmpty:
            worker = await self._wait_for_worker()
        try:
            async with asyncio.timeout(self.timeout_s):  # cheaper than wait_for: no extra task
                # poll briefly only when no other query is in flight (the loop has little else to do)
                alone = self._idle.qsize() + 1 >= len(self._live)
                header, body = await worker.request(payload, self.spin_s if alone else 0.0)
        except TimeoutError:
            self._replace(worker)
            raise QueryTimeoutError(
                f"The query ran past the {self.timeout_s:g} s limit and was stopped. Narrow it (LIMIT, more "
                "specific patterns) and try again."
            ) from None
        except (ConnectionError, OSError, ValueError, EOFError) as error:
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
            await asyncio.to_thread(worker.kill)
        self._live.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
