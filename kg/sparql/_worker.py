"""The SPARQL worker process: one pyoxigraph Store, answering request frames over two pipes.

Why a process: neither rdflib nor Oxigraph can cancel a running query from another thread, so the only
time limit that really stops the work is killing the process that runs it (kg.sparql.pool does that
and starts a replacement). Why a plain script run by path rather than ``multiprocessing``: a spawned
``multiprocessing`` child would import the ``kg`` package (rdflib, pydantic, ...) and fork is unsafe in a
threaded server; this file imports only the standard library and pyoxigraph, and loads its three
siblings by path (_wire.py: the frames; results.py: the result formats; sandbox.py: the egress
sandbox), so a replacement worker is ready in a fraction of a second.

The store is either loaded from an N-Quads dump (``nquads PATH``, the memory store) or an on-disk
Oxigraph store opened read-only (``oxigraph PATH``: nothing to load, several processes may share it); a
small on-disk store (at most ``memory_quads``, EngineOptions: the pool asks :func:`fits_in_memory` once and
says ``memory`` or ``disk``) is copied into memory once open, since pyoxigraph answers three to seven
times faster from memory than from RocksDB.
Once it is open the worker caps its own data segment (``RLIMIT_DATA``) at what it uses then plus a
headroom, so that one query can take at most that much memory: past it an allocation fails, the worker
dies (Rust aborts on a failed allocation) and the parent reports the limit and starts a new worker.

Answers are written by pyoxigraph's serializers (kg/sparql/results.py). Rows (SELECT) and triples
(CONSTRUCT/DESCRIBE) beyond the row limit are dropped and the reply status says ``TRUNCATED``, so that
a large answer neither floods the parent nor hides that it was cut. The frames are kg/sparql/_wire.py's.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import select
import sys
import time
from collections.abc import Iterable
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox


def _sibling(name: str) -> ModuleType:
    """Load a module beside this script by path (no ``kg`` import), registered under a private name."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"mgkg_worker_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{name}.py is missing beside the SPARQL worker")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from kg.sparql import _wire, results
else:
    _wire = _sibling("_wire")
    results = _sibling("results")

_READ_CHUNK = 1 << 16


def _term_from_wire(spec: dict[str, str]) -> Any:
    """Build a pyoxigraph term from the parent's JSON description (already validated there)."""
    if spec["type"] == "iri":
        return ox.NamedNode(spec["value"])
    if "lang" in spec:
        return ox.Literal(spec["value"], language=spec["lang"])
    if "datatype" in spec:
        return ox.Literal(spec["value"], datatype=ox.NamedNode(spec["datatype"]))
    return ox.Literal(spec["value"])


def _graphs(iris: Iterable[str] | None) -> list[ox.NamedNode] | None:
    return None if iris is None else [ox.NamedNode(iri) for iri in iris]


def execute(store: ox.Store, request: _wire.Request) -> tuple[int, bytes]:
    """Run one request against the store; return the reply status and the serialized body.

    A SELECT answer is written by pyoxigraph into a sink that stops it as soon as it may pass the row
    limit (results.write_bounded); only such an answer is run again and its first rows taken while
    iterating the solutions, so a cross product costs its first ``limit`` rows, never the whole answer.
    A request without dataset or substitutions (the common case) goes to the store with no argument to
    build.
    """
    text, media_type, limit, default_iris, named_iris, bound, base = request

    def run() -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        if default_iris is None and named_iris is None and not bound:
            return store.query(text, base_iri=base, use_default_graph_as_union=True)
        default_graphs = _graphs(default_iris)
        return store.query(
            text,
            base_iri=base,
            use_default_graph_as_union=default_graphs is None,
            default_graph=default_graphs,  # type: ignore[arg-type]  # list[NamedNode] is accepted
            named_graphs=_graphs(named_iris),  # type: ignore[arg-type]
            substitutions={ox.Variable(k): _term_from_wire(v) for k, v in (bound or {}).items()},
        )

    answer = run()
    if isinstance(answer, ox.QuerySolutions):
        body = results.write_bounded(answer, media_type, limit)
        if body is not None:
            return _wire.OK, body
        answer = run()
        assert isinstance(answer, ox.QuerySolutions)
        variables = [v.value for v in answer.variables]
        kept = list(islice(answer, limit + 1))
        body = results.serialize_solutions(variables, kept[:limit], media_type)
        return (_wire.TRUNCATED if len(kept) > limit else _wire.OK), body
    if isinstance(answer, ox.QueryBoolean):
        return _wire.OK, answer.serialize(format=results.results_format(media_type)) or b""
    triples = list(islice(answer, limit + 1))
    body = results.serialize_triples(triples[:limit], media_type)
    return (_wire.TRUNCATED if len(triples) > limit else _wire.OK), body


