"""One SPARQL worker process seen from the pool: start it, send a request, poll or wait for the reply, kill.

kg.sparql.pool hands these out; the process runs kg/sparql/_worker.py and speaks kg/sparql/_wire.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from kg.sparql._wire import (
    READY,
    REPLY_HEAD,
    SANDBOXED,
    Request,
    parse_reply,
    read_exactly,
    request_frame,
    write_all,
)
from kg.sparql.errors import EngineFailureError

_WORKER_SCRIPT: Final = Path(__file__).with_name("_worker.py")
WORKER_NICE: Final = 10
"""How much lower than the server's a worker's CPU priority is while it runs a long query: when runaway
queries keep every CPU busy, the server process (its event loop answers every request, /health
included) and the workers answering quick queries still run first."""
_PIPE_CHUNK: Final = 1 << 20
_LOG: Final = logging.getLogger(__name__)
WorkerStoreSource = Literal["nquads", "oxigraph"]
"""What each worker opens its store from: an N-Quads dump it loads into memory, or an on-disk Oxigraph
store it opens read-only (not the service's store kinds, kg.stores.base.StoreKind)."""


@dataclass(eq=False)
class WorkerProcess:
    """One worker process and its two pipe ends: requests go to ``to_worker``, replies come from
    ``from_worker`` (non-blocking: polled, or read by an event-loop reader callback)."""

    process: subprocess.Popen[bytes]
    to_worker: int
    from_worker: int
    sandboxed: bool = False
    _buffer: bytes = b""
    _waiter: asyncio.Future[tuple[int, bytes]] | None = None
    _interrupt: BaseException | None = None
    demoted: bool = False
    """Whether the worker runs at a lower CPU priority (a long query), see :meth:`demote`."""

    def demote(self) -> None:
        """Lower the worker's CPU priority by :data:`WORKER_NICE` (always allowed) while a long query runs."""
        with contextlib.suppress(OSError):
            base = os.getpriority(os.PRIO_PROCESS, 0)
            os.setpriority(os.PRIO_PROCESS, self.process.pid, min(base + WORKER_NICE, 19))
            self.demoted = True

    def restore(self) -> None:
        """Give the worker the server's CPU priority back, if this process may raise it (CAP_SYS_NICE);
        otherwise it keeps the lower one (it still answers, only behind the server under contention)."""
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self.process.pid, os.getpriority(os.PRIO_PROCESS, 0))
            self.demoted = False

    def send(self, request: Request) -> bool:
        """Write one request frame if it fits the pipe of an idle worker (never blocks); False if not."""
        self._buffer = b""
        frame = request_frame(request)
        if len(frame) > 65_536:
            return False
        write_all(self.to_worker, frame)
        return True

    async def send_large(self, request: Request) -> None:
        """Write a request frame too large for the pipe buffer, from a thread (the worker drains it)."""
        await asyncio.to_thread(write_all, self.to_worker, request_frame(request))

    def poll(self, spin_s: float) -> tuple[int, bytes] | None:
        """Poll the pipe for up to ``spin_s`` for the whole reply; None if it has not come by then.

        A simple query is answered in tens of microseconds, less than it costs to put the event loop
        to sleep and wake it again, so a short poll spares the common case that round trip.
        """
        deadline = time.perf_counter() + spin_s
        while True:
            if self._read():
                reply = parse_reply(self._buffer)
                if reply is not None:
                    return reply
            elif time.perf_counter() < deadline:
                os.sched_yield()  # a polite poll: any other runnable process goes first
            else:
                return None

    async def wait(self) -> tuple[int, bytes]:
        """Wait, in the event loop, for the rest of the reply (status, body)."""
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        if self._interrupt is not None:
            self._waiter.set_exception(self._interrupt)
        loop.add_reader(self.from_worker, self._on_readable)
        try:
            return await self._waiter
        finally:
            loop.remove_reader(self.from_worker)
            self._waiter = None

    @property
    def interrupted(self) -> bool:
        """Whether :meth:`interrupt` was called: the worker must not serve another query."""
        return self._interrupt is not None

    def interrupt(self, error: BaseException) -> None:
        """End the wait for this worker's reply with ``error`` (now, or as soon as the wait begins)."""
        self._interrupt = error
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    def _read(self) -> bool:
        """Append what the pipe holds to the buffer; False when it holds nothing yet."""
        try:
            chunk = os.read(self.from_worker, _PIPE_CHUNK)
        except BlockingIOError:
            return False
        if not chunk:
            raise ConnectionError("the worker closed its pipe")
        self._buffer = self._buffer + chunk if self._buffer else chunk
        return True

    def _on_readable(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        try:
            if not self._read():
                return
            reply = parse_reply(self._buffer)
        except OSError as error:  # ConnectionError is an OSError
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


def start_worker(
    kind: WorkerStoreSource,
    path: str,
    spin_s: float = 0.0,
    cpus: frozenset[int] | None = None,
    memory_mb: int = 0,
    sandbox: bool = True,
    in_memory: bool = False,
) -> WorkerProcess:
    """Start a worker process (on ``cpus`` if given, allowed ``memory_mb`` MiB per query, 0: no limit,
    denied network sockets if ``sandbox``) and wait (blocking: run it in a thread) until its store is
    open; the worker's ready frame says whether its sandbox is on."""
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    fds = (str(request_read), str(reply_write))
    process = subprocess.Popen(
        # -P: do not put kg/ on sys.path, its module names must not shadow the standard library
        [
            *(sys.executable, "-P", str(_WORKER_SCRIPT), kind, path, *fds),
            *(str(spin_s), str(memory_mb * 2**20), "sandbox" if sandbox else "nosandbox"),
            "memory" if in_memory else "disk",
        ],
        pass_fds=(request_read, reply_write),
        stdin=subprocess.DEVNULL,
    )
    os.close(request_read)
    os.close(reply_write)
    worker = WorkerProcess(process, request_write, reply_read)
    if cpus:
        os.sched_setaffinity(process.pid, cpus)
    head = read_exactly(reply_read, REPLY_HEAD.size)
    status, size = REPLY_HEAD.unpack(head) if head is not None else (None, 0)
    body = read_exactly(reply_read, size) if status == READY and size <= 64 else None
    if body is None:
        worker.kill()
        _LOG.error("SPARQL worker %d failed to start (exit %s)", process.pid, process.returncode)
        raise EngineFailureError(f"a SPARQL worker failed to start (exit {process.returncode}); see stderr")
    worker.sandboxed = body == SANDBOXED
    os.set_blocking(reply_read, False)
    _LOG.info(
        "SPARQL worker %d started (%s store, sandbox %s)",
        process.pid,
        kind,
        "on" if worker.sandboxed else "off",
    )
    return worker


def exit_code(process: subprocess.Popen[bytes], wait_s: float = 1.0) -> int | None:
    """The exit code of a worker whose pipe just closed (it may take a moment to exit); None if it lives."""
    try:
        return process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        return None
