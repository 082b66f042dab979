"""REST resources over the causal network: findings, entities, links, citations, justifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from rdflib import URIRef

from api.deps import KnowledgeGraphDep, StateDep
from api.models import (
    CitationsResponse,
    EntityResponse,
    FindingsResponse,
    LinkResponse,
)
from api.openapi import problems
from kg.causal.justify import Justification
from kg.causal.justify import justify as justify_triple
from kg.causal.network import DEFAULT_SOURCE, network_of
from kg.errors import UnknownNodeError
from kg.model.names import expand_id
from kg.model.vocab import SKOS

router = APIRouter(tags=["graph"])
_NAME_HELP = "Any name /why takes: label, synonym, local id, CURIE (mgkgid:..., HP:...) or IRI."


@router.get(
    "/findings",
    summary="The clinical findings",
    response_model=FindingsResponse,
    responses=problems(404, 422),
)
async def findings(
    knowledge: KnowledgeGraphDep,
    source: Annotated[
        str, Query(description="Start of the causal paths (name, CURIE or IRI).")
    ] = DEFAULT_SOURCE,
) -> FindingsResponse:
    """Every clinical finding of the graph, split into those a causal path from ``source`` reaches and
    the rest."""
    network = network_of(knowledge)
    start = network.resolve(source, "source")
    reachable = tuple(network.findings(start))
    seen = {ref.iri for ref in reachable}
    rest = tuple(ref for ref in network.findings(start, include_unreachable=True) if ref.iri not in seen)
    return FindingsResponse(source=network.node(start), reachable=reachable, unreachable=rest)


@router.get(
    "/entities/{id:path}",
    summary="A node and its causal links",
    response_model=EntityResponse,
    responses=problems(404, 422),
)
async def entity(
    knowledge: KnowledgeGraphDep,
    state: StateDep,
    id: Annotated[
        str,
        Path(
            description="Any name /why takes: label, synonym, local id, CURIE (mgkgid:hypocalcemia, "
            "HP:0002901) or IRI."
        ),
    ],
) -> EntityResponse:
    """A node's label, kind and standard identifiers, with every link into and out of it and their
    citations. The name resolves as /why's finding does; 404 with the closest names for an unknown one."""
    network = network_of(knowledge)
    iri = network.resolve(id, "entity")
    node = network.node(iri)
    definition = knowledge.asserted.graph.value(URIRef(iri), SKOS.definition)
    return EntityResponse(
        node=node,
        definition=str(definition) if definition is not None else None,
        outgoing=state.catalog.outgoing.get(iri, ()),
        incoming=state.catalog.incoming.get(iri, ()),
    )


@router.get(
    "/links/{id}",
    summary="A causal link and its evidence",
    response_model=LinkResponse,
    responses=problems(404, 422),
)
async def link(
    state: StateDep,
    id: Annotated[str, Path(description="CURIE or local id, e.g. mgkgid:link-camp-pth-secretion.")],
) -> LinkResponse:
    """One asserted causal link: cause, effect, sign, mechanisms, context, citations, evidence."""
    found = state.catalog.links.get(expand_id(id))
    if found is None:
        names = sorted(state.catalog.links)
        close = [n for n in names if id.rsplit(":", 1)[-1].rsplit("/", 1)[-1] in n][:5]
        raise UnknownNodeError(id, close, "link")
    return found


@router.get("/citations", summary="Every source and the links that cite it", response_model=CitationsResponse)
async def citations(state: StateDep) -> CitationsResponse:
    """Every source document, each cited passage of it (marker and section) and the links citing it."""
    return state.catalog.citations


@router.get(
    "/justify",
    summary="The asserted links behind an inferred triple",
    response_model=Justification,
    responses=problems(404, 422),
)
def justify(
    knowledge: KnowledgeGraphDep,
    subject: Annotated[str, Query(description=_NAME_HELP, examples=["hypomagnesemia"])],
    predicate: Annotated[
        str,
        Query(
            description="causes, increases, decreases or causallyUpstreamOf (or an RO IRI/CURIE).",
            examples=["mgkg:causallyUpstreamOf"],
        ),
    ],
    object: Annotated[str, Query(description=_NAME_HELP, examples=["hypocalcemia"])],
    max_chains: Annotated[int, Query(ge=1, le=50, description="Most chains of links to return.")] = 5,
) -> Justification:
    """Justify an entailed causal triple by the chains of asserted, cited links it was derived from.
    Names resolve as /why's do; 404 when a name is unknown or the triple is not entailed."""
    network = network_of(knowledge)
    return justify_triple(knowledge, subject, predicate, object, max_chains=max_chains, network=network)
