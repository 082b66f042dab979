"""GET /causes: what a finding can come from (etiologies, drugs, disorders, loss routes), with paths."""

from __future__ import annotations

from typing import Annotated, Final

import anyio.to_thread
from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import StateDep
from api.fairness import cpu_limiter
from api.models import CausesResponse
from api.openapi import answer_responses
from api.params import AcceptHeader, ContextQuery, MaxHopsQuery
from api.pictures import choose_format, format_query, graph_response
from api.state import CausesKey
from kg.causal.causes import format_causes
from kg.render.formats import MEDIA_TYPES, export_format
from kg.render.picture import causes_graph

router = APIRouter(tags=["why"])

MAX_PATHS: Final = 20
"""The most paths /causes gives per cause."""

CAUSES_OFFERS: Final[tuple[tuple[str, str], ...]] = (
    ("json", "application/json"),
    ("text", "text/plain"),
    *MEDIA_TYPES.items(),
)
"""(format, media type) pairs /causes serves: its JSON first (the default), plain text, then the pictures."""


@router.get(
    "/causes",
    summary="What can cause a finding?",
    response_model=CausesResponse,
    responses=answer_responses(
        "The causes as JSON, as plain text, or their graph in the format asked for.",
        (media for _, media in CAUSES_OFFERS),
        (400, 404, 406, 422, 500, 503),
    ),
)
async def causes(
    state: StateDep,
    finding: Annotated[
        str,
        Query(description="Label, synonym, local id, CURIE or IRI.", examples=["high urinary magnesium"]),
    ],
    context: ContextQuery = None,
    max_paths: Annotated[int, Query(ge=1, le=MAX_PATHS, description="Most paths per cause.")] = 3,
    max_hops: MaxHopsQuery = 10,
    format: Annotated[
        str | None, format_query("json (default), text, svg, dot, graphml, cyjs, mermaid...", CAUSES_OFFERS)
    ] = None,
    accept: AcceptHeader = None,
) -> Response:
    """The etiologies, drugs, genetic disorders and loss routes that lead to ``finding``, ranked (fewer
    steps, more source texts first), each with its cited paths: every cause is a source that /why would
    explain the finding from, under the same rules; a known finding nothing leads to gets 200 with no
    causes and a message saying so. With the recommendations for the finding and the causes' paths."""
    fmt = choose_format(format, accept, CAUSES_OFFERS)
    key: CausesKey = (finding, context, max_paths, max_hops)
    # a miss asks explain() from every candidate cause: off the event loop, one at a time (cpu_limiter)
    answer, body = await anyio.to_thread.run_sync(state.causes_cache.answer, key, limiter=cpu_limiter())
    if fmt == "text":
        return Response(
            format_causes(answer), media_type="text/plain; charset=utf-8", headers={"Vary": "Accept"}
        )
    picture = export_format(fmt)
    if picture is not None:
        graph = causes_graph(answer)
        return await anyio.to_thread.run_sync(
            graph_response, graph, picture, f"causes-{answer.finding.label}", state.renderer
        )
    return Response(body, media_type="application/json", headers={"Vary": "Accept"})
