"""The FastAPI application: create_app(settings) and the lifespan that builds the knowledge graph once.

Follows FastAPI's "bigger applications" layout: one router per area (api/routes/), dependencies as
``Annotated`` aliases (api/deps.py), errors as problem+json in one place (api/errors.py). The graph,
the SPARQL worker pool and the indexes are built in the lifespan and handed to requests through the
lifespan state, so no request ever rebuilds anything and nothing is stuck on the app object.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import Settings
from api.errors import install_error_handlers, problem_response
from api.fairness import ArrivalMiddleware
from api.protocol import long_target_detail
from api.routes import case, causes, export, health, pages, queries, rest, sparql, trapi, why
from api.state import STATE_KEY, CausesCache, ServiceState, WhyCache, build_catalog
from kg.causal.network import network_of
from kg.causal.recommend import load_recommendations
from kg.model.vocab import VERSION
from kg.render.graphviz import Renderer
from kg.stores.registry import open_store, parse_store_setting

logger = logging.getLogger(__name__)

DESCRIPTION = """Why does magnesium deficiency produce its findings? Every causal step carries its source.

* `GET /why?finding=hypocalcemia`: ranked, signed, cited paths grouped by mechanism, with what the
  sources advise (recommendations).
* `GET /causes?finding=high urinary magnesium`: the etiologies, drugs, disorders and loss routes a
  finding can come from, each with its cited paths.
* `POST /case`: a patient's findings, labs, exposures and treatments tried, explained as one cited picture.
* `GET /findings`, `/entities/{id}`, `/links/{id}`, `/citations`, `/justify`: the graph as resources.
* `/sparql`: SPARQL 1.1 Protocol, read-only, over the asserted and inferred named graphs.
* `GET /queries`: named SPARQL queries, run with bound parameters.

Errors are `application/problem+json` (RFC 9457) and say what to do.
"""


class UrlLimitMiddleware:
    """Refuse a request target (path and query string) over ``limit`` bytes with 414 problem+json that
    says to send the query by POST (a long GET would otherwise meet the HTTP server's own limits)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"]) + 1
            if size > self.limit:
                detail = long_target_detail(size, self.limit)
                logger.debug("414: request target of %d bytes over the %d accepted", size, self.limit)
                response = problem_response(414, "uri-too-long", "Request target too long", detail)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with 413 problem+json, by header or while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                too_large = True
                raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLargeError:
            if too_large:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        logger.debug("413: request body over the %d bytes accepted", self.limit)
        detail = (
            f"The request body is over {self.limit} bytes. Send a shorter query, or raise "
            "MGKG_MAX_REQUEST_BYTES."
        )
        response = problem_response(413, "body-too-large", "Request body too large", detail)
        await response(scope, receive, send)


class _BodyTooLargeError(Exception):
    """Raised inside the app's receive() when the body outgrows the limit."""


async def build_state(settings: Settings) -> ServiceState:
    """Open the configured store, build the causal network and the catalog, and start the SPARQL engine.

    memory: parse and reason (or read the inference cache), then SPARQL workers each load a dump;
    oxigraph:PATH: no parsing or reasoning, the causal view comes from the store and the workers open
    it read-only; sparql:URL: the causal view comes from the remote store, queries go there too.
    """
    knowledge, info, engine = await open_store(parse_store_setting(settings.store), settings.open_options())
    if not settings.sparql_guard:
        logging.getLogger("mgkg.sparql").warning(
            "MGKG_SPARQL_GUARD is off: /sparql queries reach the engine unchecked (tests and diagnosis only)."
        )
    network = await anyio.to_thread.run_sync(network_of, knowledge)
    await anyio.to_thread.run_sync(network.signed_index)  # built once here, not by the first /why
    advice = await anyio.to_thread.run_sync(load_recommendations, knowledge.asserted.graph, network)
    state = ServiceState(
        settings=settings,
        knowledge=knowledge,
        sparql=engine,
        store=info,
        catalog=build_catalog(network),
        why_cache=WhyCache(network, settings.why_cache_size, advice),
        causes_cache=CausesCache(network, advice, settings.why_cache_size),
        renderer=Renderer(settings.renderer, settings.dot),
    )
    # The graph is hundreds of thousands of long-lived objects that never become garbage; moving them
    # out of the collector's reach keeps full collections (tens of ms each) out of request latency.
    gc.collect()
    gc.freeze()
    return state


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the graph is loaded when the app starts (its lifespan), not here."""
    config = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, ServiceState]]:
        state = await build_state(config)
        try:
            yield {STATE_KEY: state}
        finally:
            await state.sparql.close()

    # FastAPIOffline: /docs (Swagger UI) served from files installed with the package, not a CDN. No /redoc:
    # ReDoc's page fetches its logo from the vendor's CDN whatever it is told.
    app = FastAPIOffline(
        redoc_url=None,
        title="mgkg",
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (health, why, causes, case, rest, sparql, queries, export, pages, trapi):
        app.include_router(module.router)
    app.router.routes.insert(0, sparql.SPARQL_ROUTE)  # the hot path first, past FastAPI's handling
    app.mount(pages.STATIC_PATH, pages.static_files(), name="static")
    trapi.install_translator_info(app)
    app.add_middleware(BodyLimitMiddleware, limit=config.max_request_bytes)
    app.add_middleware(UrlLimitMiddleware, limit=config.max_url_bytes)
    # CORS: every route only reads (GET, HEAD, and POST for queries and cases), so a page on another origin
    # (YASGUI elsewhere, a notebook) may call it; answers and refusals alike carry the headers.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=config.allowed_origins,
        allow_methods=["GET", "HEAD", "POST"],
        allow_headers=["*"],
        expose_headers=list(sparql.EXPOSED_HEADERS),
        max_age=600,
    )
    app.add_middleware(ArrivalMiddleware)  # outermost: the arrival time is the first thing stamped
    return app
