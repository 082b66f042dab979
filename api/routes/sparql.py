"""The SPARQL 1.1 Protocol endpoint at /sparql: read-only, offline, bounded, content-negotiated.

GET ?query=, POST application/x-www-form-urlencoded (query=), POST application/sparql-query; the
protocol's default-graph-uri / named-graph-uri; on GET without a query, the query editor for a browser
(api/routes/editor.py) and the service description (any RDF format) for everyone else. ``format=``,
``output=`` and ``results=`` are hints that never break a query; an answer cut at the row limit is a
403 unless the client asks for it (``Prefer: handling=lenient``). Every query goes through kg.sparql's
guard before any engine sees it, then runs in a killable worker process. SPARQL Update (query text,
update= form field, application/sparql-update) is refused with 403 and never reaches the store.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import URL
from starlette.routing import Route

from api.deps import state_of
from api.errors import ProblemError
from api.fairness import client_of, deadline_of, until_disconnected
from api.forms import form_lists, url_params
from api.negotiation import NegotiationError, negotiate
from api.openapi import media_content, problems
from api.routes.editor import editor_page, wants_editor
from api.service_description import describe_service
from api.state import ServiceState
from kg.sparql import QueryEngine, QueryRefusedError, answer_query
from kg.sparql.named_queries import load_named_queries
from kg.sparql.results import (
    ACCEPT_ALIASES,
    FORMAT_HINTS,
    GRAPH_FORMATS,
    RESULTS_FORMATS,
    formats_for,
    hinted_format,
    is_known_format,
)

router = APIRouter(tags=["sparql"])
logger = logging.getLogger(__name__)

TRUNCATED_HEADER: Final = "MGKG-Results-Truncated"
"""Set (to the row limit) on answers cut at the row limit (sent only with Prefer: handling=lenient)."""
EXPOSED_HEADERS: Final = (TRUNCATED_HEADER, "Preference-Applied", "Retry-After", "Content-Disposition")
"""Response headers a page on another origin may read (CORS); the CORS-safelisted ones need no mention."""

_UPDATE_REFUSAL: Final = (
    "SPARQL Update is refused: this endpoint is read-only and nothing in the store changes. Send a "
    "SELECT, ASK, CONSTRUCT or DESCRIBE query (GET ?query=, or POST query=...)."
)
_EMPTY_QUERY: Final = (
    "The query is empty. Send a SELECT, ASK, CONSTRUCT or DESCRIBE query as query= (GET ?query=..., or "
    "POST query=... as a form), or as the body of a POST with Content-Type: application/sparql-query."
)
HINT_PARAMETERS: Final = ("format", "output", "results")
"""URL (and form) parameters naming the answer's format; each is a hint (see :func:`choose_format`)."""
_FORMAT_NAMES: Final = list(dict.fromkeys(name for table in FORMAT_HINTS.values() for name in table))
"""Every ``format=`` value that names a format (for the OpenAPI enum)."""


FORMAT_PARAMETER: Final = Query(
    description="A hint: json, xml, csv, tsv (SELECT, ASK); turtle, n3, ntriples, jsonld, rdfxml, xml, json "
    "(CONSTRUCT, DESCRIBE); or a media type. A format that does not fit the query's form is passed over "
    "(the Accept header decides); one that names no format at all is a 400.",
    json_schema_extra={"enum": ["", *_FORMAT_NAMES]},
)
"""The ``format=`` parameter of every SPARQL route; which values answer depends on the query's form."""


def choose_format(form: str, fmt: str | None, accept: str | None, hints: Sequence[str] = ()) -> str:
    """The media type to answer a query of this form in: the first of ``format=`` and the other ``hints``
    (``output=``, ``results=``) that fits the form, else the Accept header (where ``application/json``
    means SPARQL JSON results or JSON-LD, :data:`~kg.sparql.results.ACCEPT_ALIASES`).

    SPARQLWrapper sends ``format=xml`` (its default), ``output=`` and ``results=`` on every query, and
    Fuseki and Oxigraph answer it whatever the form: a hint never breaks a query. Only a ``format=`` that
    names no format of any form (a typo, ``format=png``) is a 400, since it is a demand nobody can meet.
    Clients send the same few Accept headers again and again, so the choice is remembered."""
    return _chosen_format(form, fmt, accept, tuple(hints))


