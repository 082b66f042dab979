"""TRAPI 1.6 over HTTP: GET /trapi/meta_knowledge_graph and POST /trapi/query (one-hop and pathfinder)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

import anyio.to_thread
from fastapi import APIRouter, Body, FastAPI, Query
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from api.deps import KnowledgeGraphDep
from api.errors import ProblemError
from api.fairness import cpu_limiter
from api.openapi import answer_responses, problems
from kg.graph.knowledge import KnowledgeGraph
from kg.translator.biolink import biolink_version
from kg.translator.elements import meta_knowledge_graph
from kg.translator.kgx import KgxFormat, archive_kgx, export_kgx
from kg.translator.sssom import export_sssom
from kg.translator.trapi import TRAPI_VERSION, TrapiQueryError, answer
from kg.translator.view import INFORES, biolink_view

router = APIRouter(tags=["translator"])

X_TRANSLATOR: Final[dict[str, Any]] = {"component": "KP", "team": ["mgkg"], "infores": INFORES}
"""The OpenAPI info.x-translator of a Translator knowledge provider (biolink-version added at build)."""
X_TRAPI: Final[dict[str, Any]] = {
    "version": TRAPI_VERSION,
    "multicuriequery": False,
    "asyncquery": False,
    "pathfinderquery": True,
    "operations": ["lookup"],
}
"""The OpenAPI info.x-trapi: the TRAPI version and which query kinds are implemented."""


ONE_HOP_EXAMPLE: Final[dict[str, Any]] = {
    "message": {
        "query_graph": {
            "nodes": {"n0": {"ids": ["HP:0002917"]}, "n1": {"categories": ["biolink:PhenotypicFeature"]}},
            "edges": {"e0": {"subject": "n0", "object": "n1", "predicates": ["biolink:causes"]}},
        }
    }
}
"""What does hypomagnesemia (HP:0002917) cause directly?"""
PATHFINDER_EXAMPLE: Final[dict[str, Any]] = {
    "message": {
        "query_graph": {
            "nodes": {"n0": {"ids": ["HP:0002917"]}, "n1": {"ids": ["HP:0002901"]}},
            "paths": {"p0": {"subject": "n0", "object": "n1", "predicates": ["biolink:related_to"]}},
        }
    }
}
"""How does hypomagnesemia (HP:0002917) lead to hypocalcemia (HP:0002901)?"""


@router.get(
    "/trapi/meta_knowledge_graph",
    summary="TRAPI: the categories and predicates mgkg serves",
    responses={200: {"description": "The TRAPI MetaKnowledgeGraph."}},
)
async def get_meta_knowledge_graph(knowledge: KnowledgeGraphDep) -> JSONResponse:
    """Every Biolink category with its id prefixes, and every (subject category, predicate, object category)
    with the qualifiers its edges carry (from ontology/biolink.ttl)."""
    view = await anyio.to_thread.run_sync(biolink_view, knowledge, limiter=cpu_limiter())
    return JSONResponse(meta_knowledge_graph(view))


@router.post(
    "/trapi/query",
    summary="TRAPI: a one-hop lookup or a pathfinder query",
    responses={200: {"description": "A TRAPI 1.6 Response."}, **problems(400, 404, 422)},
)
async def post_query(
    body: Annotated[
        dict[str, Any], Body(description="A TRAPI 1.6 Query.", examples=[ONE_HOP_EXAMPLE, PATHFINDER_EXAMPLE])
    ],
    knowledge: KnowledgeGraphDep,
) -> JSONResponse:
    """A one-hop query (two query nodes, one edge: for example HP:0002917 -biolink:causes-> a
    biolink:PhenotypicFeature) is answered from mgkg's asserted causal links; a pathfinder query (both ends
    pinned, one path) from mgkg's sound paths, each an auxiliary graph with one analysis. Node ids are the
    exactMatch standard CURIEs (HP, CHEBI, GO, MONDO, ...) or mgkg's own; a query may pin either. The body
    is checked against reasoner-pydantic's TRAPI 1.6 Query model (422 when it does not fit)."""
    message = parse_query(body)

    def run() -> dict[str, Any]:
        return answer(biolink_view(knowledge), message)

    try:
        body = await anyio.to_thread.run_sync(run, limiter=cpu_limiter())
    except TrapiQueryError as error:
        raise ProblemError(
            400, "trapi-query", "Cannot answer this TRAPI query", str(error), code=error.code
        ) from None
    return JSONResponse(body)


