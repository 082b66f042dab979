"""The SPARQL layer's public surface: a read-only, bounded engine behind the guard.

The guard (kg.sparql_guard) screens or parses every query and refuses what writes or reaches outside;
the formats and Accept negotiation live in kg.sparql_formats; what every engine shares (the answer type,
the QueryEngine protocol, the dataset rule, the answer cache, run_checked) in kg.sparql_answers; the
local engine, a pool of killable pyoxigraph worker processes, in kg.sparql_pool. All of it is
re-exported here.
"""

from __future__ import annotations

from kg.sparql_answers import AnswerCache, QueryEngine, SparqlResult, dataset_of, run_checked
from kg.sparql_formats import GRAPH_FORMATS, RESULTS_FORMATS, formats_for, negotiate
from kg.sparql_guard import (
    DATASET_GRAPHS,
    CheckedQuery,
    EngineBusyError,
    EngineFailureError,
    QueryForm,
    QueryMemoryError,
    QueryRefusedError,
    QueryTimeoutError,
    SparqlError,
    SparqlSyntaxError,
    check_graphs,
    check_query,
    diagnose,
    is_checked,
    parse_query,
    screen_query,
)
from kg.sparql_pool import SparqlEngine, write_nquads
from kg.sparql_scheduler import ClientLimitError, QueryPreemptedError

__all__ = [
    "DATASET_GRAPHS",
    "GRAPH_FORMATS",
    "RESULTS_FORMATS",
    "AnswerCache",
    "CheckedQuery",
    "ClientLimitError",
    "EngineBusyError",
    "EngineFailureError",
    "QueryEngine",
    "QueryForm",
    "QueryMemoryError",
    "QueryPreemptedError",
    "QueryRefusedError",
    "QueryTimeoutError",
    "SparqlEngine",
    "SparqlError",
    "SparqlResult",
    "SparqlSyntaxError",
    "check_graphs",
    "check_query",
    "dataset_of",
    "diagnose",
    "formats_for",
    "is_checked",
    "negotiate",
    "parse_query",
    "run_checked",
    "screen_query",
    "write_nquads",
]
