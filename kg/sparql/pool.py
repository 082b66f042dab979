"""The local SPARQL engine: a pool of killable pyoxigraph worker processes over one store.

Each worker (kg/sparql/_worker.py) holds its own pyoxigraph Store: an N-Quads dump loaded into memory, or
an on-disk store opened read-only (copied into memory when it holds at most ``memory_quads`` quads). A
query that runs past the time limit has its worker killed and replaced, which is the only way to really
stop it; one that needs more memory than a query may take kills its own worker (see the worker's memory
limit); with two or more workers one slow query never blocks the others. Starts, kills and restarts
are logged. One process, seen from here (start, send, poll, wait, kill), is a
:class:`~kg.sparql.workers.WorkerProcess`.

Why a pool of our own rather than a library's (measured on this stack, issue 13): pyoxigraph 0.5 has
no query timeout and no cancellation (oxigraph#1926), and ``oxigraph serve --timeout-s`` did not stop
a four-way cross product, so the query must run in a process that can be killed; ``pebble``'s process
pool, which kills, costs 262 µs per query against this pool's 42 µs, as much as the query itself; and
``multiprocessing`` children would import the ``kg`` package (see the worker's docstring).

The round trip is kept cheap: each worker has two plain pipes; a request is one length-prefixed
``marshal`` frame written straight to the pipe, and the reply (a status byte, a length, the body written
by pyoxigraph's own serializers) is one frame read back (kg/sparql/_wire.py) with, for a lone query, a
short poll and otherwise a callback the event loop runs when the pipe is readable (``loop.add_reader``):
no stream objects, threads or JSON lines in between. Nothing is built per call that the common request
(no dataset, no substitutions) does not need; the answer cache key is a plain tuple.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pyoxigraph as ox
from rdflib import Dataset, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from kg.sparql._wire import ENGINE_ERROR, SYNTAX_ERROR, TRUNCATED, Request
from kg.sparql._worker import fits_in_memory
from kg.sparql.answers import PLAIN_RUN, AnswerCache, RunOptions, SparqlResult, request_key
from kg.sparql.errors import (
    EngineFailureError,
    QueryMemoryError,
    QueryRefusedError,
    QueryTimeoutError,
    SparqlSyntaxError,
)
from kg.sparql.guard import (
    DATASET_GRAPHS,
    CheckedQuery,
)
from kg.sparql.inline import InlineAnswerer
from kg.sparql.options import EngineOptions
from kg.sparql.scheduler import ClientLimiter, QueryPreemptedError, Scheduler
from kg.sparql.workers import WorkerProcess, WorkerStoreSource, exit_code, start_worker

DEMOTE_AFTER_S: Final = 0.5
"""How long a query runs before its worker's CPU priority is lowered by :data:`WORKER_NICE`."""
_LOG: Final = logging.getLogger(__name__)


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