@functools.lru_cache(maxsize=512)
def _chosen_format(form: str, fmt: str | None, accept: str | None, hints: tuple[str, ...]) -> str:
    if fmt is not None and not is_known_format(fmt):
        choices = formats_for(form)
        raise ProblemError(
            400,
            "format",
            "Unknown format",
            f"format={fmt} names no format; a {form} answer is available as {', '.join(choices)}.",
        )
    offered = formats_for(form)
    candidates = [fmt, *hints] if fmt is not None else list(hints)
    hinted = hinted_format(form, candidates)
    if hinted is not None:
        return offered[hinted]
    if candidates:
        logger.debug("format hints %s do not fit a %s query: the Accept header decides", candidates, form)
    aliases = ACCEPT_ALIASES["results" if form in ("SELECT", "ASK") else "graph"]
    try:
        name = negotiate(None, accept, [*offered.items(), *aliases])
    except NegotiationError:
        raise ProblemError(
            406,
            "not-acceptable",
            "Not acceptable",
            f"A {form} answer is available as {', '.join(offered.values())}; the Accept header ({accept}) "
            "allows none of them.",
        ) from None
    return offered[name]


def endpoint_of(request: Request) -> str:
    """The IRI the request was sent to, without its query: the endpoint's own IRI, the base against which
    a query's relative IRIs resolve (as the SPARQL Protocol's service IRI). Starlette builds it (checking
    the Host header); the few distinct ones a server sees are remembered, since building a URL costs as
    much as a quarter of a one-pattern query."""
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    server = scope.get("server")
    return _endpoint(scope.get("scheme", "http"), host, tuple(server) if server else None, scope["path"])


@functools.lru_cache(maxsize=256)
def _endpoint(scheme: str, host: bytes | None, server: tuple[str, ...] | None, path: str) -> str:
    headers = [(b"host", host)] if host is not None else []
    scope = {"type": "http", "scheme": scheme, "server": server, "path": path, "headers": headers}
    return str(URL(scope=scope))


def lenient(prefer: str | None) -> bool:
    """Whether a Prefer header (RFC 7240) asks for ``handling=lenient``: a cut answer rather than an error.

    >>> lenient("return=minimal, handling=lenient"), lenient("handling=strict"), lenient(None)
    (True, False, False)
    """
    for preference in (prefer or "").split(","):
        name, _, value = preference.split(";")[0].partition("=")
        if name.strip().lower() == "handling" and value.strip().strip('"').lower() == "lenient":
            return True
    return False


def _cut_refusal(max_rows: int, by_store: bool) -> ProblemError:
    limit = "the remote store's own row cap" if by_store else "this endpoint's row limit"
    return ProblemError(
        403,
        "too-many-rows",
        "Too many rows",
        f"The answer has more than {max_rows} rows (or triples), {limit}, so it was not "
        "sent: a part would pass for the whole. Page through it: add ORDER BY and LIMIT "
        f"{max_rows} OFFSET 0, then OFFSET {max_rows}, and so on; or count it first with COUNT(*). A client "
        "that reads headers may send 'Prefer: handling=lenient' to get the first rows, marked with the "
        f"{TRUNCATED_HEADER} header.",
        max_rows=max_rows,
    )


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
    hints: Sequence[str] = (),
) -> Response:
    """Answer a query text over HTTP: the one path every SPARQL query of the service takes.

    The text is bounded in length here; kg.sparql.answer_query then guards it (one call), picks the
    media type by ``format=``, the other ``hints`` and Accept (:func:`choose_format`) and runs it.
    ``guard=False`` is for tests and diagnosis only (MGKG_SPARQL_GUARD): the text goes to the engine as
    sent. An empty text is a 400 that says how to send a query.

    An answer cut at the row limit is refused (403 too-many-rows, saying how to page with LIMIT and
    OFFSET), so that no client, a federating engine's SERVICE call least of all, takes the first rows
    for the whole answer; a client that sends ``Prefer: handling=lenient`` (RFC 7240) gets the rows
    instead, with the :data:`TRUNCATED_HEADER` header and ``Preference-Applied``.

    The query runs for the request's client by the request's deadline (its arrival plus ``timeout_s``:
    waiting counts), and is stopped if the client disconnects first (499, which nobody receives)."""
    if not text.strip():
        raise ProblemError(400, "empty-query", "Empty query", _EMPTY_QUERY)
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
            lambda form: choose_format(form, fmt, accept, hints),
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            substitutions=substitutions,
            client=client_of(request),
            deadline=deadline_of(request, timeout_s),
            timeout_s=timeout_s,
            guard=guard,
            base_iri=endpoint_of(request),
        ),
    )
    if result is None:  # the client went away; its query was stopped
        return Response(status_code=499)
    headers = {"Vary": "Accept, Prefer"}
    if result.truncated:
        cut_at = result.cut_at or engine.options.max_rows
        if not lenient(request.headers.get("prefer")):
            logger.debug("answer cut at %d rows refused (no Prefer: handling=lenient)", cut_at)
            raise _cut_refusal(cut_at, by_store=result.cut_at is not None)
        headers[TRUNCATED_HEADER] = str(cut_at)
        headers["Preference-Applied"] = "handling=lenient"
    return Response(result.body, media_type=_with_charset(result.media_type), headers=headers)


