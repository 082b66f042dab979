"""GET /why: the explanation of a finding, as JSON (each node and citation said once) or as a picture."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from api.answer_cache import LruAnswers
from api.deps import StateDep
from api.errors import ProblemError
from api.fairness import cpu_limiter
from api.models import WhyResponse
from api.openapi import media_content, problems
from api.routes.export import WHY_OFFERS, NegotiationError, explanation_response, format_names, why_format
from kg.causal.network import DEFAULT_SOURCE, CausalNetwork
from kg.causal.recommend import RecommendationCatalog, advise
from kg.causal.why import explain
from kg.model.types import Explanation, Severity
from kg.render.document import compact
from kg.render.formats import EXPORT_FORMATS, MEDIA_TYPES

router = APIRouter(tags=["why"])

MAX_HOPS = 20
"""The longest path /why searches; more would only add noise and time on this graph."""
MAX_PATHS = 100
"""The most paths /why returns."""

WhyKey = tuple[str, str, Severity | None, int, int]


class WhyCache(LruAnswers[WhyKey, tuple[Explanation, bytes]]):
    """Answers of /why by (finding, source, context, max_paths, max_hops), as Explanations and JSON bytes.

    Caching the serialized JSON too means a repeated question costs a dict lookup, not a path search and a
    pydantic dump. Unknown names are not cached (their 404 is cheap and the key space is unbounded).
    """

    def __init__(
        self, network: CausalNetwork, size: int, recommendations: RecommendationCatalog | None = None
    ) -> None:
        super().__init__(size)
        self._network = network
        self._recommendations = recommendations if recommendations is not None else RecommendationCatalog(())

    def _compute(self, key: WhyKey) -> tuple[Explanation, bytes]:
        """Explain (raising UnknownNodeError for an unknown name) and add the recommendations."""
        finding, source, context, max_paths, max_hops = key
        explanation = advise(
            explain(
                self._network, finding, source=source, context=context, max_paths=max_paths, max_hops=max_hops
            ),
            self._recommendations,
        )
        return explanation, compact(explanation).model_dump_json().encode()


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
        fmt = why_format(format, accept)
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
            return await anyio.to_thread.run_sync(explanation_response, explanation, export_format)
    return Response(body, media_type="application/json", headers={"Vary": "Accept"})
