"""Fair access to the SPARQL workers: one deadline per query, a bound per client, quick queries first.

A handful of worker processes serve every client, so without rules two clients sending runaway queries
hold every worker and everyone else waits. The rules, in the order they act:

- **A bound per client.** :class:`ClientLimiter` counts the queries each client (by address) has running
  or waiting; one more than ``per_client`` is refused at once with :class:`ClientLimitError` (429).
- **One deadline.** A query's deadline is set when its request arrives; waiting for a worker and running
  share it. A query still waiting at its deadline is refused with :class:`EngineBusyError` (503).
- **Quick clients first.** A free worker goes to the waiting query whose client is not *heavy* (has had
  a query run ``preempt_after_s`` or longer, now or within the last ``heavy_for_s``), then to the client
  holding the fewest workers, then first come first served. Heavy clients together hold at most all
  workers but one (with two or more): the last stays free for quick queries.
- **No worker is held against quick queries.** When a query of a client that is not heavy waits and every
  busy worker runs a heavy client's query, the one of those that has run ``preempt_after_s`` or longer
  (from the client holding the most workers, the most recent first) is stopped: its worker is replaced
  and its client gets :class:`QueryPreemptedError` (503, retry later). This is for clients not yet
  known to be heavy (a first burst of runaways); once known, the rule above keeps a worker free.

The scheduler is generic over the worker type and never touches a process itself: the pool gives it
free workers (:meth:`Scheduler.add`), takes them (:meth:`Scheduler.acquire`), hands them back
(:meth:`Scheduler.finish`) and is asked to stop a query through the ``preempt`` callback.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from kg.sparql.errors import EngineBusyError

W = TypeVar("W")
LOCAL_CLIENT = "local"
"""The client name of queries that come from this process itself (the command line)."""


class ClientLimitError(EngineBusyError):
    """A client already has as many queries running or waiting as one client may have."""

    def __init__(self, detail: str, retry_after_s: int = 1) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(detail)


class QueryPreemptedError(EngineBusyError):
    """A long query was stopped to free its worker for another client's quick query."""


@dataclass
class ClientLimiter:
    """Counts each client's queries running or waiting; refuses one over ``per_client`` (0: no bound)."""

    per_client: int
    _active: dict[str, int] = field(default_factory=dict)

    @contextmanager
    def admit(self, client: str) -> Iterator[None]:
        """Count one query of ``client`` for as long as the block runs; raise ClientLimitError if over."""
        count = self._active.get(client, 0)
        if self.per_client and count >= self.per_client:
            raise ClientLimitError(
                f"This client ({client}) already has {count} SPARQL queries running or waiting, the most "
                f"one client may have (MGKG_SPARQL_PER_CLIENT={self.per_client}). Wait for an answer "
                "before sending another query."
            )
        self._active[client] = count + 1
        try:
            yield
        finally:
            left = self._active[client] - 1
            if left:
                self._active[client] = left
            else:
                del self._active[client]

    def active(self, client: str) -> int:
        """The queries ``client`` has running or waiting now."""
        return self._active.get(client, 0)


@dataclass(eq=False)
class _Ticket(Generic[W]):
    client: str
    seq: int
    future: asyncio.Future[W]


@dataclass
class _Run:
    client: str
    started: float


