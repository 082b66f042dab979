"""The SPARQL layer's public surface: a read-only, bounded engine behind the guard (lazy re-exports).

The guard (kg.sparql.guard; its text normalisation in kg.sparql.text, its fast screen in
kg.sparql.screen, rdflib's verdict in kg.sparql.verdict, its bounded parser processes in
kg.sparql.parsers, the SPARQL errors in kg.sparql.errors) normalises, then screens or parses every
query and refuses what writes or reaches outside, in one check: :func:`check_query` in this process,
:func:`guard_query` with the parse in a killable parser process; the SPARQL workers cannot open
network sockets anyway (kg.sparql.sandbox).
The result formats live in kg.sparql.results; an engine's limits (EngineOptions) in kg.sparql.options;
what every engine shares (the answer type, the QueryEngine protocol, how one query runs, the dataset
rule, the answer cache, :func:`answer_query`: guard, format, run) in kg.sparql.answers; the local
engine, a pool of killable pyoxigraph worker processes, in kg.sparql.pool (its private wire format in
_wire.py, the worker script in _worker.py). Names are imported on first use (PEP 562), so
``import kg.sparql`` loads neither rdflib nor pyoxigraph.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from kg.sparql.answers import (
        AnswerCache,
        QueryEngine,
        RunOptions,
        SparqlResult,
        answer_query,
        dataset_of,
        run_checked,
    )
    from kg.sparql.errors import (
        DatasetIriError,
        EngineBusyError,
        EngineFailureError,
        QueryMemoryError,
        QueryRefusedError,
        QueryTimeoutError,
        QueryUnreadableError,
        SparqlError,
        SparqlSyntaxError,
    )
    from kg.sparql.guard import DATASET_GRAPHS, check_query
    from kg.sparql.options import EngineOptions
    from kg.sparql.parsers import guard_query
    from kg.sparql.pool import SparqlEngine, write_nquads
    from kg.sparql.results import GRAPH_FORMATS, RESULTS_FORMATS, formats_for
    from kg.sparql.scheduler import ClientLimitError, QueryPreemptedError
    from kg.sparql.screen import CheckedQuery, QueryForm

_SOURCES: Final[dict[str, tuple[str, ...]]] = {
    "kg.sparql.answers": (
        "AnswerCache",
        "QueryEngine",
        "RunOptions",
        "SparqlResult",
        "answer_query",
        "dataset_of",
        "run_checked",
    ),
    "kg.sparql.errors": (
        "DatasetIriError",
        "EngineBusyError",
        "EngineFailureError",
        "QueryMemoryError",
        "QueryRefusedError",
        "QueryTimeoutError",
        "QueryUnreadableError",
        "SparqlError",
        "SparqlSyntaxError",
    ),
    "kg.sparql.guard": ("DATASET_GRAPHS", "check_query"),
    "kg.sparql.options": ("EngineOptions",),
    "kg.sparql.parsers": ("guard_query",),
    "kg.sparql.pool": ("SparqlEngine", "write_nquads"),
    "kg.sparql.results": ("GRAPH_FORMATS", "RESULTS_FORMATS", "formats_for"),
    "kg.sparql.scheduler": ("ClientLimitError", "QueryPreemptedError"),
    "kg.sparql.screen": ("CheckedQuery", "QueryForm"),
}
_MODULE_OF: Final = {name: module for module, names in _SOURCES.items() for name in names}

__all__ = [
    "DATASET_GRAPHS",
    "GRAPH_FORMATS",
    "RESULTS_FORMATS",
    "AnswerCache",
    "CheckedQuery",
    "ClientLimitError",
    "DatasetIriError",
    "EngineBusyError",
    "EngineFailureError",
    "EngineOptions",
    "QueryEngine",
    "QueryForm",
    "QueryMemoryError",
    "QueryPreemptedError",
    "QueryRefusedError",
    "QueryTimeoutError",
    "QueryUnreadableError",
    "RunOptions",
    "SparqlEngine",
    "SparqlError",
    "SparqlResult",
    "SparqlSyntaxError",
    "answer_query",
    "check_query",
    "dataset_of",
    "formats_for",
    "guard_query",
    "run_checked",
    "write_nquads",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use, and keep it here (PEP 562)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, as ``dir()`` should list them."""
    return sorted(__all__)
