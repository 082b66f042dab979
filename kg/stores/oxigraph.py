"""The oxigraph store: an on-disk Oxigraph store written by `mgkg load`, reopened without reasoning."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pyoxigraph as ox

from kg.errors import SourceSyntaxError
from kg.graph.files import Progress, open_rdf, rdf_format, syntax_error
from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH
from kg.stores.base import (
    Loader,
    LoadError,
    LoadReport,
    OpenedStore,
    OpenOptions,
    ProgressFor,
    StoreInfo,
    StoreKind,
    StoreSpec,
    WriteOptions,
    no_progress,
)
from kg.stores.load import BrokenFileError, file_error, regraphed
from kg.stores.view import read_view

if TYPE_CHECKING:
    from kg.graph.knowledge import KnowledgeGraph

logger = logging.getLogger(__name__)

_QUAD_FORMATS: Final = (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)


def open_oxigraph(path: str | Path, *, read_only: bool) -> ox.Store:
    """Open an on-disk Oxigraph store; a missing one (read-only) says how to create it."""
    folder = Path(path)
    if read_only and not folder.is_dir():
        raise FileNotFoundError(
            f"No Oxigraph store at {folder}. Create it with: mgkg load --store oxigraph:{folder}"
        )
    return ox.Store.read_only(str(folder)) if read_only else ox.Store(str(folder))


def read_oxigraph(spec: StoreSpec) -> tuple[KnowledgeGraph, StoreInfo]:
    """Open an on-disk store read-only and read it through the causal view (kg.stores.view.read_view)."""
    store = open_oxigraph(spec.location, read_only=True)  # the workers open their own read-only handles

    def count(query: str) -> list[tuple[str, int]]:
        solutions = store.query(query)
        assert isinstance(solutions, ox.QuerySolutions)
        return [(str(row["g"].value), int(row["n"].value)) for row in solutions]

    def construct(query: str) -> bytes:
        triples = store.query(query)
        assert isinstance(triples, ox.QueryTriples)
        return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""

    return read_view(spec, count, construct, "Oxigraph")


def write_mgkg_graphs(store: ox.Store, graph: KnowledgeGraph) -> int:
    """Replace the asserted and inferred mgkg graphs of an Oxigraph store; return the triples written."""
    written = 0
    for iri, triples in ((ASSERTED_GRAPH, graph.asserted.graph), (INFERRED_GRAPH, graph.inferred)):
        target = ox.NamedNode(str(iri))
        if store.contains_named_graph(target):
            store.remove_graph(target)
        data = triples.serialize(format="nt", encoding="utf-8")
        store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=target)
        written += len(triples)
    return written


def _graph_size(store: ox.Store, graph: ox.NamedNode) -> int:
    return sum(1 for _ in store.quads_for_pattern(None, None, None, graph))


def load_into_oxigraph(store: ox.Store, path: Path, graph: str, progress: Progress | None = None) -> int:
    """Stream one file into ``graph`` of an Oxigraph store, all or nothing; return the triples added."""
    target = ox.NamedNode(graph)
    before = _graph_size(store, target)
    staging = target if before == 0 else ox.NamedNode(f"{graph}#staging-{uuid.uuid4().hex}")
    logger.debug(
        "loading %s into <%s>%s",
        path,
        graph,
        f" through staging graph <{staging.value}> (it holds {before} triples)" if staging != target else "",
    )
    broken: BrokenFileError | None = None
    try:
        fmt = rdf_format(path)
        if fmt in _QUAD_FORMATS:
            store.bulk_extend(regraphed(path, staging, progress))
        else:
            with open_rdf(path, progress) as stream:
                store.bulk_load(stream, format=fmt, to_graph=staging)
    except SyntaxError as error:
        broken = file_error(syntax_error(path, error))
    except SourceSyntaxError as error:
        broken = file_error(error)
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
    progress: ProgressFor = no_progress,
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


@dataclass(frozen=True)
class OxigraphStore:
    """``oxigraph:PATH``: written once by `mgkg load`; served with the causal view pulled from it and SPARQL
    workers that open it read-only."""

    kind: StoreKind = "oxigraph"
    syntax: str = "oxigraph:PATH (a folder)"

    def parse_location(self, location: str) -> str:
        """Any non-empty path: the folder need not exist until `mgkg load` writes it."""
        if not location:
            raise ValueError("an oxigraph store needs a folder")
        return location

    async def open(self, spec: StoreSpec, options: OpenOptions) -> OpenedStore:
        """Pull the causal view in a thread (no parse, no reasoning) and start read-only SPARQL workers."""
        from kg.sparql import SparqlEngine

        graph, info = await asyncio.to_thread(read_oxigraph, spec)
        logger.debug("oxigraph store %s: %d named graphs, workers open it read-only", spec, len(info.graphs))
        engine = SparqlEngine(Path(spec.location), options.engine, kind="oxigraph", named_graphs=info.graphs)
        await engine.start()
        return OpenedStore(graph, info, engine)

    def loader(self, spec: StoreSpec, options: WriteOptions) -> Loader:
        """Writes the folder in place (its one writer at a time); the write URLs are not used."""
        return partial(load_oxigraph, spec)


STORE: OxigraphStore = OxigraphStore()
"""The oxigraph kind, as the registry lists it."""
