"""mgkg: a cited causal knowledge graph that explains why magnesium deficiency produces its findings."""

from kg.causal.justify import Chain, Justification, JustifiedLink, justify
from kg.causal.network import CausalNetwork, build_network
from kg.causal.search import PathSearch, SignedPath, find_paths, search_paths
from kg.causal.why import explain
from kg.errors import MgkgError, NotEntailedError, SourceSyntaxError, UnknownNodeError
from kg.graph.asserted import AssertedGraph, build_dataset, load_asserted
from kg.graph.knowledge import KnowledgeGraph, load_knowledge_graph
from kg.graph.reasoning import CacheInfo, load_or_materialize, materialize
from kg.graph.stats import Stats, compute_stats
from kg.graph.validate import ValidationReport, Violation, validate
from kg.model.types import (
    CausalPath,
    Citation,
    Context,
    Corroboration,
    Explanation,
    ExplanationStatus,
    LinkRef,
    MechanismGroup,
    NodeRef,
    Ref,
    Step,
    Xref,
)
from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH, MGKG, MGKGID, VERSION

__all__ = [
    "ASSERTED_GRAPH",
    "INFERRED_GRAPH",
    "MGKG",
    "MGKGID",
    "VERSION",
    "AssertedGraph",
    "CacheInfo",
    "CausalNetwork",
    "CausalPath",
    "Chain",
    "Citation",
    "Context",
    "Corroboration",
    "Explanation",
    "ExplanationStatus",
    "Justification",
    "JustifiedLink",
    "KnowledgeGraph",
    "LinkRef",
    "MechanismGroup",
    "MgkgError",
    "NodeRef",
    "NotEntailedError",
    "PathSearch",
    "Ref",
    "SignedPath",
    "SourceSyntaxError",
    "Stats",
    "Step",
    "UnknownNodeError",
    "ValidationReport",
    "Violation",
    "Xref",
    "build_dataset",
    "build_network",
    "compute_stats",
    "explain",
    "find_paths",
    "justify",
    "load_asserted",
    "load_knowledge_graph",
    "load_or_materialize",
    "materialize",
    "search_paths",
    "validate",
]
