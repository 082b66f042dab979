"""Every error the service reports, as application/problem+json (RFC 9457), mapped in one place.

Each problem says what was wrong (``detail``) and what to do; ``type`` is a stable URI per kind of
problem so that clients can branch on it without parsing prose.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.fairness import client_of
from api.models import ProblemResponse
from kg.errors import MgkgError, NotEntailedError, UnknownNodeError
from kg.sparql import (
    ClientLimitError,
    DatasetIriError,
    EngineBusyError,
    EngineFailureError,
    QueryMemoryError,
    QueryRefusedError,
    QueryTimeoutError,
    SparqlSyntaxError,
)
from kg.sparql.named_queries import NamedQueryError, UnknownQueryError

logger = logging.getLogger(__name__)

PROBLEM_JSON: Final = "application/problem+json"
_TYPE_BASE: Final = "https://w3id.org/mgkg/problems/"


class ProblemError(Exception):
    """A problem found by a route itself (406, 413, 415, ...), raised and rendered like every other."""

    def __init__(self, status: int, kind: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail, self.extra = status, kind, title, detail, extra


def problem_response(
    status: int, kind: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """Build one problem+json response, its body checked against ProblemResponse (the documented schema)."""
    problem = ProblemResponse(type=_TYPE_BASE + kind, title=title, status=status, detail=detail, **extra)
    body = problem.model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _for_domain_error(error: MgkgError) -> JSONResponse:
    """Map a library error to its status and problem type."""
    if isinstance(error, UnknownNodeError):
        return problem_response(
            404,
            "unknown-node",
            f"Unknown {error.kind}",
            str(error),
            name=error.name,
            suggestions=error.suggestions,
        )
    if isinstance(error, NotEntailedError):
        return problem_response(404, "not-entailed", "Not entailed", str(error))
    if isinstance(error, UnknownQueryError):
        return problem_response(404, "unknown-query", "Unknown named query", str(error), known=error.known)
    if isinstance(error, NamedQueryError):
        return problem_response(400, "bad-query-parameter", "Bad named-query parameter", str(error))
    if isinstance(error, SparqlSyntaxError):
        return problem_response(
            400, "sparql-syntax", "Malformed SPARQL query", str(error), line=error.line, column=error.column
        )
    if isinstance(error, DatasetIriError):
        return problem_response(
            400,
            "bad-dataset",
            "Malformed dataset graph",
            str(error),
            parameter=error.parameter,
            iri=error.iri,
        )
    if isinstance(error, QueryRefusedError):
        return problem_response(403, f"refused-{error.reason}", "Query refused", str(error))
    if isinstance(error, QueryTimeoutError):
        return problem_response(504, "query-timeout", "Query time limit reached", str(error))
    if isinstance(error, QueryMemoryError):
        return problem_response(507, "query-memory", "Query memory limit reached", str(error))
    if isinstance(error, ClientLimitError):
        return problem_response(
            429,
            "too-many-queries",
            "Too many queries from this client",
            str(error),
            headers={"Retry-After": "1"},
        )
    if isinstance(error, EngineBusyError):
        return problem_response(
            503, "engine-busy", "SPARQL engine busy", str(error), headers={"Retry-After": "1"}
        )
    if isinstance(error, EngineFailureError):
        return problem_response(500, "engine-failure", "SPARQL evaluation failed", str(error))
    return problem_response(500, "internal", "Internal error", f"{error} Please report this.")


async def _on_domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MgkgError)
    response = _for_domain_error(error)
    # the decisions a client may ask about (404 with suggestions, 429 for its share, 503 busy, ...)
    logger.debug(
        "%s %s from %s: %d (%s: %s)",
        request.method,
        request.url.path,
        client_of(request),
        response.status_code,
        type(error).__name__,
        error,
    )
    return response


async def _on_api_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(error.status, error.kind, error.title, error.detail, **error.extra)


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        {"location": ".".join(str(part) for part in e.get("loc", ())), "message": e.get("msg", "")}
        for e in error.errors()
    ]
    detail = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
    return problem_response(
        422,
        "invalid-parameters",
        "Invalid parameters",
        f"{detail}. Fix the parameters (see /docs).",
        errors=problems,
    )


_METHODS: Final = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's own 405 names only the first route's)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]
    return ", ".join(allowed)


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = str(error.detail) if error.status_code != 404 else f"No route {request.url.path}; see /docs."
    headers = dict(error.headers) if error.headers else {}
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(
        error.status_code, f"http-{error.status_code}", "HTTP error", detail, headers=headers or None
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every known error as problem+json."""
    app.add_exception_handler(MgkgError, _on_domain_error)
    app.add_exception_handler(ProblemError, _on_api_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
