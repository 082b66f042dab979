"""`mgkg load`: write the mgkg graphs and external RDF files into an on-disk or remote store.

Files are streamed (pyoxigraph reads from a file object; ``.gz`` is decompressed on the fly), never
read whole into memory. A broken file stops the load with its file, line and column and leaves the
store as it was: into an Oxigraph store a file is bulk-loaded into an empty target graph (or a fresh
staging graph when the target already holds triples) which is dropped on failure and otherwise merged
in one update; towards a remote store every file is parsed once before anything is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
import pyoxigraph as ox

from kg.errors import MgkgError, SourceSyntaxError
from kg.graph.files import Progress, open_rdf, parse_quads, rdf_format, syntax_error
from kg.graph.knowledge import KnowledgeGraph
from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH
from kg.stores.backends import StoreSpec, open_oxigraph, write_mgkg_graphs

_QUAD_FORMATS: Final = (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)
_BATCH: Final = 20_000


class LoadError(MgkgError):
    """A file could not be loaded; the store was left as it was."""


class BrokenFileError(LoadError):
    """A file does not parse: ``path``, ``line`` and ``column`` say where."""

    def __init__(self, path: Path, line: int | None, column: int | None, message: str) -> None:
        self.path, self.line, self.column = path, line, column
        where = str(path) if line is None else f"{path}:{line}" + ("" if column is None else f":{column}")
        super().__init__(f"{where}: {message}. Nothing from this file was written; fix it and load again.")


def _broken(error: SourceSyntaxError) -> BrokenFileError:
    return BrokenFileError(error.path, error.line, error.column, error.detail)


def _regraphed(path: Path, graph: ox.NamedNode, progress: Progress | None) -> Iterator[ox.Quad]:
    """Every statement of a file as a quad in ``graph`` (quad formats lose their own graph names)."""
    for quad in parse_quads(path, progress):
        yield ox.Quad(quad.subject, quad.predicate, quad.object, graph)


@dataclass(frozen=True)
class LoadReport:
    """What one `mgkg load` wrote: triples per file and the graph they went to."""

    store: str
    graph: str
    files: tuple[tuple[str, int], ...]
    mgkg_triples: int


def _graph_size(store: ox.Store, graph: ox.NamedNode) -> int:
    return sum(1 for _ in store.quads_for_pattern(None, None, None, graph))


def load_into_oxigraph(store: ox.Store, path: Path, graph: str, progress: Progress | None = None) -> int:
    """Stream one file into ``graph`` of an Oxigraph store, all or nothing; return the triples added."""
    target = ox.NamedNode(graph)
    before = _graph_size(store, target)
    staging = target if before == 0 else ox.NamedNode(f"{graph}#staging-{uuid.uuid4().hex}")
    broken: BrokenFileError | None = None
    try:
        fmt = rdf_format(path)
        if fmt in _QUAD_FORMATS:
            store.bulk_extend(_regraphed(path, staging, progress))
        else:
            with open_rdf(path, progress) as stream:
                store.bulk_load(stream, format=fmt, to_graph=staging)
    except SyntaxError as error:
        broken = _broken(syntax_error(path, error))
    except SourceSyntaxError as error:
        broken = _broken(error)
    except BaseException:
        store.remove_graph(staging)  # whatever stopped the load (even Ctrl-C), keep the store as it was
        raise
    if broken is not None:  # raised outside the except block: no context chain keeps this frame alive
        store.remove_graph(staging)  # an empty target or a fresh staging graph: dropping it restores
        raise broken
    if staging != target:
        store.update(f"ADD <{staging.value}> TO <{graph}> ; DROP SILENT GRAPH <{staging.value}>")
    return _graph_size(store, target) - before


def load_oxigraph(
    spec: StoreSpec,
    files: Sequence[Path],
    graph: str,
    knowledge_graph: KnowledgeGraph | None,
    progress: Callable[[Path], Progress | None] = lambda _: None,
) -> LoadReport:
    """Write the mgkg graphs (when given) and then each file into an on-disk Oxigraph store."""
    try:
        store = open_oxigraph(spec.location, read_only=False)
    except OSError as error:
        raise LoadError(
            f"Cannot open {spec.location} for writing ({error}). Stop any mgkg serve or oxigraph server "
            "using it first: an Oxigraph store has one writer at a time."
        ) from error
    failure: LoadError | None = None
    counts: list[tuple[str, int]] = []
    try:
        mgkg = write_mgkg_graphs(store, knowledge_graph) if knowledge_graph is not None else 0
        for path in files:
            counts.append((str(path), load_into_oxigraph(store, path, graph, progress(path))))
    except LoadError as error:
        failure = error
    store.flush()
    del store  # release the writer's lock now: the failure's traceback must not keep the store open
    if failure is not None:
        raise failure.with_traceback(None)
    return LoadReport(str(spec), graph, tuple(counts), mgkg)


# --- remote stores ----------------------------------------------------------------------------------


def validate_file(path: Path) -> int:
    """Parse a file once without writing anything; return its triple count or raise BrokenFileError."""
    count = 0
    try:
        for _ in parse_quads(path):
            count += 1
    except SourceSyntaxError as error:
        raise _broken(error) from None
    return count


def _ntriples_chunks(quads: Iterator[ox.Quad] | Iterator[ox.Triple]) -> Iterator[bytes]:
    """N-Triples in chunks of about _BATCH statements (graph names dropped)."""
    batch: list[ox.Triple] = []
    for quad in quads:
        batch.append(ox.Triple(quad.subject, quad.predicate, quad.object))
        if len(batch) >= _BATCH:
            yield ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES) or b""
            batch = []
    if batch:
        yield ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES) or b""


@dataclass(frozen=True)
class RemoteWriter:
    """Writes to a remote store through its Graph Store Protocol URL or its SPARQL Update URL."""

    gsp_url: str | None = None
    update_url: str | None = None
    timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if not (self.gsp_url or self.update_url):
            raise LoadError(
                "A remote store needs a write URL: --gsp-url (Graph Store Protocol, e.g. "
                "http://127.0.0.1:7878/store) or --update-url (SPARQL Update, e.g. .../update)."
            )

    def write(self, graph: str, chunks: Iterator[bytes], replace: bool) -> None:
        """Send N-Triples chunks into ``graph``: replace it (PUT / DROP first) or add to it (POST)."""
        with httpx.Client(timeout=self.timeout_s, trust_env=False) as client:
            if self.gsp_url:
                response = client.request(
                    "PUT" if replace else "POST",
                    self.gsp_url,
                    params={"graph": graph},
                    content=chunks,
                    headers={"Content-Type": "application/n-triples"},
                )
                response.raise_for_status()
                return
            assert self.update_url is not None
            if replace:
                self._update(client, f"DROP SILENT GRAPH <{graph}>")
            for chunk in chunks:
                self._update(client, f"INSERT DATA {{ GRAPH <{graph}> {{\n{chunk.decode()}\n}} }}")

    def _update(self, client: httpx.Client, update: str) -> None:
        assert self.update_url is not None
        client.post(self.update_url, data={"update": update}).raise_for_status()


def load_remote(
    spec: StoreSpec,
    files: Sequence[Path],
    graph: str,
    knowledge_graph: KnowledgeGraph | None,
    writer: RemoteWriter,
    progress: Callable[[Path], Progress | None] = lambda _: None,
) -> LoadReport:
    """Validate every file first (nothing is sent if one is broken), then write the mgkg graphs and files."""
    counts = [(path, validate_file(path)) for path in files]
    mgkg = 0
    if knowledge_graph is not None:
        for iri, triples in (
            (ASSERTED_GRAPH, knowledge_graph.asserted.graph),
            (INFERRED_GRAPH, knowledge_graph.inferred),
        ):
            writer.write(str(iri), iter([triples.serialize(format="nt", encoding="utf-8")]), replace=True)
            mgkg += len(triples)
    target = ox.NamedNode(graph)
    for path, _ in counts:
        writer.write(graph, _ntriples_chunks(_regraphed(path, target, progress(path))), replace=False)
    return LoadReport(str(spec), graph, tuple((str(p), n) for p, n in counts), mgkg)
