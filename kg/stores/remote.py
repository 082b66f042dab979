"""The sparql store: a remote SPARQL 1.1 endpoint; mgkg pulls the causal view and keeps no copy.

Queries go through kg.stores.remote_engine.RemoteEngine. `mgkg load` writes over the Graph Store Protocol
or SPARQL Update, after every file has been parsed once, so that nothing is sent if one is broken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pyoxigraph as ox

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
from kg.stores.load import ntriples_chunks, regraphed, validate_file
from kg.stores.view import COUNT_QUERY, DERIVED_VIEW_QUERY, causal_view_query, knowledge_graph_from_triples

if TYPE_CHECKING:
    from kg.graph.knowledge import KnowledgeGraph

logger = logging.getLogger(__name__)


def construct(endpoint: str, query: str, timeout_s: float = 60.0) -> bytes:
    """Run a CONSTRUCT on the endpoint (form POST: the view query is long) and return N-Triples."""
    response = httpx.post(
        endpoint,
        data={"query": query},
        headers={"Accept": "application/n-triples"},
        timeout=timeout_s,
        trust_env=False,
    )
    response.raise_for_status()
    return response.content


def read_remote(spec: StoreSpec, timeout_s: float = 60.0) -> tuple[KnowledgeGraph, StoreInfo]:
    """Count the remote store's graphs and pull the causal view; the store itself stays remote."""
    started = time.perf_counter()
    response = httpx.post(
        spec.location,
        data={"query": COUNT_QUERY},
        headers={"Accept": "application/sparql-results+json"},
        timeout=timeout_s,
        trust_env=False,
    )
    response.raise_for_status()
    counts = {row["g"]["value"]: int(row["n"]["value"]) for row in response.json()["results"]["bindings"]}
    info = StoreInfo(spec, counts)
    logger.debug("sparql store %s: triples per named graph %s", spec, counts)
    if info.asserted_triples == 0:
        raise FileNotFoundError(
            f"The SPARQL store at {spec.location} has no mgkg graphs. Write them with: mgkg load --store "
            f"{spec} --gsp-url URL (or --update-url URL)"
        )
    view = construct(spec.location, causal_view_query(info.graphs), timeout_s)
    derived = construct(spec.location, DERIVED_VIEW_QUERY, timeout_s)
    graph = knowledge_graph_from_triples(
        spec, view, derived, time.perf_counter() - started, info.inferred_triples
    )
    return graph, info


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
        how = f"Graph Store Protocol at {self.gsp_url}" if self.gsp_url else f"Update at {self.update_url}"
        logger.debug("%s <%s> through %s", "replacing" if replace else "adding to", graph, how)
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
    progress: ProgressFor = no_progress,
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
        writer.write(graph, ntriples_chunks(regraphed(path, target, progress(path))), replace=False)
    return LoadReport(str(spec), graph, tuple((str(p), n) for p, n in counts), mgkg)


@dataclass(frozen=True)
class RemoteStore:
    """``sparql:URL``: the causal view comes from the remote store and SPARQL queries go there."""

    kind: StoreKind = "sparql"
    syntax: str = "sparql:URL (a SPARQL 1.1 query endpoint, e.g. sparql:http://127.0.0.1:7878/query)"

    def parse_location(self, location: str) -> str:
        """An http(s) URL."""
        if not location.startswith(("http://", "https://")):
            raise ValueError("a sparql store needs an http:// or https:// URL")
        return location

    async def open(self, spec: StoreSpec, options: OpenOptions) -> OpenedStore:
        """Count the remote graphs and pull the causal view in a thread; queries go to the endpoint."""
        from kg.stores.remote_engine import RemoteEngine  # deferred: it imports the SPARQL package

        graph, info = await asyncio.to_thread(read_remote, spec, max(options.timeout_s * 6, 60.0))
        logging.getLogger("mgkg.sparql").warning(
            "SPARQL queries run on the remote store %s, outside any egress sandbox of mgkg's: the guard is "
            "the only thing that keeps them from making network requests (SERVICE) there.",
            spec.location,
        )
        engine = RemoteEngine(
            spec.location,
            named_graphs=info.graphs,
            workers=max(options.workers, 8),
            timeout_s=options.timeout_s,
            max_rows=options.max_rows,
            cache_bytes=options.cache_bytes,
            per_client=options.per_client,
        )
        return OpenedStore(graph, info, engine)

    def loader(self, spec: StoreSpec, options: WriteOptions) -> Loader:
        """Writes through ``options.gsp_url`` or ``options.update_url``; LoadError when neither is given."""
        writer = RemoteWriter(options.gsp_url, options.update_url, options.timeout_s)

        def load(
            files: Sequence[Path],
            graph: str,
            knowledge_graph: KnowledgeGraph | None,
            progress: ProgressFor = no_progress,
        ) -> LoadReport:
            return load_remote(spec, files, graph, knowledge_graph, writer, progress)

        return load


STORE: RemoteStore = RemoteStore()
"""The sparql kind, as the registry lists it."""
