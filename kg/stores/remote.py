"""The sparql store: a remote SPARQL 1.1 endpoint; mgkg pulls the causal view and keeps no copy.

Queries go through kg.stores.remote_engine.RemoteEngine. `mgkg load` writes over the Graph Store Protocol
or SPARQL Update, after every file has been parsed once, so that nothing is sent if one is broken.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final

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
from kg.stores.view import read_view

if TYPE_CHECKING:
    from kg.graph.knowledge import KnowledgeGraph

logger = logging.getLogger(__name__)


def ask_store(endpoint: str, query: str, accept: str, timeout_s: float = 60.0) -> bytes:
    """Run a query on the endpoint (form POST: the view query is long) and return the answer's bytes."""
    response = httpx.post(
        endpoint, data={"query": query}, headers={"Accept": accept}, timeout=timeout_s, trust_env=False
    )
    response.raise_for_status()
    return response.content


def construct(endpoint: str, query: str, timeout_s: float = 60.0) -> bytes:
    """Run a CONSTRUCT on the endpoint and return N-Triples."""
    return ask_store(endpoint, query, "application/n-triples", timeout_s)


def _select(endpoint: str, query: str, timeout_s: float) -> list[dict[str, dict[str, str]]]:
    answer = json.loads(ask_store(endpoint, query, "application/sparql-results+json", timeout_s))
    bindings: list[dict[str, dict[str, str]]] = answer["results"]["bindings"]
    return bindings


def read_remote(spec: StoreSpec, timeout_s: float = 60.0) -> tuple[KnowledgeGraph, StoreInfo]:
    """Read the remote store through the causal view (kg.stores.view.read_view); the store stays remote."""

    def count(query: str) -> list[tuple[str, int]]:
        return [
            (row["g"]["value"], int(row["n"]["value"])) for row in _select(spec.location, query, timeout_s)
        ]

    return read_view(
        spec,
        count,
        lambda query: construct(spec.location, query, timeout_s),
        "SPARQL",
        " --gsp-url URL (or --update-url URL)",
    )


GRAPH_COUNT_QUERY: Final = "SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
"""Counts the triples of one named graph (the IRI is checked by pyoxigraph before it is put in)."""


def count_graph(endpoint: str, graph: str, timeout_s: float = 60.0) -> int:
    """The triples the remote store holds in ``graph`` (0 for a graph it does not hold)."""
    bindings = _select(endpoint, GRAPH_COUNT_QUERY.format(graph=ox.NamedNode(graph).value), timeout_s)
    return int(bindings[0]["n"]["value"]) if bindings else 0


@dataclass(frozen=True)
class RemoteWriter:
    """Writes to a remote store through its Graph Store Protocol URL or its SPARQL Update URL.

    Every request carries one chunk as a sized body (``Content-Length``), never a chunked one: Debian's
    Virtuoso 7.2.5 answers 201 to a chunked Graph Store Protocol PUT and stores nothing.
    """

    gsp_url: str | None = None
    update_url: str | None = None
    timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if not (self.gsp_url or self.update_url):
            raise LoadError(
                "A remote store needs a write URL: --gsp-url (Graph Store Protocol, e.g. "
                "http://127.0.0.1:7878/store) or --update-url (SPARQL Update, e.g. .../update)."
            )

    def write(self, graph: str, chunks: Iterable[bytes], replace: bool) -> None:
        """Send N-Triples chunks into ``graph``, one request each: replace it (PUT the first chunk, or DROP
        first) or add to it (POST). An HTTP failure is a LoadError naming the store's answer."""
        how = f"Graph Store Protocol at {self.gsp_url}" if self.gsp_url else f"Update at {self.update_url}"
        logger.debug("%s <%s> through %s", "replacing" if replace else "adding to", graph, how)
        try:
            with httpx.Client(timeout=self.timeout_s, trust_env=False) as client:
                if self.gsp_url:
                    self._send_gsp(client, graph, chunks, replace)
                    return
                if replace:
                    self._update(client, f"DROP SILENT GRAPH <{graph}>")
                for chunk in chunks:
                    self._update(client, f"INSERT DATA {{ GRAPH <{graph}> {{\n{chunk.decode()}\n}} }}")
        except httpx.HTTPStatusError as error:
            answer = error.response.text[:300]
            raise LoadError(f"The store refused the write to <{graph}> ({how}): {error}: {answer}") from None
        except httpx.HTTPError as error:
            raise LoadError(f"Cannot write <{graph}> through the {how}: {error}") from None

    def _send_gsp(self, client: httpx.Client, graph: str, chunks: Iterable[bytes], replace: bool) -> None:
        assert self.gsp_url is not None
        method = "PUT" if replace else "POST"
        for chunk in chunks:
            self._gsp(client, method, graph, chunk)
            method = "POST"
        if method == "PUT":  # nothing to send: the graph is replaced by an empty one
            self._gsp(client, method, graph, b"")

    def _gsp(self, client: httpx.Client, method: str, graph: str, body: bytes) -> None:
        assert self.gsp_url is not None
        headers = {"Content-Type": "application/n-triples"}  # bytes: httpx sends a Content-Length
        params = {"graph": graph}
        response = client.request(method, self.gsp_url, params=params, content=body, headers=headers)
        response.raise_for_status()

    def _update(self, client: httpx.Client, update: str) -> None:
        assert self.update_url is not None
        client.post(self.update_url, data={"update": update}).raise_for_status()


