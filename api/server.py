"""How `mgkg serve` runs uvicorn: one Settings handed to every worker process, never through os.environ.

uvicorn's worker processes are spawned and unpickle their Config, app factory included, before they
answer the supervisor's health checks (five seconds by default), so this module and what its pickled
objects name (api.config, api.protocol) import quickly; the app itself (api.app) is imported by the
factory, in the worker, after the health checks are answered.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.supervisors import Multiprocess

from api.config import Settings
from api.protocol import ProblemHttpToolsProtocol

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger(__name__)


def build_app(settings: Settings) -> FastAPI:
    """The app of one uvicorn worker process, from the settings `mgkg serve` was given."""
    from api.app import create_app

    return create_app(settings)


def serve(settings: Settings, log_level: str = "info") -> bool:
    """Serve the app on ``settings.host``:``settings.port`` with ``settings.workers`` processes, until
    stopped; False when it could not start.

    Each worker process builds its own app and graph from ``functools.partial(build_app, settings)``
    (factory=True); with one worker the server runs in this process, with more uvicorn's Multiprocess
    supervisor spawns, watches and restarts them. The protocol bounds the request head, times out
    unfinished headers and answers in problem+json (api/protocol.py).
    """
    config = uvicorn.Config(
        functools.partial(build_app, settings),
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=log_level,
        http=ProblemHttpToolsProtocol,
    )
    logger.debug("serving on %s:%d with %d worker process(es)", settings.host, settings.port, config.workers)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return True
    server = uvicorn.Server(config)
    server.run()
    return server.started
