"""The SPARQL guard: refuse updates, SERVICE and graphs that are not ours before any engine sees a query.

Every text is first normalised (kg.sparql.text: escapes expanded, line ends unified, nesting bounded),
and the normalised text is both what is checked and what the engine runs (:attr:`CheckedQuery.text`),
so that the guard's parser and the engine's read the same characters. The SPARQL workers cannot open
network sockets anyway (kg.sparql.sandbox); the guard is the only line for a remote store.

Why a guard before the engine, whatever engine runs the query: rdflib's SPARQL engine makes the HTTP
request of a ``SERVICE <url>`` itself (no switch turns that off) and fetches ``FROM <url>`` on a
Dataset; Oxigraph makes SERVICE requests from Rust, where Python audit hooks cannot see them; and a
remote store may dereference ``FROM`` IRIs too. Parsing the query first and refusing what reaches
outside is the only check that holds for every engine.

Two ways in, one verdict. Most queries are *screened* (kg.sparql.screen: microseconds, no rdflib parse;
SERVICE calls and dataset clauses in the code are read there as Oxigraph reads them, kg.sparql.clauses, so
SPARQL 1.2 is judged too); every other text is *parsed* with rdflib's SPARQL parser and algebra
(kg.sparql.verdict: milliseconds), whose verdicts are cached here by text (LRU). The screen is *strict* when
the store restricts the graphs a query may name (``graphs`` is not None: a remote store, whose engine is
outside the egress sandbox, so that the guard is its only defence): what an engine might read two ways is
refused there, where for the local workers it is left to rdflib's parse. A screened query that the engine
cannot parse is parsed too (:func:`diagnose`), so that an update gets its refusal and a malformed query the
line and column it always got. Which graphs a query may name is checked per call, because each store holds
its own set of named graphs. :func:`check_query` is the one check (in this process); the service runs the
same check in killable parser processes with a time limit (kg.sparql.parsers, through :func:`start_check`
and :meth:`PendingCheck.finish`). The checked query, the screen and the verdict are importable from here;
the errors come from kg.sparql.errors (or the facade, kg.sparql).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Final

from cachetools import LRUCache
from pyoxigraph import NamedNode

from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH
from kg.sparql.code import code_of
from kg.sparql.errors import (
    DatasetIriError,
    QueryRefusedError,
    QueryUnreadableError,
    SparqlError,
    SparqlSyntaxError,
)
from kg.sparql.screen import CheckedQuery, QueryForm, read_screen, screen_query, unguarded_query
from kg.sparql.text import UnreadableTextError, normalize_query
from kg.sparql.verdict import Verdict, from_verdict, read_verdict

__all__ = [
    "DATASET_GRAPHS",
    "GUARD_CACHE",
    "CheckedQuery",
    "PendingCheck",
    "QueryForm",
    "Verdict",
    "admit",
    "check_absolute",
    "check_graphs",
    "check_query",
    "diagnose",
    "from_verdict",
    "normalize",
    "read_verdict",
    "recall",
    "remember",
    "screen_query",
    "start_check",
    "unguarded_query",
]

_LOG: Final = logging.getLogger(__name__)

DATASET_GRAPHS: Final = frozenset({str(ASSERTED_GRAPH), str(INFERRED_GRAPH)})
"""The graphs of the embedded store: the only IRIs FROM / FROM NAMED or graph parameters may name there."""

GUARD_CACHE: Final[LRUCache[str, CheckedQuery | SparqlError]] = LRUCache(maxsize=1024)
"""The verdicts of this process by normalised text, refusals too (they are verdicts); the parser
processes' verdicts land here too. Read and written under :data:`_CACHE_LOCK`."""
_CACHE_LOCK: Final = threading.Lock()
_PARSE_LOCK: Final = threading.Lock()  # pyparsing's packrat cache is not thread-safe


def normalize(text: str) -> str:
    """The normalised text (:func:`~kg.sparql.text.normalize_query`), or the 400 that says why not."""
    try:
        return normalize_query(text)
    except UnreadableTextError as error:
        _LOG.debug("guard refused an unreadable text: %s", error.message)
        raise SparqlSyntaxError(error.message, error.line, error.column) from None


def admit(verdict: CheckedQuery | SparqlError, graphs: Set[str] | None) -> CheckedQuery:
    """Raise a refusing verdict; refuse FROM graphs outside ``graphs`` (None: any); return the query."""
    if isinstance(verdict, SparqlError):
        _LOG.debug("guard refused a query: %s", verdict)
        raise verdict
    if graphs is not None:
        check_graphs(verdict.from_graphs, "FROM", graphs)
        check_graphs(verdict.from_named, "FROM NAMED", graphs)
    return verdict


def recall(text: str) -> CheckedQuery | SparqlError | None:
    """The cached verdict on a normalised text, or None."""
    with _CACHE_LOCK:
        return GUARD_CACHE.get(text)


def remember(text: str, verdict: CheckedQuery | SparqlError) -> None:
    """Cache the verdict on a normalised text."""
    with _CACHE_LOCK:
        GUARD_CACHE[text] = verdict


@dataclass(frozen=True)
class PendingCheck:
    """A check the screen and the verdict cache could not finish: rdflib must read :attr:`text` (the
    normalised one), in this process (:func:`check_query`) or a parser process (kg.sparql.parsers)."""

    text: str
    graphs: Set[str] | None
    refusal: QueryRefusedError | None = None
    """The screen's refusal (a SERVICE call, or for a strict guard what may be one or a dataset clause it
    cannot read) of a text whose brackets do not balance: rdflib's reading only decides whether the text
    is malformed instead (400, as Oxigraph refuses it), never that it may run."""

    def finish(self, verdict: Verdict) -> CheckedQuery:
        """Keep rdflib's verdict (:func:`read_verdict`) and admit or refuse the query by it."""
        judged = from_verdict(self.text, verdict)
        if self.refusal is not None:
            judged = _refusal_or_syntax(self.refusal, judged)
        remember(self.text, judged)
        return admit(judged, self.graphs)