def load_remote(
    spec: StoreSpec,
    files: Sequence[Path],
    graph: str,
    knowledge_graph: KnowledgeGraph | None,
    progress: ProgressFor = no_progress,
    *,
    writer: RemoteWriter,
) -> LoadReport:
    """Validate every file first (nothing is sent if one is broken), then write the mgkg graphs and files,
    and count what the store holds afterwards: a store that answered success but kept less is a LoadError.

    A replaced mgkg graph must hold exactly the triples sent. A file's graph is counted before and after
    (the report gives the triples it gained, as on Oxigraph); one that was empty must have gained some.
    """
    counts = [(path, validate_file(path)) for path in files]
    mgkg = 0
    if knowledge_graph is not None:
        for iri, triples in (
            (ASSERTED_GRAPH, knowledge_graph.asserted.graph),
            (INFERRED_GRAPH, knowledge_graph.inferred),
        ):
            writer.write(str(iri), [triples.serialize(format="nt", encoding="utf-8")], replace=True)
            _check_held(spec, str(iri), len(triples), _held(spec, str(iri), writer.timeout_s))
            mgkg += len(triples)
    target = ox.NamedNode(graph)
    added: list[tuple[str, int]] = []
    for path, statements in counts:
        before = _held(spec, graph, writer.timeout_s)
        writer.write(graph, ntriples_chunks(regraphed(path, target, progress(path))), replace=False)
        after = _held(spec, graph, writer.timeout_s)
        if before == 0 and statements:
            _check_held(spec, graph, 1, after, f"{statements} statements of {path} were sent")
        logger.debug("%s: %d statements sent, <%s> gained %d", path, statements, graph, after - before)
        added.append((str(path), after - before))
    return LoadReport(str(spec), graph, tuple(added), mgkg)


def _held(spec: StoreSpec, graph: str, timeout_s: float) -> int:
    try:
        return count_graph(spec.location, graph, timeout_s)
    except httpx.HTTPError as error:
        raise LoadError(f"Cannot count <{graph}> at {spec.location} to check the load: {error}") from None


def _check_held(spec: StoreSpec, graph: str, least: int, held: int, sent: str = "") -> None:
    if held < least:
        raise LoadError(
            f"The store at {spec.location} answered success but holds {held} triples in <{graph}> after "
            f"{sent or f'{least} were sent'}: it did not keep what was written. Check the write URL (for "
            "Virtuoso: the Graph Store Protocol at /sparql-graph-crud, or SPARQL Update after GRANT "
            'SPARQL_UPDATE TO "SPARQL") and the server\'s log.'
        )


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

        graph, info = await asyncio.to_thread(read_remote, spec, max(options.engine.timeout_s * 6, 60.0))
        logging.getLogger("mgkg.sparql").warning(
            "SPARQL queries run on the remote store %s, outside any egress sandbox of mgkg's: the guard is "
            "the only thing that keeps them from making network requests (SERVICE) there.",
            spec.location,
        )
        connections = max(options.engine.workers, 8)  # an HTTP connection is cheap; a worker process is not
        engine = RemoteEngine(spec.location, info.graphs, replace(options.engine, workers=connections))
        return OpenedStore(graph, info, engine)

    def loader(self, spec: StoreSpec, options: WriteOptions) -> Loader:
        """Writes through ``options.gsp_url`` or ``options.update_url``; LoadError when neither is given."""
        writer = RemoteWriter(options.gsp_url, options.update_url, options.timeout_s)
        return partial(load_remote, spec, writer=writer)


STORE: RemoteStore = RemoteStore()
"""The sparql kind, as the registry lists it."""
