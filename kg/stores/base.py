"""The Store protocol every store kind implements, and the values it takes and returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

from kg.errors import MgkgError
from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH
from kg.sparql.options import EngineOptions

if TYPE_CHECKING:
    from kg.graph.files import Progress
    from kg.graph.knowledge import KnowledgeGraph
    from kg.sparql import QueryEngine

StoreKind = str
"""The name of a registered store kind, the part of a store setting before its colon: ``memory``,
``oxigraph``, ``sparql`` (kg.stores.registry lists them)."""

EXTERNAL_GRAPH: Final = "https://w3id.org/mgkg/graph/external"
"""The named graph `mgkg load` puts external RDF in unless told otherwise."""

MGKG_GRAPHS: Final = (str(ASSERTED_GRAPH), str(INFERRED_GRAPH))
"""mgkg's own named graphs: the asserted triples and what inference added."""


@dataclass(frozen=True)
class StoreSpec:
    """Which store: the name of its kind and its location (a folder for oxigraph, an endpoint URL for sparql).

    Read a setting with :func:`kg.stores.registry.parse_store_setting`, which checks the kind is known.

    >>> str(StoreSpec("oxigraph", "/var/lib/mgkg")), str(StoreSpec("memory"))
    ('oxigraph:/var/lib/mgkg', 'memory')
    """

    kind: StoreKind
    location: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.location}" if self.location else self.kind


@dataclass(frozen=True)
class StoreInfo:
    """What a store holds, counted once at start-up: triples per named graph."""

    spec: StoreSpec
    graph_triples: dict[str, int]

    @property
    def asserted_triples(self) -> int:
        """Triples in the asserted mgkg graph."""
        return self.graph_triples.get(str(ASSERTED_GRAPH), 0)

    @property
    def inferred_triples(self) -> int:
        """Triples in the inferred mgkg graph."""
        return self.graph_triples.get(str(INFERRED_GRAPH), 0)

    @property
    def graphs(self) -> frozenset[str]:
        """The named graphs a query may name: the store's own, and always the two mgkg graphs."""
        return frozenset(self.graph_triples) | frozenset(MGKG_GRAPHS)


@dataclass(frozen=True)
class OpenOptions:
    """How to open a store for serving: its SPARQL engine's options and the memory store's inference.

    ``engine`` goes whole to the engine the store starts (kg.sparql.options.EngineOptions documents it).
    ``cache_dir`` (None: kg.graph.reasoning.default_cache_dir()) and ``reasoner`` ("owlrl" or "fast") are
    the memory store's; the other stores hold what `mgkg load` inferred. The caller chooses (the service
    builds one from its Settings, ``Settings.open_options()``); nothing here reads the environment.

    >>> OpenOptions().engine.workers, OpenOptions(EngineOptions(workers=4)).reasoner
    (2, 'owlrl')
    """

    engine: EngineOptions = field(default_factory=EngineOptions)
    cache_dir: Path | None = None
    reasoner: str = "owlrl"


class OpenedStore(NamedTuple):
    """A store opened for reading: the knowledge graph /why reads, what the store holds, a started engine."""

    knowledge: KnowledgeGraph
    info: StoreInfo
    engine: QueryEngine


@dataclass(frozen=True)
class WriteOptions:
    """Where `mgkg load` writes a remote store: its Graph Store Protocol URL or its SPARQL Update URL."""

    gsp_url: str | None = None
    update_url: str | None = None
    timeout_s: float = 600.0


@dataclass(frozen=True)
class LoadReport:
    """What one `mgkg load` wrote: triples per file and the graph they went to."""

    store: str
    graph: str
    files: tuple[tuple[str, int], ...]
    mgkg_triples: int


class LoadError(MgkgError):
    """A file could not be loaded, or the store cannot be written; the store was left as it was."""


ProgressFor = Callable[[Path], "Progress | None"]
"""Gives the progress callback for one file (or None): how `mgkg load` draws its bars."""


def no_progress(_: Path) -> Progress | None:
    """No progress reporting."""
    return None


class Loader(Protocol):
    """Writes the mgkg graphs (when given) and then each file into one store (``Store.loader`` makes it)."""

    def __call__(
        self,
        files: Sequence[Path],
        graph: str,
        knowledge_graph: KnowledgeGraph | None,
        progress: ProgressFor = no_progress,
    ) -> LoadReport:
        """Load, all or nothing per file; raise LoadError (a BrokenFileError names file, line, column)."""
        ...


class Store(Protocol):
    """One kind of store, as the registry holds it: how its setting reads, opens and is written.

    A kind module (kg.stores.memory, .oxigraph, .remote) defines one object of this shape; the
    registry (kg.stores.registry) lists them, and nothing else branches on a kind's name.
    """

    @property
    def kind(self) -> StoreKind:
        """The setting's prefix: ``memory``, ``oxigraph``, ``sparql``."""
        ...

    @property
    def syntax(self) -> str:
        """How the setting is written, for messages: ``oxigraph:PATH (a folder)``."""
        ...

    def parse_location(self, location: str) -> str:
        """Check the part after the colon ("" when there is none); ValueError when it does not fit."""
        ...

    async def open(self, spec: StoreSpec, options: OpenOptions) -> OpenedStore:
        """Open the store for reading; blocking work runs in threads."""
        ...

    def loader(self, spec: StoreSpec, options: WriteOptions) -> Loader:
        """What `mgkg load` writes with; LoadError now (before any reasoning) when it cannot be written."""
        ...