@dataclass
class SparqlEngine:
    """A pool of pyoxigraph worker processes over one store; start it inside a running event loop.

    ``kind`` says what ``path`` is: an N-Quads dump each worker loads into memory (``nquads``, the memory
    store) or an on-disk Oxigraph store each worker opens read-only (``oxigraph``). Its limits and
    tuning are ``options`` (:class:`~kg.sparql.options.EngineOptions`), which work here as follows.
    ``spin_s`` bounds two short polls that spare a process wake-up on each side of a round trip: the
    parent's for a lone query's reply, a worker's for its next query (0 turns both off). ``pin_cpus``
    (off by default) pins this process to its first allowed CPU and the workers to the others, when
    there are two or more: a polling parent and its worker then never share a CPU, which on a loaded
    2-CPU machine halves the round trip of a simple query; it changes the whole process's affinity, so
    it suits a single server process only (not several uvicorn workers on one machine). The default
    graph is the union of the named graphs unless a query or request names graphs. Answers are cached
    (see :class:`AnswerCache`); ``cache_bytes=0`` turns that off. ``memory_mb`` is what one query may
    add to a worker's memory (its data segment once the store is open): past it the worker dies, the
    caller gets :class:`QueryMemoryError` and a new worker takes its place (0: no limit). ``sandbox``
    (on by default; off only to diagnose) has each worker deny itself network sockets before it opens
    the store (kg.sparql.sandbox); :attr:`egress_sandbox` says whether every worker reported it in force.
    ``inline_rows`` (0: off) lets a one-pattern query of at most that many rows (LIMIT + OFFSET) be
    answered in this process, from its own copy of the store, without a worker (kg.sparql.inline).

    Workers are handed out by a :class:`~kg.sparql.scheduler.Scheduler`: a query's ``deadline`` covers
    waiting and running, ``per_client`` bounds the queries one client may have running or waiting (0: no
    bound), and a query that has run ``preempt_after_s`` may be stopped to free its worker for another
    client's quick query (see kg/sparql/scheduler.py). A query whose caller is cancelled (the client went
    away) is stopped: waiting, it leaves the queue; running, its worker is killed and replaced.
    """

    dump: Path
    options: EngineOptions = field(default_factory=EngineOptions)
    kind: WorkerStoreSource = "nquads"
    named_graphs: frozenset[str] = DATASET_GRAPHS
    _inline: InlineAnswerer | None = field(default=None, init=False, repr=False)
    _cache: AnswerCache = field(init=False, repr=False)
    _worker_cpus: frozenset[int] | None = field(default=None, init=False, repr=False)
    _scheduler: Scheduler[WorkerProcess] = field(init=False, repr=False)
    _limiter: ClientLimiter = field(init=False, repr=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)
    _live: set[WorkerProcess] = field(default_factory=set, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)
    _unsandboxed: int = field(default=-1, init=False, repr=False)
    _in_memory: bool = field(default=False, init=False, repr=False)
    """Whether the on-disk store is small enough to be copied into memory (decided once, at start)."""

    def __post_init__(self) -> None:
        self._cache = AnswerCache(self.options.cache_bytes)
        self._limiter = ClientLimiter(self.options.per_client)
        self._scheduler = Scheduler(
            self.options.workers,
            self._preempt,
            preempt_after_s=self.options.preempt_after_s,
            heavy_for_s=self.options.timeout_s,
        )

    @property
    def graphs(self) -> frozenset[str]:
        """The named graphs of the store."""
        return self.named_graphs

    @property
    def names_any_graph(self) -> bool:
        """True: the workers read only their own store, where a graph it does not hold is an empty one
        (Oxigraph fetches no FROM graph, and the egress sandbox denies them the network anyway)."""
        return True

    @property
    def egress_sandbox(self) -> bool:
        """Whether every worker started so far reported its egress sandbox on (kg.sparql.sandbox)."""
        return self._unsandboxed == 0

    @classmethod
    async def from_dataset(cls, dataset: Dataset, options: EngineOptions | None = None) -> SparqlEngine:
        """Dump the dataset's named graphs to N-Quads in a private temporary folder and start the pool."""
        tmp = tempfile.TemporaryDirectory(prefix="mgkg-sparql-")
        dump = Path(tmp.name) / "dataset.nq"
        write_nquads(dataset, dump)
        graphs = frozenset(str(g.identifier) for g in dataset.graphs() if isinstance(g.identifier, URIRef))
        named = (graphs - {str(DATASET_DEFAULT_GRAPH_ID)}) | DATASET_GRAPHS
        engine = cls(dump, options or EngineOptions(), named_graphs=named)
        engine._tmp = tmp
        await engine.start()
        return engine

    async def start(self) -> None:
        """Start the workers and wait until each has opened the store (pinning CPUs if asked)."""
        allowed = sorted(os.sched_getaffinity(0))
        if self.options.pin_cpus and len(allowed) >= 2:
            os.sched_setaffinity(0, allowed[:1])
            self._worker_cpus = frozenset(allowed[1:])
        self._unsandboxed = 0
        self._in_memory = await asyncio.to_thread(
            fits_in_memory, self.kind, str(self.dump), self.options.memory_quads
        )
        if self.options.inline_rows:
            rows = min(self.options.inline_rows, self.options.max_rows)
            self._inline = await asyncio.to_thread(
                InlineAnswerer.open, self.kind, str(self.dump), rows, self._in_memory
            )
        for worker in await asyncio.gather(*(self._spawn() for _ in range(self.options.workers))):
            self._scheduler.add(worker)
        if not self.egress_sandbox:
            _LOG.warning(
                "The SPARQL workers run WITHOUT the egress sandbox (%s): the guard is the only thing that "
                "keeps queries from making network requests.",
                "turned off by setting"
                if not self.options.sandbox
                else "this platform offers no seccomp filter",
            )

    async def _spawn(self) -> WorkerProcess:
        worker = await asyncio.to_thread(
            start_worker,
            self.kind,
            str(self.dump),
            self.options.spin_s,
            self._worker_cpus,
            self.options.memory_mb,
            self.options.sandbox,
            self._in_memory,
        )
        self._unsandboxed += not worker.sandboxed
        self._live.add(worker)
        return worker

    def _replace(self, worker: WorkerProcess) -> None:
        async def replace() -> None:
            self._live.discard(worker)
            await asyncio.to_thread(worker.kill)
            new = await self._spawn()
            self._scheduler.add(new)
            _LOG.info("SPARQL worker %d replaced by %d", worker.process.pid, new.process.pid)

        task = asyncio.get_running_loop().create_task(replace())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _preempt(self, worker: WorkerProcess) -> None:
        worker.interrupt(
            QueryPreemptedError(
                f"The query ran {self.options.preempt_after_s:g} s or more while every SPARQL worker was "
                "busy with long queries and other clients' queries waited, and was stopped to let them run. "
                "Retry later, or narrow it (LIMIT, more specific patterns)."
            )
        )

    async def run(self, query: CheckedQuery, media_type: str, how: RunOptions = PLAIN_RUN) -> SparqlResult:
        """Run a checked query on a free worker by its deadline and return its serialized answer (``how``:
        the request's dataset, bound parameters, client, deadline and base IRI; see :class:`RunOptions`).
        A one-pattern query with a small LIMIT is answered here instead, from this process's copy of the
        store, in the event loop's next turn with the others that came in meanwhile (kg.sparql.inline)."""
        if self._inline is not None and how.plain_for(query):
            answer = self._inline.submit(query.text, media_type)
            if answer is not None:
                return SparqlResult(media_type, await answer, False)
        request = how.request(query, media_type, self.options.max_rows)
        deadline = how.deadline_by(self.options.timeout_s)
        if not self._cache.max_bytes:
            return await self._execute(request, how.client, deadline)
        key = request_key(request)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = await self._execute(request, how.client, deadline)
        self._cache.put(key, result)
        return result

    async def _execute(self, request: Request, client: str, deadline: float) -> SparqlResult:
        with self._limiter.admit(client):
            worker = self._scheduler.try_acquire(client) or await self._scheduler.acquire(client, deadline)
            reply = await self._ask(worker, request, deadline)
        status, body = reply
        if status == SYNTAX_ERROR:
            raise SparqlSyntaxError.from_engine(body.decode())
        if status == ENGINE_ERROR:
            if worker.sandboxed and body.startswith(b"PermissionError"):  # a socket the sandbox denied
                raise QueryRefusedError(
                    "service",
                    "The query tried to reach the network (SERVICE), which SPARQL workers cannot do: "
                    "this endpoint never makes a network request on a client's behalf. Run federated "
                    "queries from your own client.",
                )
            raise EngineFailureError(f"The query could not be evaluated: {body.decode()}")
        return SparqlResult(request[1], body, status == TRUNCATED)

    async def _ask(self, worker: WorkerProcess, request: Request, deadline: float) -> tuple[int, bytes]:
        """Send the request to the worker and wait for its reply until the deadline; hand the worker back
        to the scheduler (or replace it, when its state is unknown or its query must stop)."""
        try:
            # A lone query (no other in flight: the loop has little else to do) is sent and polled for
            # without the event loop; the time limit is armed only if the answer is not back by then.
            sent = worker.send(request)
            if not sent:
                await worker.send_large(request)
            alone = self._scheduler.idle + 1 >= len(self._live)
            reply = worker.poll(self.options.spin_s) if sent and alone else None
            if reply is None:
                demotion = asyncio.get_running_loop().call_later(DEMOTE_AFTER_S, worker.demote)
                try:
                    async with asyncio.timeout_at(deadline):  # cheaper than wait_for: no extra task
                        reply = await worker.wait()
                finally:
                    demotion.cancel()
        except TimeoutError:
            _LOG.info("SPARQL worker %d killed: its query ran past the deadline", worker.process.pid)
            self._retire(worker)
            raise QueryTimeoutError(
                f"The query ran past the {self.options.timeout_s:g} s limit (waiting for a worker counts "
                "against it) and was stopped. Narrow it (LIMIT, more specific patterns) and try again."
            ) from None
        except QueryPreemptedError:
            _LOG.info(
                "SPARQL worker %d killed: its long query was preempted for other clients", worker.process.pid
            )
            self._retire(worker)
            raise
        except (ConnectionError, OSError, ValueError) as error:
            code = await asyncio.to_thread(exit_code, worker.process)
            self._retire(worker)
            if (
                code == -signal.SIGABRT and self.options.memory_mb
            ):  # how Rust ends a process an allocation failed in
                _LOG.info(
                    "SPARQL worker %d died past its %d MiB memory limit",
                    worker.process.pid,
                    self.options.memory_mb,
                )
                raise QueryMemoryError(
                    f"The query needed more than the {self.options.memory_mb} MiB of memory a query may use "
                    "and was stopped. Narrow it (LIMIT, more specific patterns, no ORDER BY over large "
                    "results)."
                ) from None
            _LOG.warning("SPARQL worker %d died while answering (exit %s)", worker.process.pid, code)
            raise EngineFailureError(
                f"A SPARQL worker died while answering ({error}); it was restarted."
            ) from error
        except asyncio.CancelledError:  # the client went away mid-query: stop the query
            _LOG.info("SPARQL worker %d killed: its client went away mid-query", worker.process.pid)
            self._retire(worker)
            raise
        if worker.interrupted:  # answered in the instant it was to be stopped: replace it all the same
            _LOG.info("SPARQL worker %d retired: it answered as it was being stopped", worker.process.pid)
            self._retire(worker)
            return reply
        if worker.demoted:
            worker.restore()
        self._scheduler.finish(worker, reuse=True)
        return reply

    def _retire(self, worker: WorkerProcess) -> None:
        """Take a worker whose query must stop (or whose state is unknown) out of service and replace it."""
        self._scheduler.finish(worker, reuse=False)
        self._replace(worker)

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
