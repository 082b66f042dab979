"""The SPARQL 1.1 Protocol endpoint at /sparql: read-only, offline, bounded, content-negotiated.

GET ?query=, POST application/x-www-form-urlencoded (query=), POST application/sparql-query; the
protocol's default-graph-uri / named-graph-uri; a service description (Turtle, SD vocabulary) on GET
without a query. Every query goes through kg.sparql's guard before any engine sees it, then runs in a
killable worker process. SPARQL Update (query text, update= form field, application/sparql-update) is
refused with 403 and never reaches the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any, Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from api.deps import SettingsDep, SparqlEngineDep
from api.errors import ProblemError
from api.fairness import client_of, deadline_of, until_disconnected
from api.negotiation import NegotiationError, negotiate
from api.openapi import media_content, problems
from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH
from kg.sparql import QueryEngine, QueryRefusedError, answer_query
from kg.sparql.results import FORMAT_ALIASES, GRAPH_FORMATS, RESULTS_FORMATS, formats_for

router = APIRouter(tags=["sparql"])

SD: Final = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS: Final = Namespace("http://www.w3.org/ns/formats/")
TRUNCATED_HEADER: Final = "MGKG-Results-Truncated"
"""Set (to the row limit) on answers that were cut at the row limit."""

_UPDATE_REFUSAL: Final = (
    "SPARQL Update is refused: this endpoint is read-only and nothing in the store changes. Send a "
    "SELECT, ASK, CONSTRUCT or DESCRIBE query (GET ?query=, or POST query=...)."
)
_FORMAT_NAMES: Final = {
    **RESULTS_FORMATS,
    **GRAPH_FORMATS,
    **{alias: GRAPH_FORMATS[name] for alias, name in FORMAT_ALIASES.items()},
}
"""Every ``format=`` name and alias, with its media type (for the OpenAPI enum)."""


FORMAT_PARAMETER: Final = Query(
    description="json, xml, csv, tsv (SELECT, ASK); turtle, ntriples, jsonld, rdfxml (CONSTRUCT, "
    "DESCRIBE); or a media type. Else the Accept header decides.",
    json_schema_extra={"enum": ["", *_FORMAT_NAMES, *dict.fromkeys(_FORMAT_NAMES.values())]},
)
"""The ``format=`` parameter of every SPARQL route; which values answer depends on the query's form."""


@lru_cache(maxsize=8)
def service_description(endpoint: str) -> bytes:
    """The SPARQL 1.1 Service Description of this endpoint, in Turtle."""
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    for fmt in (
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "N-Triples",
        "JSON-LD",
        "RDF_XML",
    ):
        graph.add((service, SD.resultFormat, FORMATS[fmt]))
    dataset, default = BNode(), BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add(
        (
            default,
            URIRef("http://www.w3.org/2000/01/rdf-schema#comment"),
            Literal("The union of the asserted and the inferred named graphs.", lang="en"),
        )
    )
    for name in (ASSERTED_GRAPH, INFERRED_GRAPH):
        named = BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, name))
    return graph.serialize(format="turtle").encode()


def choose_format(form: str, fmt: str | None, accept: str | None) -> str:
    """The media type to answer a query of this form in: ``format=`` if given, else the Accept header."""
    offered = formats_for(form)
    try:
        name = negotiate(fmt, accept, list(offered.items()), aliases=FORMAT_ALIASES, by_media_type=True)
    except NegotiationError as error:
        if error.status == 400:
            raise ProblemError(
                400,
                "format",
                "Unknown format",
                f"format={fmt} cannot answer a {form} query; use one of: {', '.join(offered)}.",
            ) from None
        raise ProblemError(
            406,
            "not-acceptable",
            "Not acceptable",
            f"A {form} answer is available as {', '.join(offered.values())}; the Accept header ({accept}) "
            "allows none of them.",
        ) from None
    return offered[name]


async def run_query(
    engine: QueryEngine,
    text: str,
    *,
    request: Request,
    timeout_s: float,
    max_chars: int,
    fmt: str | None,
    accept: str | None,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
    substitutions: dict[str, dict[str, str]] | None = None,
    guard: bool = True,
) -> Response:
    """Answer a query text over HTTP: the one path every SPARQL query of the service takes.

    The text is bounded in length here; kg.sparql.answer_query then guards it (one call), picks the
    media type by ``format=`` / Accept (:func:`choose_format`) and runs it. ``guard=False`` is for
    tests and diagnosis only (MGKG_SPARQL_GUARD): the text goes to the engine as sent.

    The query runs for the request's client by the request's deadline (its arrival plus ``timeout_s``:
    waiting counts), and is stopped if the client disconnects first (499, which nobody receives)."""
    if len(text) > max_chars:
        raise ProblemError(
            413,
            "query-too-long",
            "Query too long",
            f"The query has {len(text)} characters; the limit is {max_chars}. Shorten it.",
        )
    result = await until_disconnected(
        request,
        lambda: answer_query(
            engine,
            text,
            lambda form: choose_format(form, fmt, accept),
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            substitutions=substitutions,
            client=client_of(request),
            deadline=deadline_of(request, timeout_s),
            timeout_s=timeout_s,
            guard=guard,
            base_iri=str(request.url.replace(query="", fragment="")),
        ),
    )
    if result is None:  # the client went away; its query was stopped
        return Response(status_code=499)
    headers = {"Vary": "Accept"}
    if result.truncated:
        headers[TRUNCATED_HEADER] = str(engine.max_rows)
    return Response(result.body, media_type=_with_charset(result.media_type), headers=headers)


