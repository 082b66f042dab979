"""Counts over the asserted graph: nodes by kind, links by polarity and mechanism, and source coverage."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg.graph.asserted import AssertedGraph, load_asserted
from kg.graph.validate import name_node
from kg.model.resources import ontology_dir
from kg.model.vocab import DCTERMS, EFFECT_SIGNS, MGKG

MARKER_PATTERN = re.compile(r"\[@problem_id:(\d+)\]")
"""A source marker in the chapter's text, such as [@problem_id:4415078]."""

CHAPTER_MARKER_PREFIX = "problem:"
"""How a chapter marker is written as a citation's dcterms:identifier (problem:4415078)."""


class Stats(BaseModel):
    """What the asserted graph holds, and which of the chapter's source markers it cites."""

    model_config = ConfigDict(frozen=True)

    nodes: int
    """Distinct instances of mgkg:Node or any of its subclasses."""
    nodes_by_kind: dict[str, int]
    """For each mgkg class under mgkg:Node (CURIE), how many nodes are asserted to be of it."""
    links: int
    """Causal links (instances of mgkg:CausalLink, or subjects of mgkg:cause)."""
    links_by_polarity: dict[str, int]
    """Links counted as "positive" and "negative"; "none" or "both" only for links the shapes reject."""
    links_by_mechanism: dict[str, int]
    """For each mechanism (CURIE), how many links are a step of it; a link may count in several."""
    mechanisms: int
    """Instances of mgkg:Mechanism."""
    citations: int
    """Instances of mgkg:Citation."""
    cited_markers: list[str]
    """The dcterms:identifier values (problem:N, droracle-2025, ...) of citations at least one link cites."""
    chapter_markers: list[str] | None
    """Every marker in the chapter's text, as problem:N; None when the chapter text is not available."""
    uncited_markers: list[str] | None
    """The chapter markers no causal link cites; None when the chapter text is not available."""


def find_markers(text: str) -> list[str]:
    """List the distinct source markers in a text, as citation identifiers, sorted.

    >>> find_markers("Mg-ATP [@problem_id:4415078]. cAMP [@problem_id:4641155][@problem_id:4415078].")
    ['problem:4415078', 'problem:4641155']
    """
    return sorted({CHAPTER_MARKER_PREFIX + number for number in MARKER_PATTERN.findall(text)})


def default_sources_dir() -> Path | None:
    """The shared source texts beside a source checkout (../shared/sources), or None when absent.

    An installed wheel ships no source texts, so there the coverage of chapter markers is not computed.
    """
    candidate = ontology_dir().parent.parent / "shared" / "sources"
    return candidate if candidate.is_dir() else None


def _instances(graph: Graph, cls: URIRef) -> set[URIRef]:
    """Subjects typed with cls or any of its subclasses (rdfs:subClassOf* in the graph itself)."""
    classes = set(graph.transitive_subjects(RDFS.subClassOf, cls))
    return {s for c in classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}


def _links(graph: Graph) -> set[URIRef]:
    """Causal links: typed as such, or recognisable by their mgkg:cause."""
    typed = _instances(graph, MGKG.CausalLink)
    return typed | {s for s in graph.subjects(MGKG.cause, None) if isinstance(s, URIRef)}


def _polarity(graph: Graph, link: URIRef) -> str:
    """Name a link's polarity from the signed effect property it uses."""
    signs = {sign for predicate, sign in EFFECT_SIGNS.items() if (link, predicate, None) in graph}
    if signs == {+1}:
        return "positive"
    if signs == {-1}:
        return "negative"
    return "none" if not signs else "both"


def _chapter_text(graph: Graph, sources_dir: Path) -> str | None:
    """Read the chapter's text: the source files of documents whose citations use problem:N markers."""
    texts = []
    for citation, identifier in graph.subject_objects(DCTERMS.identifier):
        if not str(identifier).startswith(CHAPTER_MARKER_PREFIX):
            continue
        document = graph.value(citation, MGKG.sourceDocument)
        source_file = graph.value(document, MGKG.sourceFile) if document is not None else None
        if source_file is not None and (sources_dir / str(source_file)).is_file():
            texts.append((sources_dir / str(source_file)).read_text(encoding="utf-8"))
    return "\n".join(sorted(set(texts))) if texts else None


def _count(names: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(names).items()))


def compute_stats(asserted: AssertedGraph | None = None, *, sources_dir: Path | None = None) -> Stats:
    """Count what the asserted graph holds (default: the shipped graph).

    The chapter's markers are read from its text in sources_dir (default: ../shared/sources beside a
    source checkout); the file name comes from the chapter document's mgkg:sourceFile. Without the text,
    chapter_markers and uncited_markers are None rather than guessed.
    """
    graph = (asserted if asserted is not None else load_asserted()).graph
    node_classes = [c for c in graph.transitive_subjects(RDFS.subClassOf, MGKG.Node) if isinstance(c, URIRef)]
    kinds = sorted(c for c in node_classes if (c, RDF.type, OWL.Class) in graph or c == MGKG.Node)
    links = _links(graph)
    cited = {
        str(identifier)
        for link in links
        for citation in graph.objects(link, MGKG.citation)
        for identifier in graph.objects(citation, DCTERMS.identifier)
    }
    directory = sources_dir if sources_dir is not None else default_sources_dir()
    text = _chapter_text(graph, directory) if directory is not None else None
    chapter = find_markers(text) if text is not None else None
    return Stats(
        nodes=len(_instances(graph, MGKG.Node)),
        nodes_by_kind={name_node(c): len(set(graph.subjects(RDF.type, c))) for c in kinds},
        links=len(links),
        links_by_polarity={"positive": 0, "negative": 0} | _count(_polarity(graph, link) for link in links),
        links_by_mechanism=_count(name_node(m) for ln in links for m in graph.objects(ln, MGKG.mechanism)),
        mechanisms=len(_instances(graph, MGKG.Mechanism)),
        citations=len(_instances(graph, MGKG.Citation)),
        cited_markers=sorted(cited),
        chapter_markers=chapter,
        uncited_markers=[m for m in chapter if m not in cited] if chapter is not None else None,
    )
