"""The memory store: the shipped Turtle parsed and reasoned over (or read from the inference cache)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH
from kg.stores.base import (
    Loader,
    LoadError,
    OpenedStore,
    OpenOptions,
    StoreInfo,
    StoreKind,
    StoreSpec,
    WriteOptions,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemoryStore:
    """``memory`` (the default): rdflib load + inference + cache; SPARQL workers each load a dump.

    It lives inside each mgkg process and is rebuilt at every start, so `mgkg load` refuses it.
    """

    kind: StoreKind = "memory"
    syntax: str = "memory"

    def parse_location(self, location: str) -> str:
        """The memory store takes no location."""
        if location:
            raise ValueError("the memory store takes no location")
        return location

    async def open(self, spec: StoreSpec, options: OpenOptions) -> OpenedStore:
        """Parse and reason (or read the inference cache) in a thread, then start SPARQL workers on a dump."""
        from kg.graph.knowledge import load_knowledge_graph
        from kg.sparql import SparqlEngine

        graph = await asyncio.to_thread(load_knowledge_graph, None, options.cache_dir, options.reasoner)
        logger.debug(
            "memory store: %d asserted triples, inferred graph from %s (cache %s)",
            len(graph.asserted.graph),
            options.reasoner,
            graph.cache.state,
        )
        engine = await SparqlEngine.from_dataset(graph.dataset, options.engine)
        counts = {str(ASSERTED_GRAPH): len(graph.asserted.graph), str(INFERRED_GRAPH): len(graph.inferred)}
        return OpenedStore(graph, StoreInfo(spec, counts), engine)

    def loader(self, spec: StoreSpec, options: WriteOptions) -> Loader:
        """Refused: nothing loaded into the memory store would outlive the command."""
        raise LoadError(
            "The memory store lives inside each mgkg process and is rebuilt from the shipped Turtle "
            "at every start, so nothing loaded into it would outlive this command. Load into a "
            "store that persists: --store oxigraph:PATH (then mgkg serve --store oxigraph:PATH) or "
            "--store sparql:URL --gsp-url URL."
        )


STORE: MemoryStore = MemoryStore()
"""The memory kind, as the registry lists it."""
