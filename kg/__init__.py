"""mgkg: a cited causal knowledge graph that explains why magnesium deficiency produces its findings."""

from kg.errors import MgkgError, SourceSyntaxError, UnknownNodeError
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
    "MgkgError",
    "SourceSyntaxError",
    "Stats",
    "UnknownNodeError",
    "ValidationReport",
    "Violation",
    "build_dataset",
    "compute_stats",
    "load_asserted",
    "validate",
]
