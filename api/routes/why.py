"""GET /why: the explanation of a finding, as JSON (each node and citation said once) or as a picture."""

from __future__ import annotations

from typing import Annotated, Final

import anyio.to_thread
from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import StateDep
from api.fairness import cpu_limiter
from api.models import WhyResponse
from api.openapi import answer_responses
from api.params import AcceptHeader, ContextQuery, MaxHopsQuery
from api.pictures import choose_format, explanation_response, format_query
from api.state import WhyKey
from kg.causal.network import DEFAULT_SOURCE
from kg.render.formats import MEDIA_TYPES, export_format

router = APIRouter(tags=["why"])

MAX_PATHS = 100
"""The most paths /why returns."""

WHY_OFFERS: Final[tuple[tuple[str, str], ...]] = (("json", "application/json"), *MEDIA_TYPES.items())
"""(format, media type) pairs /why serves, JSON first: the default when the client states no preference."""


@router.get(
    "/why",
    summary="Why does hypomagnesemia lead to a finding?",
    response_model=WhyResponse,
    responses=answer_responses(
        "The explanation as JSON, or its mechanism graph in the format asked for.",
        MEDIA_TYPES.values(),
        (400, 404, 406, 422, 500, 503),
    ),
)
async def why(
    state: StateDep,
    finding: Annotated[
        str, Query(description="Label, synonym, local id, CURIE or IRI.", examples=["hypocalcemia"])
    ],
    source: Annotated[
        str, Query(description="Start of the paths.", examples=["hypomagnesemia"])
    ] = DEFAULT_SOURCE,
    context: ContextQuery = None,
    max_paths: Annotated[int, Query(ge=1, le=MAX_PATHS, description="Most paths to return.")] = 20,
    max_hops: MaxHopsQuery = 10,
    format: Annotated[
        str | None,
        format_query("json (default), svg, dot, graphml, cyjs, mermaid...; else Accept decides.", WHY_OFFERS),
    ] = None,
    accept: AcceptHeader = None,
) -> Response:
    """Ranked, signed, cited paths from ``source`` to ``finding``, grouped by mechanism; each node, step
    and citation is said once, in top-level tables the paths refer to by key; a known finding no path
    reaches gets 200 with no paths and a message saying so. The graph is never rebuilt: answers come
    from the start-up graph and are cached per question."""
    picture = export_format(choose_format(format, accept, WHY_OFFERS))
    key: WhyKey = (finding, source, context, max_paths, max_hops)
    entry = state.why_cache.get(key)
    if entry is None:  # a miss searches paths: off the event loop, one at a time (see cpu_limiter)
        entry = await anyio.to_thread.run_sync(state.why_cache.compute, key, limiter=cpu_limiter())
    explanation, body = entry
    if picture is not None:  # drawing runs Graphviz (a subprocess, up to seconds): off the event loop too
        return await anyio.to_thread.run_sync(explanation_response, explanation, picture, state.renderer)
    return Response(body, media_type="application/json", headers={"Vary": "Accept"})