def _refuse_repeats(params: dict[str, list[str]], where: str = "") -> None:
    """The protocol takes one query; a second one is a client error, not a silent pick."""
    if len(params.get("query", ())) > 1:
        raise ProblemError(
            400, "repeated-parameter", "Repeated parameter", f"Give query= once{where}, not several times."
        )


def format_hints(*sources: dict[str, list[str]]) -> list[str]:
    """Every ``format=``, ``output=`` and ``results=`` value of the URL (and form), in that order; a
    ``format=`` that names no format at all is a 400 (:func:`choose_format`), the others are hints."""
    hints: list[str] = []
    for name in HINT_PARAMETERS:
        for source in sources:
            for value in source.get(name, ()):
                if name == "format" and not is_known_format(value):
                    raise ProblemError(
                        400,
                        "format",
                        "Unknown format",
                        f"format={value} names no format; use one of: {', '.join(_FORMAT_NAMES)}.",
                    )
                hints.append(value)
    return hints


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


def _parameter(name: str, schema: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    """An OpenAPI query parameter (the SPARQL routes read their parameters themselves, see below)."""
    described = {"description": description} if description else {}
    return {"name": name, "in": "query", "required": False, "schema": schema, **described}


_FORMAT_DOC: Final = (
    "A hint: json, xml, csv, tsv (SELECT, ASK); turtle, n3, ntriples, jsonld, rdfxml, xml, json "
    "(CONSTRUCT, DESCRIBE); or a media type. A format that does not fit the query's form is passed over "
    "(the Accept header decides); one that names no format at all is a 400."
)
_GRAPH_LIST: Final = {"type": "array", "items": {"type": "string"}}
_FORMAT_HINT: Final = _parameter("format", {"type": "string", "enum": ["", *_FORMAT_NAMES]}, _FORMAT_DOC)
_GET_PARAMETERS: Final = [
    _parameter("query", {"type": "string", "examples": [_EXAMPLE]}, _QUERY_DOC),
    _parameter("default-graph-uri", _GRAPH_LIST),
    _parameter("named-graph-uri", _GRAPH_LIST),
    _FORMAT_HINT,
]
"""/sparql's parameters, declared for the OpenAPI document only: the routes take the bare request and read
them from it, because FastAPI's solving of typed parameters and dependencies cost more than half of a
simple query's time in the app (measured with cProfile: 45% of the request)."""


@router.get(
    "/sparql",
    summary="SPARQL 1.1 query (GET) or the service description",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra={"parameters": _GET_PARAMETERS},
)
async def sparql_get(request: Request) -> Response:
    """Run a query given as ``query=``; without one, show a browser the query editor (YASGUI) and
    describe the service (SPARQL 1.1 Service Description) to everyone else.

    The default graph is the union of the store's named graphs (among them
    https://w3id.org/mgkg/graph/asserted and https://w3id.org/mgkg/graph/inferred) unless the query
    (FROM) or default-graph-uri names graphs."""
    state = state_of(request)
    params = url_params(request)
    if "update" in params:
        raise QueryRefusedError("update", _UPDATE_REFUSAL)
    _refuse_repeats(params)
    hints = format_hints(params)
    accept = request.headers.get("accept")
    query = params.get("query")
    if not query:
        endpoint = endpoint_of(request)
        if not hints and wants_editor(accept):
            page = editor_page(endpoint, load_named_queries().values())
            page.headers["Vary"] = "Accept"  # the same URL is the description for every other client
            return page
        media_type = _description_format(hints, accept)
        body = describe_service(endpoint, state.sparql.graphs, media_type)
        return Response(body, media_type=_with_charset(media_type), headers={"Vary": "Accept"})
    default_graphs, named_graphs = params.get("default-graph-uri", []), params.get("named-graph-uri", [])
    return await _answer(request, state, query[0], hints, default_graphs, named_graphs)


async def _answer(
    request: Request,
    state: ServiceState,
    text: str,
    hints: Sequence[str],
    default_graphs: Sequence[str],
    named_graphs: Sequence[str],
) -> Response:
    """Answer a protocol request (GET or POST, once read) by the service's settings."""
    settings = state.settings
    return await run_query(
        state.sparql,
        text,
        request=request,
        timeout_s=settings.sparql_timeout_s,
        max_chars=settings.sparql_max_query_chars,
        guard=settings.sparql_guard,
        fmt=None,
        hints=hints,
        accept=request.headers.get("accept"),
        default_graphs=default_graphs,
        named_graphs=named_graphs,
    )


def _description_format(hints: Sequence[str], accept: str | None) -> str:
    """The service description's media type: a fitting hint, else the Accept header's pick among the graph
    formats, else Turtle (a description is never refused for its Accept header)."""
    hinted = hinted_format("DESCRIBE", hints)
    if hinted is not None:
        return GRAPH_FORMATS[hinted]
    try:
        name = negotiate(None, accept, [*GRAPH_FORMATS.items(), *ACCEPT_ALIASES["graph"]])
    except NegotiationError:
        return GRAPH_FORMATS["turtle"]
    return GRAPH_FORMATS[name]


@router.post(
    "/sparql",
    summary="SPARQL 1.1 query (POST form or application/sparql-query)",
    response_class=Response,
    responses={**_RESPONSES, **problems(415)},
    openapi_extra={
        "parameters": [_FORMAT_HINT],
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
        },
    },
)
async def sparql_post(request: Request) -> Response:
    """Run a query sent as a form (``query=``) or as the body (``application/sparql-query``)."""
    state = state_of(request)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    in_url = url_params(request)
    _refuse_repeats(in_url)
    form: dict[str, list[str]] = {}
    default_graphs = [*in_url.get("default-graph-uri", ())]
    named_graphs = [*in_url.get("named-graph-uri", ())]
    body = await request.body()
    if media == "application/sparql-update" or "update" in in_url:
        raise QueryRefusedError("update", _UPDATE_REFUSAL)
    if media == "application/sparql-query":
        text = body.decode("utf-8", errors="replace")
    elif media == "application/x-www-form-urlencoded":
        form = form_lists(body)
        if "update" in form:
            raise QueryRefusedError("update", _UPDATE_REFUSAL)
        if "query" not in form:
            raise ProblemError(400, "missing-query", "No query", "The form has no query= field; add one.")
        _refuse_repeats(form, " in the form")
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
    return await _answer(request, state, text, format_hints(in_url, form), default_graphs, named_graphs)


async def sparql_endpoint(request: Request) -> Response:
    """GET, HEAD and POST /sparql as a plain Starlette endpoint: :func:`sparql_post` for a POST, else
    :func:`sparql_get`."""
    if request.method == "POST":
        return await sparql_post(request)
    return await sparql_get(request)


SPARQL_ROUTE: Final = Route("/sparql", sparql_endpoint, methods=["GET", "POST"], include_in_schema=False)
"""The route that answers /sparql, placed first in the app's routes (api/app.py). The FastAPI routes above
declare the endpoint for the OpenAPI document and would answer alike, but FastAPI's handling of a route
(matching the routes before it, solving parameters, wrapping the endpoint) cost about 60 µs a request,
as much as a one-pattern query itself (measured beside a plain Starlette route: 76 against 17 µs); a
Starlette route first in line costs a fraction of that. Starlette answers HEAD as GET without the body."""
