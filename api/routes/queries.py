"""Named SPARQL queries: GET /queries lists them, GET /queries/{name}?param=value runs one."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.config import Settings
from api.deps import KnowledgeGraphDep, SettingsDep, SparqlEngineDep
from api.models import NamedQueriesResponse, NamedQueryResponse
from api.openapi import problems
from api.params import AcceptHeader
from api.routes.sparql import ANSWERS, FORMAT_PARAMETER, run_query
from kg.causal.network import network_of
from kg.graph.knowledge import KnowledgeGraph
from kg.sparql import QueryEngine, formats_for
from kg.sparql.named_queries import NamedQuery, bind_parameters, get_named_query, load_named_queries

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


_IRI_CHARS: Final = r"([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
_IRI_PATTERN: Final = (
    rf"^(https?://[A-Za-z0-9.-]+(/{_IRI_CHARS}*)*|urn:[A-Za-z0-9][A-Za-z0-9-]*:({_IRI_CHARS}|/)+)$"
)
"""IRIs any engine reads (the route also takes CURIEs and other IRIs; this is what a client can rely on)."""
_PARAMETER_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "integer": {"type": "integer"},
    "iri": {"type": "string", "pattern": _IRI_PATTERN},
    "node": {"type": "string"},
    "string": {"type": "string"},
}
"""The JSON Schema of a named-query parameter's value, by its kind (an iri may also be a known CURIE)."""
_RUN_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: ANSWERS,
    **problems(400, 403, 404, 406, 414, 422, 429, 500, 503, 504, 507),
}
"""A named query's text is ours: never refused as a query nor too long (413); its names can be unknown
(404), and its answer over the row limit is a 403 too-many-rows, as on /sparql."""
_FORM: Final = re.compile(r"^\s*(SELECT|CONSTRUCT|ASK|DESCRIBE)\b", re.IGNORECASE | re.MULTILINE)


async def _answer(
    request: Request,
    engine: QueryEngine,
    graph: KnowledgeGraph,
    settings: Settings,
    name: str,
    format: str | None,
    accept: str | None,
) -> Response:
    """Bind the query string to the named query's parameters and run it like /sparql."""
    query = get_named_query(name)
    values = {k: v for k, v in request.query_params.items() if k not in _RESERVED}
    substitutions = bind_parameters(query, values, network_of(graph).resolve)
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


def _openapi_parameters(query: NamedQuery) -> list[dict[str, Any]]:
    """The query's own parameters and ``format`` (the result formats of its form) as OpenAPI parameters."""
    form = _FORM.search(query.text)
    offered = formats_for(form.group(1).upper() if form else "SELECT")
    formats = {
        "name": "format",
        "in": "query",
        "required": False,
        "description": f"{', '.join(offered)} or a media type; else the Accept header decides.",
        "schema": {"type": "string", "enum": ["", *offered, *offered.values()]},
    }
    own = [
        {
            "name": param.name,
            "in": "query",
            "required": param.required,
            "description": f"{param.description} ({param.kind})".strip(),
            "schema": {
                **_PARAMETER_SCHEMAS[param.kind],
                **({"default": param.default} if param.default is not None else {}),
            },
        }
        for param in query.parameters
    ]
    return [formats, *own]


def _add_named_route(query: NamedQuery) -> None:
    """GET /queries/<name>: one documented operation per named query, with that query's parameters."""

    async def run(
        request: Request,
        engine: SparqlEngineDep,
        graph: KnowledgeGraphDep,
        settings: SettingsDep,
        accept: AcceptHeader = None,
    ) -> Response:
        fmt = request.query_params.get("format")
        return await _answer(request, engine, graph, settings, query.name, fmt, accept)

    router.add_api_route(
        f"/queries/{query.name}",
        run,
        methods=["GET"],
        name=f"run_{query.name.replace('-', '_')}",
        summary=query.title,
        description=f"{query.description}\n\nReturns: {query.returns}",
        response_class=Response,
        responses=_RUN_RESPONSES,
        openapi_extra={"parameters": _openapi_parameters(query)},
    )


for _query in load_named_queries().values():  # reads queries/*.rq (a few small files), as FastAPI declares
    _add_named_route(_query)


@router.get(
    "/queries/{name}", summary="Run a named query by name", response_class=Response, responses=_RUN_RESPONSES
)
async def run_named_query(
    request: Request,
    engine: SparqlEngineDep,
    graph: KnowledgeGraphDep,
    settings: SettingsDep,
    name: Annotated[str, Path(description="The query's name (GET /queries lists them).")],
    format: Annotated[str | None, FORMAT_PARAMETER] = None,
    accept: AcceptHeader = None,
) -> Response:
    """Run a named query with its parameters taken from the query string (e.g. ?finding=hypocalcemia).

    Each named query also has its own operation above, which documents its parameters; this one serves
    any name (404 with the known names for an unknown one). Values are validated (IRIs and CURIEs
    expanded and checked; node parameters such as finding and source resolved as /why resolves them, so
    HP:0002901 or a label works) and bound as substitutions, never pasted into the query text; the
    answer is content-negotiated like /sparql."""
    return await _answer(request, engine, graph, settings, name, format, accept)
