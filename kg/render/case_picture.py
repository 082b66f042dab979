"""The picture of a whole case (every explaining path of every observed finding, as one graph) and the case
answer as the bytes of every format it is offered in: JSON, text, the proofs as PROV-O, the picture."""

from __future__ import annotations

from typing import Final, Literal, get_args

import networkx as nx
import pyoxigraph as ox

from kg.causal.case_proof import proof_graph
from kg.causal.case_text import format_case
from kg.causal.case_types import CaseExplanation
from kg.model.types import Explanation, ExplanationStatus
from kg.render.formats import EXPORT_FORMATS, MEDIA_TYPES, SUFFIXES, ExportFormat, export, parse_format
from kg.render.graphviz import DEFAULT_RENDERER, Renderer
from kg.render.picture import explanation_graph, recommendations_note

ProofFormat = Literal["turtle", "jsonld"]
"""The formats of the proofs: PROV-O in Turtle or JSON-LD."""

AnswerFormat = Literal["json", "text", ProofFormat]
"""The formats of the answer itself (its JSON, its text, the proofs); the rest are pictures."""

ANSWER_FORMATS: Final[tuple[AnswerFormat, ...]] = get_args(AnswerFormat)

PROOF_FORMATS: Final[dict[ProofFormat, ox.RdfFormat]] = {
    "turtle": ox.RdfFormat.TURTLE,
    "jsonld": ox.RdfFormat.JSON_LD,
}
"""The RDF formats of the proofs; pyoxigraph's format table gives each its media type, file extension and
the names it goes by (as it does for the SPARQL endpoint's graph formats, kg.sparql.results)."""

CaseFormat = AnswerFormat | ExportFormat

CASE_FORMATS: Final[tuple[CaseFormat, ...]] = (*ANSWER_FORMATS, *EXPORT_FORMATS)
"""Every format a case answer is offered in, its JSON first (the default)."""

CASE_MEDIA_TYPES: Final[dict[CaseFormat, str]] = {
    "json": "application/json",
    "text": "text/plain",
    **{fmt: rdf.media_type for fmt, rdf in PROOF_FORMATS.items()},
    **{fmt: media for fmt, media in MEDIA_TYPES.items()},  # (a comprehension: the keys widen to CaseFormat)
}
"""The media type of each case format, as served over HTTP."""

CASE_SUFFIXES: Final[dict[CaseFormat, str]] = {
    "json": ".json",
    "text": ".txt",
    **{fmt: f".{rdf.file_extension}" for fmt, rdf in PROOF_FORMATS.items()},
    **{fmt: suffix for fmt, suffix in SUFFIXES.items() if fmt != "nodelink"},
    "nodelink": ".nodelink.json",
}
"""The file name suffix of each case format (node-link JSON is told apart from the answer's JSON)."""


def case_graph(answer: CaseExplanation) -> nx.MultiDiGraph:
    """One graph of the case: the paths of all explained findings merged step by step (a step shared by
    several findings is one edge listing every mechanism through it, each edge with its citations), the
    observed findings with the role 'finding', the starts of the paths with the role 'source', and the
    advice in the graph's note."""
    paths = tuple(path for finding in answer.explained for path in finding.paths)
    first = answer.explained[0].finding if answer.explained else answer.source
    whole = Explanation(
        question=f"How does {answer.source.label} explain this case?",
        source=answer.source,
        finding=first,
        context=answer.severity,
        status=ExplanationStatus.EXPLAINED if paths else ExplanationStatus.NO_PATH,
        message=answer.summary,
        paths=paths,
        mechanisms=(),
        contradicting=(),
        max_hops=max((p.hops for p in paths), default=0),
        max_paths=len(paths),
    )
    graph = explanation_graph(whole)
    for finding in answer.explained:
        graph.nodes[finding.finding.iri]["role"] = "finding"
        graph.nodes[finding.source.iri]["role"] = "source"
    if answer.recommendations:
        graph.graph["recommendations"] = recommendations_note(
            r.recommendation for r in answer.recommendations
        )
    return graph


def render_case(answer: CaseExplanation, fmt: CaseFormat, renderer: Renderer = DEFAULT_RENDERER) -> bytes:
    """The case answer in one format, as the bytes of a file (UTF-8 for the text formats). Turtle and
    JSON-LD hold the proofs (empty without them); SVG and PNG need a Graphviz renderer
    (kg.render.graphviz.RendererUnavailableError says how to install one)."""
    if fmt == "json":
        return answer.model_dump_json(indent=2).encode("utf-8")
    if fmt == "text":
        return format_case(answer).encode("utf-8")
    if fmt == "turtle" or fmt == "jsonld":  # rdflib names its serializers by media type too
        rdf = proof_graph(answer, answer.proofs).serialize(format=PROOF_FORMATS[fmt].media_type)
        return rdf.encode("utf-8")
    return export(case_graph(answer), fmt, renderer)


def parse_case_format(name: str) -> CaseFormat:
    """Read a case format name (ttl, json-ld and the export formats' aliases too); ValueError lists them.

    >>> parse_case_format("TTL"), parse_case_format("json"), parse_case_format("cytoscape")
    ('turtle', 'json', 'cyjs')
    """
    value = name.strip().lower()
    value = {"txt": "text"}.get(value, value)
    for fmt in ANSWER_FORMATS:
        if fmt == value:
            return fmt
    for proof, rdf in PROOF_FORMATS.items():  # pyoxigraph's names: ttl, json-ld
        if value in (rdf.file_extension, rdf.name.lower()):
            return proof
    try:
        return parse_format(value)
    except ValueError:
        raise ValueError(f"unknown case format {name!r}; choose one of {', '.join(CASE_FORMATS)}") from None
