"""mgkg: a cited causal knowledge graph that explains why magnesium deficiency produces its findings."""

from kg.errors import MgkgError, NotEntailedError, SourceSyntaxError, UnknownNodeError
from kg.graph import KnowledgeGraph, load_knowledge_graph
from kg.reasoning import (
    CacheInfo,
    Chain,
    Justification,
    JustifiedLink,
    justify,
    load_or_materialize,
    materialize,
)
from kg.stats import Stats, compute_stats
from kg.store import AssertedGraph, build_dataset, load_asserted
from kg.validate import ValidationReport, Violation, validate
from kg.vocab import ASSERTED_GRAPH, INFERRED_GRAPH, MGKG, MGKGID, VERSION

__all__ = [
    "ASSERTED_GRAPH",
    "INFERRED_GRAPH",
    "MGKG",
    "MGKGID",
    "VERSION",
    "AssertedGraph",
    "CacheInfo",
    "Chain",
    "Justification",
    "JustifiedLink",
    "KnowledgeGraph",
    "MgkgError",
    "NotEntailedError",
    "SourceSyntaxError",
    "Stats",
    "UnknownNodeError",
    "ValidationReport",
    "Violation",
    "build_dataset",
    "compute_stats",
    "justify",
    "load_asserted",
    "load_knowledge_graph",
    "load_or_materialize",
    "materialize",
    "validate",
]
