"""GET /health: the trivial route that answers once the graph and the SPARQL workers are ready."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import StateDep
from api.models import HealthResponse
from kg.model.vocab import VERSION

router = APIRouter(tags=["service"])


@router.get("/health", summary="Is the service ready?", response_model=HealthResponse)
async def health(state: StateDep) -> HealthResponse:
    """Answers 200 as soon as the lifespan has loaded the graph and started the SPARQL workers; it never
    touches the worker pool, so a slow query cannot delay it."""
    return HealthResponse(
        status="ok",
        version=VERSION,
        asserted_triples=state.store.asserted_triples,
        inferred_triples=state.store.inferred_triples,
        inference_cache=state.knowledge.cache.state,
        sparql_workers=state.sparql.options.workers,
        egress_sandbox=state.sparql.egress_sandbox,
    )
