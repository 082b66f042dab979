"""GET /why: the explanation of a finding, as JSON (each node and citation said once) or as a picture."""

from __future__ import annotations

from typing import Annotated, Final

import anyio.to_thread
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from api.deps import StateDep
from api.errors import ProblemError
from api.fairness import cpu_limiter
from api.models import WhyResponse
from api.negotiation import NegotiationError
from api.openapi import media_content, problems
from api.pictures import choose_format, explanation_response, format_names
from api.state import WhyKey
from kg.causal.network import DEFAULT_SOURCE
from kg.model.types import Severity
from kg.render.formats import EXPORT_FORMATS, MEDIA_TYPES

router = APIRouter(tags=["why"])

MAX_HOPS = 20
"""The longest path /why searches; more would only add noise and time on this graph."""
MAX_PATHS = 100
"""The most paths /why returns."""

WHY_OFFERS: Final[tuple[tuple[str, str], ...]] = (("json", "application/json"), *MEDIA_TYPES.items())
"""(format, media type) pairs /why serves, JSON first: the default when the client states no preference."""


@router.get(
    "/why",
    summary="Why does hypomagnesemia lead to a finding?",
    response_model=WhyResponse,
    responses={
        200: {
            "description": "The explanation as JSON, or its mechanism graph in the format asked for.",
            "content": media_content(MEDIA_TYPES.values()),
        },
        **problems(400, 404, 406, 422, 500, 503),
    },
)
async def why(
    state: StateDep,
    finding: Annotated[
        str, Query(description="Label, synonym, local id, CURIE or IRI.", examples=["hypocalcemia"])
    ],
    source: Annotated[
        str, Query(description="Start of the paths.", examples=["hypomagnesemia"])
    ] = DEFAULT_SOURCE,
    context: Annotated[Severity | None, Query(description="Keep links that hold in this severity.")] = None,
    max_paths: Annotated[int, Query(ge=1, le=MAX_PATHS, description="Most paths to return.")] = 20,
    max_hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="Longest path, in links.")] = 10,
    format: Annotated[
        str | None,
        Query(
            description="json (default), svg, dot, graphml, cyjs, mermaid...; else Accept decides.",
            json_schema_extra={"enum": format_names(WHY_OFFERS)},
        ),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Ranked, signed, cited paths from ``source`` to ``finding``, grouped by mechanism; each node, step
    and citation is said once, in top-level tables the paths refer to by key; a known finding no path
    reaches gets 200 with no paths and a message saying so. The graph is never rebuilt: answers come
    from the start-up graph and are cached per question."""
    try:
        fmt = choose_format(format, accept, WHY_OFFERS)
    except NegotiationError as error:
        raise ProblemError(error.status, "format", "Cannot serve that format", error.detail) from None
    key: WhyKey = (finding, source, context, max_paths, max_hops)
    entry = state.why_cache.get(key)
    if entry is None:  # a miss searches paths: off the event loop, one at a time (see cpu_limiter)
        entry = await anyio.to_thread.run_sync(state.why_cache.compute, key, limiter=cpu_limiter())
    explanation, body = entry
    for export_format in EXPORT_FORMATS:
        if export_format == fmt:
            # drawing runs Graphviz (a subprocess, up to seconds): off the event loop too
            return await anyio.to_thread.run_sync(
                explanation_response, explanation, export_format, state.renderer
            )
    return Response(body, media_type="application/json", headers={"Vary": "Accept"})
