"""The KnowledgeGraph facade: asserted and inferred graphs and their Dataset, built once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rdflib import Dataset, Graph

from kg.graph.asserted import AssertedGraph, build_dataset, load_asserted
from kg.graph.reasoning import CacheInfo, load_or_materialize


class KnowledgeGraph:
    """Everything a request needs, built once at start-up and then only read.

    ``asserted`` holds the curated triples, ``inferred`` only what OWL 2 RL adds, ``dataset`` both as
    named graphs (its default graph is their union, for SPARQL), ``cache`` how the inferred graph was
    obtained. The causal layer builds on it: ``kg.causal.network.network_of(knowledge)`` is the
    networkx view of the asserted causal links (built once), ``kg.causal.justify.justify(knowledge,
    ...)`` justifies an inferred triple.
    """

    def __init__(self, asserted: AssertedGraph, inferred: Graph, cache: CacheInfo) -> None:
        self.asserted = asserted
        self.inferred = inferred
        self.cache = cache
        self.dataset: Dataset = build_dataset(asserted.graph, inferred)

    def __repr__(self) -> str:
        return (
            f"KnowledgeGraph(asserted={len(self.asserted.graph)} triples, inferred={len(self.inferred)} "
            f"triples, cache={'hit' if self.cache.hit else 'miss'})"
        )


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
