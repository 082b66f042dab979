"""The KnowledgeGraph facade: asserted and inferred graphs, their Dataset, the causal network, built once."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Dataset, Graph

from kg.causal.justify import Justification, justify
from kg.graph.asserted import AssertedGraph, build_dataset, load_asserted
from kg.graph.reasoning import CacheInfo, load_or_materialize

if TYPE_CHECKING:
    from kg.causal.network import CausalNetwork


class KnowledgeGraph:
    """Everything a request needs, built once at start-up and then only read.

    ``asserted`` holds the curated triples, ``inferred`` only what OWL 2 RL adds, ``dataset`` both as
    named graphs (its default graph is their union, for SPARQL), ``cache`` how the inferred graph was
    obtained. ``network`` (the networkx view of the asserted causal links) is built on first use and
    then kept; a lock makes concurrent first uses build it once.
    """

    def __init__(self, asserted: AssertedGraph, inferred: Graph, cache: CacheInfo) -> None:
        self.asserted = asserted
        self.inferred = inferred
        self.cache = cache
        self.dataset: Dataset = build_dataset(asserted.graph, inferred)
        self._network: CausalNetwork | None = None
        self._network_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"KnowledgeGraph(asserted={len(self.asserted.graph)} triples, inferred={len(self.inferred)} "
            f"triples, cache={'hit' if self.cache.hit else 'miss'})"
        )

    @property
    def network(self) -> CausalNetwork:
        """The causal network over the asserted links (build_network), built once on first use."""
        if self._network is None:
            with self._network_lock:
                if self._network is None:
                    from kg.causal.network import build_network  # deferred: networkx is only needed here

                    self._network = build_network(self.asserted.graph)
        return self._network

    def justify(self, subject: str, predicate: str, obj: str, max_chains: int = 5) -> Justification:
        """Justify an entailed causal triple by the asserted links it rests on (kg.causal.justify)."""
        return justify(self, subject, predicate, obj, max_chains=max_chains)


def load_knowledge_graph(
    paths: Sequence[Path] | None = None, cache_dir: Path | None = None, engine: str | None = None
) -> KnowledgeGraph:
    """Parse the sources (by default the shipped ones), then infer or read the cached inference.

    ``cache_dir`` defaults to the user cache folder (kg.graph.reasoning.default_cache_dir) and ``engine``
    ("owlrl" or "fast") to owlrl; the caller passes what its settings say (MGKG_CACHE_DIR, MGKG_REASONER).
    """
    asserted = load_asserted(paths)
    inferred, cache = load_or_materialize(asserted, cache_dir, engine)
    return KnowledgeGraph(asserted, inferred, cache)