def _refusal_or_syntax(refusal: QueryRefusedError, judged: CheckedQuery | SparqlError) -> SparqlError:
    """What to answer a refused text whose brackets do not balance: rdflib's syntax error (it is
    malformed, and Oxigraph refuses it as such: 400), or else the screen's refusal (rdflib's own wording
    when it found a SERVICE call too)."""
    if isinstance(judged, QueryRefusedError) and judged.reason == "service":
        return judged
    if isinstance(judged, SparqlSyntaxError) and not isinstance(judged, QueryUnreadableError):
        return judged
    _LOG.debug("guard refused a SERVICE call that rdflib read as %r", judged)
    return refusal


def _balanced(text: str) -> bool:
    """Whether the brackets of a text's code balance in number (comments and strings left out)."""
    code = code_of(text)
    return code is not None and all(code.count(a) == code.count(b) for a, b in ("{}", "()", "[]"))


def start_check(
    text: str,
    graphs: Set[str] | None,
    default_graphs: Iterable[str] = (),
    named_graphs: Iterable[str] = (),
) -> CheckedQuery | PendingCheck:
    """The guard up to rdflib's parse: the protocol graphs checked, the text normalised, then screened
    or its verdict recalled; what is left for rdflib to read comes back as a :class:`PendingCheck`."""
    check_absolute(default_graphs, "default-graph-uri")
    check_absolute(named_graphs, "named-graph-uri")
    if graphs is not None:
        check_graphs(default_graphs, "default-graph-uri", graphs)
        check_graphs(named_graphs, "named-graph-uri", graphs)
    normalized = normalize(text)
    screened = read_screen(normalized, strict=graphs is not None)
    cached = recall(normalized) if screened is None or isinstance(screened, QueryRefusedError) else None
    if isinstance(screened, QueryRefusedError) and not _balanced(normalized):
        # refused, unless it is malformed (a 400, as Oxigraph refuses it): rdflib may only say that
        if isinstance(cached, SparqlError):
            return admit(cached, graphs)
        return PendingCheck(normalized, graphs, screened)
    if screened is not None:
        return admit(screened, graphs)
    if cached is not None:
        return admit(cached, graphs)
    return PendingCheck(normalized, graphs)


def check_query(
    text: str,
    graphs: Set[str] | None = DATASET_GRAPHS,
    *,
    default_graphs: Iterable[str] = (),
    named_graphs: Iterable[str] = (),
) -> CheckedQuery:
    """The guard: normalise, then screen or parse, and refuse updates, SERVICE and graphs outside
    ``graphs`` (None: any) named by FROM, FROM NAMED or the protocol's ``default_graphs`` and
    ``named_graphs``. The returned query's text is the normalised one: run exactly that. With ``graphs``
    given the screen is strict (see the module's docstring).

    Parses in this process, unbounded in time (the library; the service and the command line run the
    same check with the parse in a killable parser process, kg.sparql.parsers.guard_query). A screened
    query (see :func:`screen_query`) is not parsed: its syntax errors come from the engine, through
    :func:`diagnose` (kg.sparql.answers.run_checked).

    >>> check_query("SELECT ?s WHERE { ?s ?p ?o }").form
    'SELECT'
    >>> check_query("SELECT ?s FROM <urn:g> WHERE { ?s ?p ?o }", None).from_graphs
    ('urn:g',)
    >>> check_query("ASK { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    kg.sparql.errors.QueryRefusedError: SERVICE <http://example.org/sparql> is refused: ...
    """
    started = start_check(text, graphs, default_graphs, named_graphs)
    if isinstance(started, CheckedQuery):
        return started
    with _PARSE_LOCK:
        verdict = read_verdict(started.text)
    return started.finish(verdict)


def diagnose(verdict: CheckedQuery | SparqlError, engine_error: SparqlSyntaxError) -> SparqlError:
    """The error to report for a screened (normalised) query that the engine could not parse.

    rdflib's verdict on it when that is an error (an update's refusal, or a syntax error with line and
    column, as for a text that was parsed from the start), else the engine's own error (also when
    rdflib cannot read the text at all: the engine's verdict decides).

    >>> update = QueryRefusedError("update", "SPARQL Update is refused")
    >>> diagnose(update, SparqlSyntaxError("expected CONSTRUCT")).reason
    'update'
    """
    if isinstance(verdict, SparqlError) and not isinstance(verdict, QueryUnreadableError):
        return verdict
    return engine_error


def check_absolute(iris: Iterable[str], parameter: str) -> None:
    """Refuse a dataset graph that is not an absolute IRI (the engine's own IRI parser decides)."""
    for iri in iris:
        try:
            NamedNode(iri)
        except ValueError as error:
            raise DatasetIriError(parameter, iri, str(error)) from None


def check_graphs(iris: Iterable[str], parameter: str, graphs: Set[str] = DATASET_GRAPHS) -> None:
    """Refuse graph IRIs (FROM, FROM NAMED, default-graph-uri, named-graph-uri) outside ``graphs``."""
    for iri in iris:
        if iri not in graphs:
            _LOG.debug("guard refused %s <%s>: not one of this store's graphs", parameter, iri)
            raise QueryRefusedError(
                "dataset",
                f"{parameter} <{iri}> is refused: only this endpoint's graphs may be named "
                f"({', '.join(sorted(graphs))}); nothing is fetched from elsewhere.",
            )