def _refuse_repeats(request: Request, *names: str) -> None:
    """The protocol takes one query (and one format); a second one is a client error, not a silent pick."""
    for name in names:
        if len(request.query_params.getlist(name)) > 1:
            raise ProblemError(
                400, "repeated-parameter", "Repeated parameter", f"Give {name}= once, not several times."
            )


def _is_turtle(fmt: str | None) -> bool:
    """Whether ``format=`` is absent or names Turtle, the service description's only format."""
    try:
        negotiate(
            fmt, None, [("turtle", GRAPH_FORMATS["turtle"])], aliases=FORMAT_ALIASES, by_media_type=True
        )
    except NegotiationError:
        return False
    return True


def _with_charset(media_type: str) -> str:
    return media_type if media_type.endswith(("json", "xml")) else f"{media_type}; charset=utf-8"


_QUERY_DOC = "The SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE)."
_EXAMPLE = (
    "PREFIX mgkg: <https://w3id.org/mgkg/vocab#>\n"
    "SELECT ?x WHERE { ?x mgkg:causallyUpstreamOf <https://w3id.org/mgkg/id/hypocalcemia> }"
)
ANSWERS: Final[dict[str, Any]] = {
    "description": "SELECT/ASK results or a CONSTRUCT/DESCRIBE graph, in the negotiated format (the "
    f"{TRUNCATED_HEADER} header is set when rows were cut at the row limit).",
    "content": media_content([*RESULTS_FORMATS.values(), *GRAPH_FORMATS.values()]),
}
"""The 200 answer of every route that runs a SPARQL query (/sparql, /queries/{name})."""
SPARQL_PROBLEMS: Final = (400, 403, 406, 413, 414, 422, 429, 500, 503, 504, 507)
"""The problem statuses a SPARQL query can end in."""
_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {200: ANSWERS, **problems(*SPARQL_PROBLEMS)}


@router.get(
    "/sparql",
    summary="SPARQL 1.1 query (GET) or the service description",
    response_class=Response,
    responses=_RESPONSES,
)
async def sparql_get(
    request: Request,
    engine: SparqlEngineDep,
    settings: SettingsDep,
    query: Annotated[str | None, Query(description=_QUERY_DOC, examples=[_EXAMPLE])] = None,
    default_graph_uri: Annotated[list[str], Query(alias="default-graph-uri")] = [],  # noqa: B006
    named_graph_uri: Annotated[list[str], Query(alias="named-graph-uri")] = [],  # noqa: B006
    format: Annotated[str | None, FORMAT_PARAMETER] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Run a query given as ``query=``; without one, describe the service (Turtle, SPARQL 1.1 SD).

    The default graph is the union of the named graphs https://w3id.org/mgkg/graph/asserted and
    https://w3id.org/mgkg/graph/inferred unless the query (FROM) or default-graph-uri names one of them."""
    if "update" in request.query_params:
        raise QueryRefusedError("update", _UPDATE_REFUSAL)
    _refuse_repeats(request, "query", "format")
    if query is None:
        if not _is_turtle(format):
            raise ProblemError(
                400,
                "format",
                "Unknown format",
                f"The service description is Turtle only, not format={format}.",
            )
        endpoint = str(request.url.replace(query=""))
        return Response(service_description(endpoint), media_type="text/turtle; charset=utf-8")
    return await run_query(
        engine,
        query,
        request=request,
        timeout_s=settings.sparql_timeout_s,
        max_chars=settings.sparql_max_query_chars,
        guard=settings.sparql_guard,
        fmt=format,
        accept=accept,
        default_graphs=default_graph_uri,
        named_graphs=named_graph_uri,
    )


@router.post(
    "/sparql",
    summary="SPARQL 1.1 query (POST form or application/sparql-query)",
    response_class=Response,
    responses={**_RESPONSES, **problems(415)},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/sparql-query": {"schema": {"type": "string"}, "example": _EXAMPLE},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "query": {"type": "string"},
                            "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                        },
                        "required": ["query"],
                    }
                },
            }
        }
    },
)
async def sparql_post(
    request: Request,
    engine: SparqlEngineDep,
    settings: SettingsDep,
    format: Annotated[str | None, FORMAT_PARAMETER] = None,
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Run a query sent as a form (``query=``) or as the body (``application/sparql-query``)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    _refuse_repeats(request, "query", "format")
    url_params = request.query_params
    default_graphs = url_params.getlist("default-graph-uri")
    named_graphs = url_params.getlist("named-graph-uri")
    body = await request.body()
    if media == "application/sparql-update" or "update" in url_params:
        raise QueryRefusedError("update", _UPDATE_REFUSAL)
    if media == "application/sparql-query":
        text = body.decode("utf-8", errors="replace")
    elif media == "application/x-www-form-urlencoded":
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        if "update" in form:
            raise QueryRefusedError("update", _UPDATE_REFUSAL)
        if "query" not in form:
            raise ProblemError(400, "missing-query", "No query", "The form has no query= field; add one.")
        text = form["query"][0]
        default_graphs += form.get("default-graph-uri", [])
        named_graphs += form.get("named-graph-uri", [])
    else:
        raise ProblemError(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"POST /sparql takes application/x-www-form-urlencoded (query=...) or application/sparql-query, "
            f"not {media or 'a body without Content-Type'}.",
        )
    return await run_query(
        engine,
        text,
        request=request,
        timeout_s=settings.sparql_timeout_s,
        max_chars=settings.sparql_max_query_chars,
        guard=settings.sparql_guard,
        fmt=format,
        accept=accept,
        default_graphs=default_graphs,
        named_graphs=named_graphs,
    )
