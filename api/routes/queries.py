"""Named SPARQL queries: GET /queries lists them, GET /queries/{name}?param=value runs one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from api.deps import KnowledgeGraphDep, SettingsDep, SparqlEngineDep
from api.models import NamedQueriesResponse, NamedQueryResponse
from api.routes.sparql import run_query
from kg.named_queries import bind_parameters, get_named_query, load_named_queries

router = APIRouter(tags=["sparql"])

_RESERVED = frozenset({"format"})
"""Query-string keys that steer the response rather than bind a parameter."""


@router.get("/queries", summary="The named SPARQL queries", response_model=NamedQueriesResponse)
async def list_queries() -> NamedQueriesResponse:
    """Every named query (queries/*.rq): name, title, what it answers, its parameters and a URL to run it."""
    entries = []
    for query in load_named_queries().values():
        example = "&".join(f"{p.name}=..." for p in query.parameters if p.required)
        entries.append(
            NamedQueryResponse(
                name=query.name,
                title=query.title,
                description=query.description,
                returns=query.returns,
                parameters=query.parameters,
                url=f"/queries/{query.name}" + (f"?{example}" if example else ""),
            )
        )
    return NamedQueriesResponse(queries=tuple(entries))


@router.get(
    "/queries/{name}",
    summary="Run a named query",
    responses={404: {"description": "Unknown query (the problem lists the known ones) or unknown node name"}},
)
async def run_named_query(
    request: Request,
    engine: SparqlEngineDep,
    graph: KnowledgeGraphDep,
    settings: SettingsDep,
    name: Annotated[str, Path(description="The query's name, e.g. why-links.", examples=["why-links"])],
    format: Annotated[str | None, Query(description="json, xml, csv, tsv (or graph formats)")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Run a named query with its parameters taken from the query string (e.g. ?finding=hypocalcemia).

    Values are validated (IRIs and CURIEs expanded and checked; node parameters such as finding and
    source resolved as /why resolves them, so HP:0002901 or a label works) and bound as substitutions,
    never pasted into the query text; the answer is content-negotiated like /sparql."""
    query = get_named_query(name)
    values = {k: v for k, v in request.query_params.items() if k not in _RESERVED}
    substitutions = bind_parameters(query, values, graph.network.resolve)
    return await run_query(
        engine,
        query.text,
        request=request,
        timeout_s=settings.sparql_timeout_s,
        max_chars=max(settings.sparql_max_query_chars, len(query.text)),
        fmt=format,
        accept=accept,
        substitutions=substitutions,
    )