KGX_MEDIA_TYPES: Final[dict[str, str]] = {"tsv": "text/tab-separated-values", "jsonl": "application/jsonl"}
"""The media type of each KGX serialisation."""


@router.get(
    "/export/kgx/{part}",
    summary="The graph as KGX nodes or edges (TSV or JSON Lines), for KG-Hub, ROBOKOP or kgx merge",
    response_class=Response,
    responses=answer_responses("The KGX file.", KGX_MEDIA_TYPES.values(), (422,)),
)
async def get_kgx(
    part: Literal["nodes", "edges"],
    knowledge: KnowledgeGraphDep,
    format: Annotated[KgxFormat, Query(description="tsv (default) or jsonl.")] = "tsv",
) -> Response:
    """Every node (id, category, name, xref) or every asserted causal link (subject, predicate, object,
    qualifiers, knowledge_level, agent_type, primary_knowledge_source, publications) in KGX."""
    view = await anyio.to_thread.run_sync(biolink_view, knowledge, limiter=cpu_limiter())
    nodes, edges = export_kgx(view, format)
    return Response(
        nodes if part == "nodes" else edges,
        media_type=KGX_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="mgkg_{part}.{format}"'},
    )


KGX_ARCHIVES: Final[dict[str, KgxFormat]] = {"kgx-tsv": "tsv", "kgx-jsonl": "jsonl"}
"""The ``GET /export?format=`` values that answer the whole graph as a KGX archive (nodes and edges)."""


def kgx_archive(knowledge: KnowledgeGraph, name: str, scoped: bool) -> Response:
    """``GET /export?format=kgx-tsv|kgx-jsonl``: the KGX nodes and edges files in one .tar.gz.

    KGX is the whole graph; a ``finding`` or ``node`` to scope it to (``scoped``) is a 400, not ignored.
    """
    if scoped:
        raise ProblemError(
            400,
            "contradictory-parameters",
            "KGX is the whole graph",
            f"format={name} exports every node and asserted link; drop `finding` and `node`, or pick a"
            " picture format for a part of the graph.",
        )
    fmt = KGX_ARCHIVES[name]
    return Response(
        archive_kgx(biolink_view(knowledge), fmt),
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="mgkg-kgx-{fmt}.tar.gz"'},
    )


@router.get(
    "/export/sssom",
    summary="mgkg's identifier mappings (every skos:*Match) as an SSSOM TSV",
    response_class=Response,
    responses=answer_responses("The SSSOM TSV.", ["text/tab-separated-values"]),
)
async def get_sssom(knowledge: KnowledgeGraphDep) -> Response:
    """Every mapping of an mgkg node to a standard identifier, with the set's id, licence and curie map."""
    return Response(
        export_sssom(knowledge.asserted.graph),
        media_type="text/tab-separated-values",
        headers={"Content-Disposition": 'attachment; filename="mgkg.sssom.tsv"'},
    )


def parse_query(body: Mapping[str, Any]) -> dict[str, Any]:
    """The message of a TRAPI Query body, checked with reasoner-pydantic; a ProblemError (422) if not one.

    reasoner-pydantic 6.0.0 makes a QPath's ``constraints`` required although TRAPI 1.6 makes it optional;
    a path without it is given ``constraints: null`` before the check, so queries that follow the spec pass.
    """
    message_in = body.get("message")
    query_graph = message_in.get("query_graph") if isinstance(message_in, Mapping) else None
    if isinstance(query_graph, Mapping) and isinstance(query_graph.get("paths"), Mapping):
        for path in query_graph["paths"].values():
            if isinstance(path, dict):
                path.setdefault("constraints", None)
    from reasoner_pydantic import Query as TrapiQuery  # deferred: its models take ~0.2 s to import

    try:
        query = TrapiQuery.model_validate(body)
    except ValidationError as error:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5])
        raise ProblemError(422, "trapi-query", "Not a TRAPI 1.6 Query", detail) from None
    message: dict[str, Any] = query.message.model_dump(mode="json", exclude_none=True)
    return message


def install_translator_info(app: FastAPI) -> None:
    """Add x-translator and x-trapi to the OpenAPI info, as Translator's SmartAPI registry reads them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema["info"]["x-translator"] = {**X_TRANSLATOR, "biolink-version": biolink_version()}
            schema["info"]["x-trapi"] = X_TRAPI
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
