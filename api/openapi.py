"""OpenAPI ``responses=`` entries the routes share: problem+json errors and the media types of answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from api.errors import PROBLEM_JSON
from api.models import ProblemResponse

PROBLEM_STATUSES: Final[dict[int, str]] = {
    400: "Bad request: an unknown format=, a malformed SPARQL query (with line and column), a bad "
    "named-query parameter or contradictory parameters.",
    403: "Refused: SPARQL Update, SERVICE, a graph that is not this service's, or an answer over the row "
    "limit (too-many-rows: page it with LIMIT and OFFSET, or send Prefer: handling=lenient).",
    404: "Not found: an unknown finding, node, link or named query (the problem lists the closest names), "
    "or a triple that is not entailed.",
    406: "Not acceptable: the Accept header allows none of the media types this route serves.",
    413: "Too large: the query text or the request body is over the configured limit.",
    414: "Request target too long: send the query by POST (a form or application/sparql-query).",
    415: "Unsupported media type: POST /sparql takes a form or application/sparql-query.",
    422: "Invalid parameters: a value out of range or of the wrong type; `errors` lists each one.",
    429: "Too many queries from this client at once (MGKG_SPARQL_PER_CLIENT); retry after Retry-After.",
    500: "Internal error: a renderer or the SPARQL engine failed on this request (a bug; please report it).",
    503: "Unavailable: every SPARQL worker is busy (retry after the Retry-After header), or no Graphviz "
    "renderer is installed for SVG/PNG.",
    504: "Time limit: the query ran past the time limit and was stopped.",
    507: "Memory limit: the query needed more memory than a query may take and was stopped.",
}
"""What each problem status means, wherever a route can send it (also the README's errors table)."""


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for these statuses: problem+json bodies with the ProblemResponse schema.

    The schema is given inline rather than by ``model=``, because FastAPI files a ``model=`` under the
    route's own media type (application/json), and problems are sent as application/problem+json.

    >>> sorted(problems(404, 422))
    [404, 422]
    >>> list(problems(404)[404]["content"])
    ['application/problem+json']
    """
    schema = ProblemResponse.model_json_schema()
    return {
        status: {"description": PROBLEM_STATUSES[status], "content": {PROBLEM_JSON: {"schema": schema}}}
        for status in statuses
    }


def media_content(media_types: Iterable[str]) -> dict[str, dict[str, Any]]:
    """OpenAPI ``content`` for answers in these media types: JSON as an object, images as binary, else text.

    >>> media_content(["image/png", "text/csv", "application/ld+json"])["image/png"]
    {'schema': {'type': 'string', 'format': 'binary'}}
    """
    content: dict[str, dict[str, Any]] = {}
    for media in dict.fromkeys(media_types):
        if media.endswith("json"):
            schema: dict[str, Any] = {"type": ["object", "array"]}
        elif media.startswith("image/") and not media.endswith("xml"):
            schema = {"type": "string", "format": "binary"}
        else:
            schema = {"type": "string"}
        content[media] = {"schema": schema}
    return content


def answer_responses(
    description: str, media_types: Iterable[str], statuses: Iterable[int] = ()
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` of a route that answers in these media types: its 200, then its problems.

    >>> list(answer_responses("The graph.", ["text/vnd.graphviz"], (404, 422)))
    [200, 404, 422]
    """
    return {200: {"description": description, "content": media_content(media_types)}, **problems(*statuses)}
