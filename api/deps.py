"""The service's per-process state and the ``Annotated`` dependency aliases routes ask for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from api.config import Settings
from kg.graph.knowledge import KnowledgeGraph
from kg.sparql import QueryEngine
from kg.stores.base import StoreInfo

if TYPE_CHECKING:
    from api.routes.causes import CausesCache
    from api.routes.rest import Catalog
    from api.routes.why import WhyCache


@dataclass(frozen=True)
class ServiceState:
    """What the lifespan builds once and every request reads: never rebuilt, never mutated per request
    (the /why and /causes caches are the exception, and they only memoize answers of an immutable graph)."""

    settings: Settings
    knowledge: KnowledgeGraph
    sparql: QueryEngine
    store: StoreInfo
    catalog: Catalog
    why_cache: WhyCache
    causes_cache: CausesCache


STATE_KEY = "mgkg"
"""The key of the ServiceState in the lifespan state (request.state)."""


# The dependencies are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency
# in its thread pool, a thread hop per dependency per request that halved /sparql's throughput.


def _state(request: Request) -> ServiceState:
    state: ServiceState = getattr(request.state, STATE_KEY)
    return state


async def get_state(request: Request) -> ServiceState:
    """The ServiceState the lifespan yielded (Starlette copies lifespan state onto request.state)."""
    return _state(request)


async def get_kg(request: Request) -> KnowledgeGraph:
    """The knowledge graph, built once at start-up."""
    return _state(request).knowledge


async def get_sparql(request: Request) -> QueryEngine:
    """The SPARQL engine (worker pool or remote store), started once at start-up."""
    return _state(request).sparql


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return _state(request).settings


StateDep = Annotated[ServiceState, Depends(get_state)]
KnowledgeGraphDep = Annotated[KnowledgeGraph, Depends(get_kg)]
SparqlEngineDep = Annotated[QueryEngine, Depends(get_sparql)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
