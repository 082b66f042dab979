"""Load the ontology and facts into the asserted named graph of an rdflib Dataset."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph
from rdflib.term import Node

from kg.errors import SourceSyntaxError
from kg.graph.files import check_jsonld_contexts, open_rdf, rdf_format, syntax_error
from kg.model.resources import default_sources
from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH

_LINE_PATTERN = re.compile(r"line (\d+)")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssertedGraph:
    """The curated triples, and for each subject the files that state something about it."""

    graph: Graph
    files: tuple[Path, ...]
    origins: Mapping[Node, frozenset[Path]] = field(repr=False)

    def origin_of(self, node: Node) -> str:
        """Name the file(s) a node was stated in, for error messages."""
        paths = self.origins.get(node)
        return ", ".join(sorted(p.name for p in paths)) if paths else "(unknown file)"


_RDFLIB_FORMATS: dict[str, str] = {
    "Turtle": "turtle",
    "N-Triples": "nt",
    "N-Quads": "nquads",
    "TriG": "trig",
    "RDF/XML": "xml",
    "JSON-LD": "json-ld",
    "N3": "n3",
}
"""rdflib's parser name for each pyoxigraph RdfFormat name that kg.graph.files.rdf_format can return."""


def parse_file(path: Path) -> Graph:
    """Parse one RDF file (format from its suffix, ``.gz`` read through), naming file and line on an error.

    The file is read once through kg.graph.files (its safety checks), its bytes checked by pyoxigraph (a
    fast syntax check that reports line and column) and only then parsed by rdflib, which never sees a
    file that could make it fetch a URL or expand entities without bound. Quad formats are read with
    their graph names dropped.
    """
    fmt = rdf_format(path)
    base = path.absolute().as_uri()
    with open_rdf(path) as stream:
        data = stream.read()
    try:
        for _ in ox.parse(data, format=fmt, base_iri=base):
            pass
    except SyntaxError as error:
        raise syntax_error(path, error) from None
    if fmt == ox.RdfFormat.JSON_LD:
        check_jsonld_contexts(path, data)
    name = _RDFLIB_FORMATS[fmt.name]
    graph = Graph()
    try:
        if name in ("nquads", "trig"):
            dataset = Dataset()
            dataset.parse(data=data, format=name, publicID=base)
            for s, p, o, _ in dataset.quads():
                graph.add((s, p, o))
            for prefix, namespace in dataset.namespaces():
                graph.bind(prefix, namespace, override=False)
        else:
            graph.parse(data=data, format=name, publicID=base)
    except RecursionError:
        detail = "nested too deeply for rdflib's parser (lists, [] or elements nested thousands deep)"
        raise SourceSyntaxError(path, None, detail) from None
    except Exception as error:  # rdflib raises parser-specific types; all are reported the same way
        message = " ".join(str(error).split())
        match = _LINE_PATTERN.search(message)
        line = int(match.group(1)) if match else None
        raise SourceSyntaxError(path, line, f"syntax error: {message}") from error
    return graph


def load_asserted(paths: Sequence[Path] | None = None) -> AssertedGraph:
    """Parse every source file into one graph; by default the shipped ontology and facts.

    All files are parsed before anything is returned, so a broken file leaves no half-loaded graph.
    """
    files = tuple(Path(p) for p in (paths if paths is not None else default_sources()))
    merged = Graph()
    origins: dict[Node, set[Path]] = {}
    for path in files:
        parsed = parse_file(path)
        for prefix, namespace in parsed.namespaces():
            merged.bind(prefix, namespace, override=False)
        for triple in parsed:
            merged.add(triple)
            origins.setdefault(triple[0], set()).add(path)
    logger.debug(
        "asserted graph: %d triples from %d %s files",
        len(merged),
        len(files),
        "given" if paths is not None else "shipped",
    )
    return AssertedGraph(merged, files, {node: frozenset(ps) for node, ps in origins.items()})


def build_dataset(asserted: Graph, inferred: Iterable[tuple[Node, Node, Node]] = ()) -> Dataset:
    """Put the asserted and inferred triples into their named graphs of one Dataset.

    The default graph of the returned Dataset is the union of the named graphs.
    """
    dataset = Dataset(default_union=True)
    for prefix, namespace in asserted.namespaces():
        dataset.bind(prefix, namespace, override=False)
    asserted_graph = dataset.graph(ASSERTED_GRAPH)
    for triple in asserted:
        asserted_graph.add(triple)
    inferred_graph = dataset.graph(INFERRED_GRAPH)
    for triple in inferred:
        inferred_graph.add(triple)
    return dataset
