"""GET /export: an explanation, a neighbourhood or the whole causal graph as a picture or a graph file."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from api.deps import KnowledgeGraphDep, StateDep
from api.errors import ProblemError
from api.openapi import answer_responses
from api.pictures import choose_format, explanation_response, format_query, graph_response
from api.routes.trapi import KGX_ARCHIVES, kgx_archive
from kg.causal.network import DEFAULT_SOURCE, network_of
from kg.model.types import Severity
from kg.render.formats import EXPORT_FORMATS, MEDIA_TYPES, export_format
from kg.render.picture import neighbourhood_graph, network_graph

router = APIRouter(tags=["export"])

EXPORT_OFFERS: Final[tuple[tuple[str, str], ...]] = (("nodelink", "application/json"), *MEDIA_TYPES.items())
"""(format, media type) pairs GET /export serves; plain JSON there means node-link JSON, the default."""


@router.get(
    "/export",
    summary="Export an explanation, a node's neighbourhood or the whole causal graph",
    response_class=Response,
    responses=answer_responses(
        "The graph in the format asked for (node-link JSON by default).",
        [*MEDIA_TYPES.values(), "application/gzip"],
        (400, 404, 406, 422, 500, 503),
    ),
)
def get_export(
    knowledge: KnowledgeGraphDep,
    state: StateDep,
    finding: Annotated[str | None, Query(description="Export the explanation of this finding.")] = None,
    node: Annotated[str | None, Query(description="Export the neighbourhood of this node.")] = None,
    radius: Annotated[int, Query(ge=0, le=10, description="Links around `node` to include.")] = 1,
    context: Annotated[
        Severity | None, Query(description="Keep only links that hold in this severity.")
    ] = None,
    source: Annotated[
        str | None, Query(description="Start of the explanation (default hypomagnesemia).")
    ] = None,
    format: Annotated[
        str | None,
        format_query(
            f"One of {', '.join(EXPORT_FORMATS)}; else the Accept header decides."
            " kgx-tsv or kgx-jsonl: the whole graph as KGX nodes and edges files in a .tar.gz.",
            EXPORT_OFFERS,
            *KGX_ARCHIVES,
        ),
    ] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Export a finding's explanation (``finding``), a node's neighbourhood (``node``, ``radius``) or,
    with neither, the whole causal graph, in the format asked for by ``format=`` or ``Accept``.
    """
    if format in KGX_ARCHIVES:  # the Translator formats (api/routes/trapi.py); always the whole graph
        return kgx_archive(knowledge, format, scoped=finding is not None or node is not None)
    name = choose_format(format, accept, EXPORT_OFFERS)
    fmt = export_format(name)
    if fmt is None:
        raise ProblemError(400, "format", "Cannot serve that format", f"{name!r} is not an export format")
    if finding is not None and node is not None:
        raise ProblemError(
            400, "contradictory-parameters", "Contradictory parameters", "Give `finding` or `node`, not both."
        )
    network = network_of(knowledge)
    if finding is not None:  # an unknown name raises UnknownNodeError: api.errors makes it a 404
        key = (finding, source or DEFAULT_SOURCE, context, 20, 10)  # /why's defaults, so its cache serves
        entry = state.why_cache.answer(key)  # with the recommendations
        return explanation_response(entry[0], fmt, state.renderer)
    if node is not None:
        iri = network.resolve(node, kind="node")
        graph = neighbourhood_graph(network, iri, radius, context=context)
        return graph_response(graph, fmt, f"{network.node(iri).label}-r{radius}", state.renderer)
    return graph_response(network_graph(network, context=context), fmt, "mgkg", state.renderer)
