"""Per request, what fair scheduling needs: who asks, by when, and whether they still wait for the answer.

The arrival time is stamped by :class:`ArrivalMiddleware` as the request enters the app, so that a
query's deadline (arrival + the SPARQL time limit) covers the time it waited anywhere in the service.
The client is the peer address as uvicorn reports it: behind a proxy on 127.0.0.1, uvicorn takes it from
``X-Forwarded-For`` (its ``--forwarded-allow-ips`` default), so clients are told apart behind the proxy.
:func:`until_disconnected` stops a query whose client has gone away (its worker is then freed).
:func:`cpu_limiter` is the one lane for Python work taken off the event loop (path searches): one thread
at a time, because every such thread competes with the event loop for the GIL.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import anyio
from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

T = TypeVar("T")
ARRIVED_KEY: Final = "mgkg_arrived"
"""The request-state key of the monotonic time the request entered the app."""


class ArrivalMiddleware:
    """Stamp each HTTP request's state with the monotonic time it entered the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})[ARRIVED_KEY] = time.monotonic()
        await self.app(scope, receive, send)


WATCH_AFTER_S: Final = 0.01
"""How long work runs before :func:`until_disconnected` starts watching for its client's disconnect."""

_CPU_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def cpu_limiter() -> anyio.CapacityLimiter:
    """The running event loop's limiter for CPU-bound Python work in threads: one at a time.

    Python threads share one GIL with the event loop, and CPython hands the GIL to any waiting thread,
    not to the one that asked: with N threads searching paths, the event loop ran about 1/(N+1) of the
    time, so every request (even /health) waited for tens to hundreds of milliseconds under load. With
    one such thread the loop gets the GIL back within a switch interval. Pure-Python work gains nothing
    from more threads anyway (the GIL runs one at a time).
    """
    loop = asyncio.get_running_loop()
    limiter = _CPU_LIMITERS.get(loop)
    if limiter is None:
        limiter = _CPU_LIMITERS[loop] = anyio.CapacityLimiter(1)
    return limiter


def deadline_of(request: Request, seconds: float) -> float:
    """The monotonic deadline ``seconds`` after the request arrived (now, if it was not stamped)."""
    arrived = request.scope.get("state", {}).get(ARRIVED_KEY)
    return (arrived if isinstance(arrived, float) else time.monotonic()) + seconds


def client_of(request: Request) -> str:
    """Who asks: the client's address (host only: one client may open many connections)."""
    return request.client.host if request.client is not None else "unknown"


async def until_disconnected(request: Request, work: Callable[[], Awaitable[T]]) -> T | None:
    """Await ``work()``; if the client disconnects first, cancel it and return None (nobody reads it).

    A watcher task waits on the ASGI ``receive`` channel, which (the body being read) yields
    ``http.disconnect`` when the connection goes. Cancelling the work is what frees a SPARQL worker: a
    waiting query leaves the queue, a running one has its worker killed and replaced. The watcher is
    started only once the work has taken :data:`WATCH_AFTER_S`: work done sooner (a query answered in
    this process, in the loop's next turn, or a quick one from a worker) finishes before a disconnect
    could free anything, and costs no task.
    """
    current = asyncio.current_task()
    assert current is not None
    gone = False
    watchers: list[asyncio.Task[None]] = []

    async def watch() -> None:
        nonlocal gone
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                logger.debug(
                    "%s disconnected from %s: its work is cancelled", client_of(request), request.url.path
                )
                gone = True
                current.cancel()
                return

    start = asyncio.get_running_loop().call_later(
        WATCH_AFTER_S, lambda: watchers.append(asyncio.create_task(watch()))
    )
    try:
        return await work()
    except asyncio.CancelledError:
        if gone and current.uncancel() == 0:
            return None
        raise
    finally:
        start.cancel()
        for watcher in watchers:
            watcher.cancel()
