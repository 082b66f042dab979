"""The SPARQL layer's public surface: a read-only, bounded engine behind the guard.

The guard (kg.sparql.guard, its text normalisation in kg.sparql.text, its bounded parser processes in
kg.sparql.parsers) normalises, then screens or parses every query and refuses what writes or reaches
outside; the SPARQL workers cannot open network sockets anyway (kg.sparql.sandbox);
the formats and Accept negotiation live in kg.sparql.formats; what every engine shares (the answer type,
the QueryEngine protocol, the dataset rule, the answer cache, run_checked) in kg.sparql.answers; the
local engine, a pool of killable pyoxigraph worker processes, in kg.sparql.pool. All of it is
re-exported here.
"""

from __future__ import annotations

from kg.sparql.answers import AnswerCache, QueryEngine, SparqlResult, dataset_of, run_checked
from kg.sparql.formats import negotiate
from kg.sparql.guard import (
    DATASET_GRAPHS,
    CheckedQuery,
    EngineBusyError,
    EngineFailureError,
    QueryForm,
    QueryMemoryError,
    QueryRefusedError,
    QueryTimeoutError,
    QueryUnreadableError,
    SparqlError,
    SparqlSyntaxError,
    check_graphs,
    check_query,
    diagnose,
    screen_query,
    unguarded_query,
)
from kg.sparql.parsers import guard_query
from kg.sparql.pool import SparqlEngine, write_nquads
from kg.sparql.results import GRAPH_FORMATS, RESULTS_FORMATS, formats_for
from kg.sparql.scheduler import ClientLimitError, QueryPreemptedError
from kg.sparql.text import normalize_query

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
    "QueryUnreadableError",
    "SparqlEngine",
    "SparqlError",
    "SparqlResult",
    "SparqlSyntaxError",
    "check_graphs",
    "check_query",
    "dataset_of",
    "diagnose",
    "formats_for",
    "guard_query",
    "negotiate",
    "normalize_query",
    "run_checked",
    "screen_query",
    "unguarded_query",
    "write_nquads",
]
