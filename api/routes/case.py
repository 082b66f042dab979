"""POST /case: one cited explanation of a patient's findings, labs, exposures and treatments tried."""

from __future__ import annotations

import threading
import weakref
from typing import Annotated, Any, Final

import anyio.to_thread
from fastapi import APIRouter, Body
from fastapi.responses import Response

from api.deps import StateDep
from api.errors import ProblemError
from api.fairness import cpu_limiter
from api.openapi import answer_responses
from api.params import AcceptHeader
from api.pictures import choose_format, format_query, graph_response
from kg.causal.case import explain_case
from kg.causal.case_model import Case, CaseInputError
from kg.causal.case_proof import prove_case
from kg.causal.case_types import CaseExplanation
from kg.causal.network import CausalNetwork, network_of
from kg.causal.recommend import RecommendationCatalog, load_recommendations
from kg.graph.knowledge import KnowledgeGraph
from kg.render.case_picture import CASE_FORMATS, CASE_MEDIA_TYPES, case_graph, parse_case_format, render_case
from kg.render.formats import export_format

router = APIRouter(tags=["case"])

CASE_OFFERS: Final[tuple[tuple[str, str], ...]] = tuple((fmt, CASE_MEDIA_TYPES[fmt]) for fmt in CASE_FORMATS)
"""(format, media type) pairs /case serves: its JSON first (the default), plain text, the proofs as PROV-O
(Turtle, JSON-LD), then the picture of the whole case in every export format."""

EXAMPLES: Final[dict[str, dict[str, Any]]] = {
    "renal-cisplatin": {
        "summary": "Renal wasting on cisplatin, FE_Mg above 4%, a calcium infusion without response",
        "value": {
            "findings": ["refractory hypokalemia", "cramps"],
            "labs": {"serum_mg": "low", "fe_mg_percent": 5, "serum_ca": "low", "pth": "normal"},
            "exposures": ["cisplatin"],
            "treatments": [{"intervention": "calcium infusion", "response": "no_response"}],
        },
    },
    "extra-renal": {
        "summary": "Extra-renal loss with low urinary magnesium",
        "value": {
            "findings": ["tetany"],
            "labs": {"serum_mg": "low", "urinary_mg": "low"},
            "exposures": ["chronic diarrhea"],
        },
    },
    "masked": {
        "summary": "Refractory hypokalemia with a normal serum magnesium",
        "value": {
            "findings": ["hypokalemia"],
            "labs": {"serum_mg": "normal"},
            "treatments": [{"intervention": "potassium replacement", "response": "no_response"}],
        },
    },
    "calcium-failed": {
        "summary": "A calcium infusion that failed, with an inappropriately low PTH",
        "value": {
            "findings": ["tingling"],
            "labs": {"serum_ca": "low", "pth": "low"},
            "treatments": [{"intervention": "calcium infusion", "response": "no_response"}],
        },
    },
    "mild-high-pth": {
        "summary": "A high PTH: the mild phase, and what it does not explain",
        "value": {"findings": ["refractory hypocalcemia", "tremor"], "labs": {"pth": "high"}},
    },
    "alkalosis": {
        "summary": "Alkalosis and a low ionized magnesium with a normal total level",
        "value": {
            "findings": ["muscle cramps"],
            "labs": {"serum_mg": "normal", "ionized_mg": "low", "alkalosis": True},
        },
    },
    "urine-against-diarrhea": {
        "summary": "High urinary magnesium against an extra-renal cause",
        "value": {
            "findings": ["seizure"],
            "labs": {"urinary_mg": "high"},
            "exposures": ["chronic diarrhea"],
            "absent": ["tetany"],
        },
    },
    "aminoglycoside-indeterminate": {
        "summary": "An FE_Mg inside the 2-4% band on aminoglycosides: indeterminate",
        "value": {
            "findings": ["tremor"],
            "labs": {"serum_mg": "low", "fe_mg_percent": 3},
            "exposures": ["aminoglycoside antibiotics"],
        },
    },
}
"""The OpenAPI examples: the vignettes the tests answer (tests/resources/case/vignettes.json), built from
the sources."""


_catalogs: weakref.WeakKeyDictionary[CausalNetwork, RecommendationCatalog] = weakref.WeakKeyDictionary()
_catalogs_lock = threading.Lock()


def _catalog(knowledge: KnowledgeGraph, network: CausalNetwork) -> RecommendationCatalog:
    """The recommendations of the start-up graph, read on first use and kept for as long as its network
    lives (the graph is only read, so the catalog never goes stale; reading it costs some 8 ms)."""
    with _catalogs_lock:
        catalog = _catalogs.get(network)
        if catalog is None:
            catalog = _catalogs[network] = load_recommendations(knowledge.asserted.graph, network)
        return catalog


def answer_case(knowledge: KnowledgeGraph, case: Case) -> CaseExplanation:
    """Explain the case on the start-up graph with its recommendations, with a proof per explained finding
    from the asserted and inferred graphs."""
    network = network_of(knowledge)
    answer = explain_case(network, case, _catalog(knowledge, network))
    return answer.model_copy(update={"proofs": prove_case(knowledge, answer)})


@router.post(
    "/case",
    summary="Explain a whole case: findings, labs, exposures, treatments tried",
    response_model=CaseExplanation,
    responses=answer_responses(
        "The case explanation as JSON, plain text, or the picture of the whole case.",
        (m for _, m in CASE_OFFERS),
        (400, 404, 406, 413, 422, 500, 503),
    ),
)
async def case(
    state: StateDep,
    body: Annotated[Case, Body(openapi_examples=EXAMPLES)],
    format: Annotated[
        str | None,
        format_query(
            "json (default), text, turtle or jsonld (the proofs as PROV-O), svg, dot, graphml, "
            "cyjs, mermaid...; else Accept decides.",
            CASE_OFFERS,
        ),
    ] = None,
    accept: AcceptHeader = None,
) -> Response:
    """Which observed findings hypomagnesemia explains (cited paths under the severity the observations
    imply), which it does not, the steps they share, renal or extra-renal loss and the candidate causes,
    what argues against it, what each intervention is expected to do, and what the sources advise.
    A value the case cannot take is a 422 naming the field and what it accepts; a name no node of the
    graph has is a 404 naming the field and the closest names (as /why).
    Educational, from two sources: not a clinical decision."""
    fmt = choose_format(format, accept, CASE_OFFERS)
    try:
        answer = await anyio.to_thread.run_sync(answer_case, state.knowledge, body, limiter=cpu_limiter())
    except CaseInputError as error:
        # a name no node has is a 404, as /why answers it; a known node of the wrong kind is a 422
        raise ProblemError(
            404 if error.unknown else 422,
            "unknown-node" if error.unknown else "invalid-case",
            "Unknown name in the case" if error.unknown else "Cannot interpret the case",
            str(error),
            field=error.field,
            accepted=list(error.accepted),
        ) from None
    picture = export_format(fmt)
    if picture is not None:  # drawing may run Graphviz (a subprocess): off the event loop
        return await anyio.to_thread.run_sync(
            graph_response, case_graph(answer), picture, "case", state.renderer
        )
    if fmt in ("turtle", "jsonld", "text"):
        media = CASE_MEDIA_TYPES[parse_case_format(fmt)]
        charset = "" if fmt == "jsonld" else "; charset=utf-8"
        text = render_case(answer, parse_case_format(fmt))
        return Response(text, media_type=media + charset, headers={"Vary": "Accept"})
    return Response(answer.model_dump_json(), media_type="application/json", headers={"Vary": "Accept"})
