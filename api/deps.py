"""The ``Annotated`` dependency aliases routes ask for, over the per-process state of api/state.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.config import Settings
from api.state import STATE_KEY, ServiceState
from kg.graph.knowledge import KnowledgeGraph
from kg.sparql import QueryEngine

# The dependencies are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency
# in its thread pool, a thread hop per dependency per request that halved /sparql's throughput.


def state_of(request: Request) -> ServiceState:
    """The ServiceState of a request, for the routes that take the bare request (the SPARQL routes: no
    dependency to solve on their hot path)."""
    state: ServiceState = getattr(request.state, STATE_KEY)
    return state


async def get_state(request: Request) -> ServiceState:
    """The ServiceState the lifespan yielded (Starlette copies lifespan state onto request.state)."""
    return state_of(request)


async def get_kg(request: Request) -> KnowledgeGraph:
    """The knowledge graph, built once at start-up."""
    return state_of(request).knowledge


async def get_sparql(request: Request) -> QueryEngine:
    """The SPARQL engine (worker pool or remote store), started once at start-up."""
    return state_of(request).sparql


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return state_of(request).settings


StateDep = Annotated[ServiceState, Depends(get_state)]
KnowledgeGraphDep = Annotated[KnowledgeGraph, Depends(get_kg)]
SparqlEngineDep = Annotated[QueryEngine, Depends(get_sparql)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