class Scheduler(Generic[W]):
    """Hands ``size`` workers to queries by the rules in this module's docstring (monotonic clock)."""

    def __init__(
        self,
        size: int,
        preempt: Callable[[W], None],
        *,
        preempt_after_s: float = 2.0,
        heavy_for_s: float = 10.0,
    ) -> None:
        self.size = size
        self.preempt_after_s = preempt_after_s
        self.heavy_for_s = heavy_for_s
        self._preempt = preempt
        self._idle: list[W] = []  # last in, first out: the warmest worker first
        self._running: dict[W, _Run] = {}
        self._waiting: list[_Ticket[W]] = []
        self._heavy_until: dict[str, float] = {}
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0
        self._stopping: set[W] = set()  # preempted, not yet finished

    @property
    def idle(self) -> int:
        """Workers free now."""
        return len(self._idle)

    @property
    def waiting(self) -> int:
        """Queries waiting for a worker now."""
        return len(self._waiting)

    def add(self, worker: W) -> None:
        """A worker is ready for a query (newly started, or a replacement)."""
        self._idle.append(worker)
        self._dispatch()

    def finish(self, worker: W, *, reuse: bool) -> None:
        """The worker's query is over; ``reuse``: the worker is free again (else it is being replaced)."""
        run = self._running.pop(worker, None)
        self._stopping.discard(worker)
        now = time.monotonic()
        if run is not None and now - run.started >= self.preempt_after_s:
            self._heavy_until[run.client] = now + self.heavy_for_s
            if len(self._heavy_until) > 4096:  # forget clients whose cool-down is over
                self._heavy_until = {c: t for c, t in self._heavy_until.items() if t > now}
        if reuse:
            self._idle.append(worker)
        self._dispatch()

    def try_acquire(self, client: str) -> W | None:
        """A free worker for ``client`` at once, if one is free and no other query waits; else None."""
        if not self._idle or self._waiting:
            return None
        worker = self._idle.pop()
        self._running[worker] = _Run(client, time.monotonic())
        return worker

    async def acquire(self, client: str, deadline: float) -> W:
        """A worker for ``client``, waiting (fairly) until ``deadline`` at the latest (EngineBusyError)."""
        worker = self.try_acquire(client)
        if worker is not None:
            return worker
        ticket: _Ticket[W] = _Ticket(client, next(self._seq), asyncio.get_running_loop().create_future())
        self._waiting.append(ticket)
        self._dispatch()
        try:
            async with asyncio.timeout_at(deadline):
                return await ticket.future
        except BaseException as error:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
            elif ticket.future.done() and not ticket.future.cancelled():
                # handed a worker in the same instant the wait ended: it never saw the query
                self._running.pop(ticket.future.result(), None)
                self.add(ticket.future.result())
            self._dispatch()
            if isinstance(error, TimeoutError):
                raise EngineBusyError(
                    "No SPARQL worker became free before this query's time limit (waiting counts against "
                    "it). Retry shortly, or simplify the queries."
                ) from None
            raise

    def _heavy_test(self, now: float) -> Callable[[str], bool]:
        """Whether a client is heavy now: one pass over the running queries, then a set and a dict look-up
        per client (the dispatch asks it of every waiting query; scanning the running ones each time was
        a measurable share of a simple query's cost under load)."""
        long_s = self.preempt_after_s
        running_long = {run.client for run in self._running.values() if now - run.started >= long_s}
        until = self._heavy_until
        return lambda client: client in running_long or until.get(client, 0.0) > now

    def _dispatch(self) -> None:
        now = time.monotonic()
        if self._idle and self._waiting:
            heavy = self._heavy_test(now)
            held: dict[str, int] = {}
            for run in self._running.values():
                held[run.client] = held.get(run.client, 0) + 1
            while self._idle and self._waiting:
                ticket = min(self._waiting, key=lambda t: (heavy(t.client), held.get(t.client, 0), t.seq))
                if heavy(ticket.client) and self.size > 1:
                    busy = sum(1 for run in self._running.values() if heavy(run.client))
                    if busy + 1 >= self.size:  # the last worker stays for quick queries
                        break
                self._waiting.remove(ticket)
                if ticket.future.done():  # its wait already ended
                    continue
                worker = self._idle.pop()
                self._running[worker] = _Run(ticket.client, now)
                held[ticket.client] = held.get(ticket.client, 0) + 1
                ticket.future.set_result(worker)
        self._plan_preemption(now)

    def _plan_preemption(self, now: float) -> None:
        """Stop a heavy query if a quick one waits behind only heavy ones; else look again when due."""
        if self._idle or not self._running or not self._waiting:
            self._cancel_timer()
            return
        heavy = self._heavy_test(now)
        quick_waiting = sum(1 for t in self._waiting if not heavy(t.client))
        # workers being restarted, or whose query is being stopped, serve the next waiting queries
        replacing = self.size - len(self._idle) - len(self._running) + len(self._stopping)
        if quick_waiting <= replacing:
            self._cancel_timer()
            return
        running = {w: r for w, r in self._running.items() if w not in self._stopping}
        ripe = [(w, r) for w, r in running.items() if now - r.started >= self.preempt_after_s]
        if not ripe or not all(heavy(run.client) for run in running.values()):
            young = [r.started for r in running.values() if now - r.started < self.preempt_after_s]
            if young:  # look again when the oldest of them has run long enough to count as heavy
                self._look_again_at(min(young) + self.preempt_after_s + 1e-3)
            else:
                self._cancel_timer()
            return
        self._cancel_timer()
        held: dict[str, int] = {}
        for run in self._running.values():
            held[run.client] = held.get(run.client, 0) + 1
        worker, _ = max(ripe, key=lambda item: (held[item[1].client], item[1].started))
        self._stopping.add(worker)
        self._preempt(worker)  # the pool stops the query; finish(reuse=False) follows

    def _look_again_at(self, due: float) -> None:
        """Have the dispatch run again by ``due`` (monotonic). A timer already set for then or earlier is
        kept (when it fires the dispatch plans again), so that a busy queue of quick queries does not
        cancel and recreate a timer per query."""
        if self._timer is not None and self._timer_due <= due:
            return
        self._cancel_timer()
        self._timer, self._timer_due = asyncio.get_running_loop().call_at(due, self._on_timer), due

    def _on_timer(self) -> None:
        self._timer = None  # fired: the next plan sets a new one, even for the same time
        self._dispatch()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def deadline_after(seconds: float) -> float:
    """The monotonic deadline ``seconds`` from now (the clock asyncio's ``timeout_at`` reads).

    >>> deadline_after(1.0) > time.monotonic()
    True
    """
    return time.monotonic() + seconds


def retry_after(seconds: float) -> str:
    """A Retry-After value (whole seconds, at least 1).

    >>> retry_after(0.2), retry_after(2.5)
    ('1', '3')
    """
    return str(max(1, math.ceil(seconds)))
