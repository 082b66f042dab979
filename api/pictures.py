"""Picture-graph responses shared by /why, /causes, /case and /export: the format (with the export aliases),
and a graph in that format, or why not."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import networkx as nx
from fastapi import Query
from fastapi.responses import Response

from api.errors import ProblemError, problem_response
from api.negotiation import NegotiationError, Offers, negotiate
from kg.model.types import Explanation
from kg.render.formats import ALIASES, MEDIA_TYPES, SUFFIXES, ExportFormat, export
from kg.render.graphviz import Renderer, RendererUnavailableError, RenderFailedError
from kg.render.picture import explanation_graph


def format_names(offers: Sequence[tuple[str, str]]) -> list[str]:
    """Every ``format=`` value a route with these offers accepts (names and their aliases), for OpenAPI.

    >>> format_names([("json", "application/json"), ("dot", "text/vnd.graphviz")])
    ['', 'json', 'dot', 'gv']
    """
    names = list(dict.fromkeys(name for name, _ in offers))
    return ["", *names, *(alias for alias, name in ALIASES.items() if name in names)]


def format_query(description: str, offers: Sequence[tuple[str, str]], *more: str) -> Any:
    """The ``format=`` query parameter of a route with these offers (``more``: names it takes besides):
    OpenAPI lists every name it takes (:func:`format_names`) as its enum."""
    return Query(description=description, json_schema_extra={"enum": [*format_names(offers), *more]})


def choose_format(fmt: str | None, accept: str | None, offers: Offers) -> str:
    """The format a picture route answers in (api.negotiation, with the export aliases such as ``gv``), or
    the problem (400 for an unknown ``format=``, 406 for an Accept header none of the offers meets).

    >>> choose_format("gv", None, [("json", "application/json"), ("dot", "text/vnd.graphviz")])
    'dot'
    """
    try:
        return negotiate(fmt, accept, offers, aliases=ALIASES)
    except NegotiationError as error:
        raise ProblemError(error.status, "format", "Cannot serve that format", error.detail) from None


def safe_name(text: str) -> str:
    """A file name stem from a finding or node name.

    >>> safe_name("HP:0002901 / low Ca")
    'HP_0002901_low_Ca'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "mgkg"


def graph_response(graph: nx.MultiDiGraph, fmt: ExportFormat, stem: str, renderer: Renderer) -> Response:
    """Serve a picture graph in one export format, or a problem+json saying why it cannot be drawn
    (``renderer``, the service's setting, draws SVG and PNG)."""
    try:
        body = export(graph, fmt, renderer)
    except RendererUnavailableError as error:
        return problem_response(503, "renderer-unavailable", "No Graphviz renderer", str(error), format=fmt)
    except RenderFailedError as error:
        return problem_response(500, "render-failed", "Rendering failed", str(error), format=fmt)
    filename = f"{safe_name(stem)}{SUFFIXES[fmt]}"
    media = MEDIA_TYPES[fmt] + ("; charset=utf-8" if fmt not in ("png",) else "")
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "Vary": "Accept"}
    return Response(body, media_type=media, headers=headers)


def explanation_response(explanation: Explanation, fmt: ExportFormat, renderer: Renderer) -> Response:
    """Serve an explanation's mechanism graph as DOT, SVG, PNG, GraphML, Cytoscape.js, Mermaid or node-link.

    GET /why and GET /export?finding= call this for every format other than /why's own JSON.
    """
    return graph_response(explanation_graph(explanation), fmt, explanation.finding.label, renderer)
