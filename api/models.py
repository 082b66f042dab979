"""Response models of the REST API (names end in Response); domain models come from kg.model.types as-is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kg.model.types import Citation, Context, LinkRef, NodeRef, Ref
from kg.render.schema import CausesDocument, ExplanationDocument
from kg.sparql.named_queries import QueryParameter


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


class HealthResponse(_Response):
    """The service is up and its graph loaded."""

    status: Literal["ok"]
    version: str
    asserted_triples: int
    inferred_triples: int
    inference_cache: Literal["hit", "miss", "none"] = Field(
        description="Whether start-up read the inference cache (hit) or reasoned (miss); none for a store "
        "that holds the inferred graph itself (oxigraph:, sparql:) and has no cache."
    )
    sparql_workers: int
    egress_sandbox: bool = Field(
        description="Whether the processes that run SPARQL queries cannot open network sockets (seccomp); "
        "false on platforms without it and for a remote store, where the guard is the only line."
    )


class WhyResponse(ExplanationDocument):
    """The answer of GET /why: ranked paths whose steps, nodes, links and citations sit once each in
    top-level tables (`steps`, `nodes`, `links`, `mechanism_refs`, `citations`, `documents`) and are
    referred to by key. `kg.render.document.expand` turns it back into a `kg.Explanation`."""


class CausesResponse(CausesDocument):
    """The answer of GET /causes: ranked causes whose paths refer to the same top-level tables as /why
    (`steps`, `nodes`, `links`, `mechanism_refs`, `citations`, `documents`).
    `kg.render.document.expand_causes` turns it back into a `kg.causal.causes.Causes`."""


class LinkResponse(_Response):
    """One asserted causal link and its evidence."""

    link: LinkRef
    cause: NodeRef
    effect: NodeRef
    polarity: Literal["positive", "negative"]
    predicate: Literal["increases", "decreases"]
    mechanisms: tuple[Ref, ...]
    context: Context
    citations: tuple[Citation, ...]
    evidence_types: tuple[str, ...] = Field(description="ECO CURIEs, e.g. 'ECO:0000304'.")
    evidence_summary: str

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "link": {
                        "iri": "https://w3id.org/mgkg/id/link-camp-pth-secretion",
                        "curie": "mgkgid:link-camp-pth-secretion",
                        "label": "cAMP drives PTH secretion",
                        "severity": None,
                    },
                    "polarity": "positive",
                    "predicate": "increases",
                }
            ]
        },
    )


class EntityResponse(_Response):
    """A node with its kind, standard identifiers and the causal links into and out of it."""

    node: NodeRef
    definition: str | None = None
    outgoing: tuple[LinkResponse, ...] = Field(description="Links whose cause is this node.")
    incoming: tuple[LinkResponse, ...] = Field(description="Links whose effect is this node.")


class FindingsResponse(_Response):
    """The clinical findings, and which of them a causal path from the source reaches."""

    source: NodeRef
    reachable: tuple[NodeRef, ...]
    unreachable: tuple[NodeRef, ...]


class CitedPassageResponse(_Response):
    """One citation (source marker and section) and the links that cite it."""

    citation: Citation
    links: tuple[LinkRef, ...]


class SourceResponse(_Response):
    """A source document with every passage of it that a link cites."""

    document: str | None
    document_iri: str | None
    passages: tuple[CitedPassageResponse, ...]


class CitationsResponse(_Response):
    """Every source, with the links that cite it."""

    sources: tuple[SourceResponse, ...]


class NamedQueryResponse(_Response):
    """A named query as GET /queries lists it."""

    name: str = Field(examples=["why-links"])
    title: str
    description: str
    returns: str
    parameters: tuple[QueryParameter, ...]
    url: str = Field(description="Where to run it, e.g. /queries/why-links?finding=mgkgid:hypocalcemia")


class NamedQueriesResponse(_Response):
    """Every named query."""

    queries: tuple[NamedQueryResponse, ...]


class ProblemResponse(_Response):
    """An error, as every error of the service is sent: application/problem+json (RFC 9457).

    ``type`` is a stable URI per kind of problem (branch on it, not on the prose); ``detail`` says
    what was wrong and what to do. Some kinds add members: ``suggestions`` (closest names, 404
    unknown-node), ``known`` (404 unknown-query), ``line``/``column`` (400 sparql-syntax), ``errors``
    (422 invalid-parameters: one entry per bad parameter), ``format`` (500/503 rendering),
    ``parameter``/``iri`` (400 bad-dataset: which dataset graph is not an absolute IRI).
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str = Field(examples=["https://w3id.org/mgkg/problems/unknown-node"])
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    name: str | None = Field(default=None, description="The name that was not found (unknown-node).")
    suggestions: list[str] | None = Field(default=None, description="The closest known names.")
    known: list[str] | None = Field(default=None, description="The known named queries (unknown-query).")
    line: int | None = Field(default=None, description="Where a SPARQL syntax error is (1-based).")
    column: int | None = None
    errors: list[dict[str, str]] | None = Field(
        default=None, description="Each invalid parameter: its location (e.g. query.max_hops) and a message."
    )
    format: str | None = Field(default=None, description="The format that could not be rendered.")
    parameter: str | None = Field(
        default=None, description="Where the malformed dataset graph was (FROM, named-graph-uri, ...)."
    )
    iri: str | None = Field(default=None, description="The dataset graph that is not an absolute IRI.")