def fits_in_memory(kind: str, path: str, memory_quads: int) -> bool:
    """Whether the store is an on-disk one of at most ``memory_quads`` quads (0: none is), which
    :func:`load_worker_store` should copy into memory; it counts at most ``memory_quads + 1`` quads.
    Asked once by the pool, whose workers and inline answerer then all open the store alike."""
    if kind != "oxigraph" or memory_quads <= 0:
        return False
    quads = ox.Store.read_only(path).quads_for_pattern(None, None, None, None)
    return sum(1 for _ in islice(quads, memory_quads + 1)) <= memory_quads


def load_worker_store(kind: str, path: str, in_memory: bool = False) -> ox.Store:
    """The worker's store: an N-Quads dump loaded into memory, or an on-disk store opened read-only and,
    if ``in_memory`` (see :func:`fits_in_memory`), copied into a memory store."""
    if kind != "oxigraph":
        store = ox.Store()
        store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
        return store
    disk = ox.Store.read_only(path)
    if not in_memory:
        return disk
    memory = ox.Store()
    memory.extend(disk.quads_for_pattern(None, None, None, None))
    return memory


def limit_memory(headroom_bytes: int) -> None:
    """Cap this process's data segment at its present size plus ``headroom_bytes`` (0: no cap).

    Measured after the store is open, so that the headroom is what any one query may add (on-disk
    stores map their files, which the data limit does not count).
    """
    if headroom_bytes <= 0:
        return
    with open("/proc/self/status", encoding="ascii") as status:
        in_use = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmData:"))
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    soft = in_use + headroom_bytes
    resource.setrlimit(
        resource.RLIMIT_DATA, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
    )


def _next_request(fd: int, spin: float, poller: select.poll) -> bytes | None:
    """The next request frame (without its length), polling for up to ``spin`` seconds before blocking.

    ``fd`` is non-blocking: a frame usually arrives whole and costs one ``read``; a large one is
    completed by waiting on ``poller``. None when the parent closed the pipe.
    """
    deadline = time.perf_counter() + spin
    while True:
        try:
            chunk = os.read(fd, _READ_CHUNK)
            break
        except BlockingIOError:
            if time.perf_counter() < deadline:
                os.sched_yield()  # a polite poll: any other runnable process goes first
            else:
                poller.poll()
    if not chunk:
        return None
    buffer = bytearray(chunk)
    while (
        len(buffer) < _wire.REQUEST_HEAD.size
        or len(buffer) < _wire.REQUEST_HEAD.size + _wire.REQUEST_HEAD.unpack_from(buffer)[0]
    ):
        poller.poll()
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer[_wire.REQUEST_HEAD.size :])


def install_sandbox() -> bool:
    """Deny this process network sockets (sandbox.py beside it, loaded by path: no kg import)."""
    return bool(_sibling("sandbox").deny_network())


def serve(
    kind: str,
    path: str,
    fd_in: int,
    fd_out: int,
    spin: float = 0.0,
    headroom: int = 0,
    sandbox: bool = True,
    in_memory: bool = False,
) -> None:
    """Deny network sockets (``sandbox``), open the store, cap memory, announce readiness (saying whether
    the sandbox is on), then answer requests until the parent closes the pipe.

    After each answer the worker polls for the next request for up to ``spin`` seconds before it
    blocks: waking a sleeping process costs tens of microseconds on a virtual machine, as much as a
    simple query, so back-to-back queries are answered without that wake-up.
    """
    sandboxed = install_sandbox() if sandbox else False
    store = load_worker_store(kind, path, in_memory)
    limit_memory(headroom)
    os.set_blocking(fd_in, False)
    poller = select.poll()
    poller.register(fd_in, select.POLLIN)
    _wire.write_reply(fd_out, _wire.READY, _wire.SANDBOXED if sandboxed else b"")
    while (data := _next_request(fd_in, spin, poller)) is not None:
        try:
            status, body = execute(store, _wire.read_request(data))
        except SyntaxError as error:
            status, body = _wire.SYNTAX_ERROR, str(error).encode()
        except Exception as error:  # reported to the parent as an engine error; the worker keeps serving
            status, body = _wire.ENGINE_ERROR, f"{type(error).__name__}: {error}".encode()
        _wire.write_reply(fd_out, status, body)


if __name__ == "__main__":
    serve(
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
        float(sys.argv[5]),
        int(sys.argv[6]),
        sys.argv[7] != "nosandbox",
        sys.argv[8] == "memory",
    )
