"""mgkg: a cited causal knowledge graph that explains why magnesium deficiency produces its findings."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

    __version__: str

# The public API: each name and the module that defines it. `import kg` imports none of them (PEP 562);
# the first use of a name imports its module, so a process that needs only kg.errors or the SPARQL worker
# does not pay for rdflib, networkx and pyoxigraph. To move a name, change its module here and in the
# TYPE_CHECKING block above (tests/unit/test_architecture.py checks that the two agree).
_EXPORTS: dict[str, str] = {
    "ASSERTED_GRAPH": "kg.model.vocab",
    "INFERRED_GRAPH": "kg.model.vocab",
    "MGKG": "kg.model.vocab",
    "MGKGID": "kg.model.vocab",
    "VERSION": "kg.model.vocab",
    "AssertedGraph": "kg.graph.asserted",
    "CacheInfo": "kg.graph.reasoning",
    "CausalNetwork": "kg.causal.network",
    "CausalPath": "kg.model.types",
    "Chain": "kg.causal.justify",
    "Citation": "kg.model.types",
    "Context": "kg.model.types",
    "Corroboration": "kg.model.types",
    "Explanation": "kg.model.types",
    "ExplanationStatus": "kg.model.types",
    "Justification": "kg.causal.justify",
    "JustifiedLink": "kg.causal.justify",
    "KnowledgeGraph": "kg.graph.knowledge",
    "LinkRef": "kg.model.types",
    "MechanismGroup": "kg.model.types",
    "MgkgError": "kg.errors",
    "NodeRef": "kg.model.types",
    "NotEntailedError": "kg.errors",
    "PathSearch": "kg.causal.search",
    "Ref": "kg.model.types",
    "SignedPath": "kg.causal.search",
    "SourceSyntaxError": "kg.errors",
    "Stats": "kg.graph.stats",
    "Step": "kg.model.types",
    "UnknownNodeError": "kg.errors",
    "ValidationReport": "kg.graph.validate",
    "Violation": "kg.graph.validate",
    "Xref": "kg.model.types",
    "build_dataset": "kg.graph.asserted",
    "build_network": "kg.causal.network",
    "compute_stats": "kg.graph.stats",
    "explain": "kg.causal.why",
    "find_paths": "kg.causal.search",
    "justify": "kg.causal.justify",
    "load_asserted": "kg.graph.asserted",
    "load_knowledge_graph": "kg.graph.knowledge",
    "load_or_materialize": "kg.graph.reasoning",
    "materialize": "kg.graph.reasoning",
    "search_paths": "kg.causal.search",
    "validate": "kg.graph.validate",
}

# Written out (not computed from the table) so that mypy and ruff read it; a test checks the two agree.
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
    "__version__",
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


def __getattr__(name: str) -> Any:
    """Import the module that defines a public name on its first use, and keep the value (PEP 562)."""
    if name == "__version__":
        from importlib.metadata import version  # imported here: it costs more than the rest of kg/__init__

        value = version("mgkg")  # the version is written once, in pyproject.toml
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    else:
        raise AttributeError(f"module 'kg' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names as well as the module's own, so that completion sees what `__getattr__` serves."""
    return sorted({*globals(), *__all__})
