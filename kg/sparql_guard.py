"""The SPARQL guard: parse every query first and refuse updates, SERVICE and graphs that are not ours.

The known traps (DESIGN.md) are that rdflib fetches ``SERVICE``/``FROM`` URLs itself, Oxigraph does so
from Rust where audit hooks cannot see it, and a remote store may dereference ``FROM`` IRIs too; so
refusing before any engine sees the query is the only dependable guard, whatever engine runs it.
Parses are cached by query text (LRU); which graphs a query may name is checked per call, because each
store holds its own set of named graphs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Final, Literal

from pyparsing import ParseException
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from kg.errors import MgkgError
from kg.vocab import ASSERTED_GRAPH, INFERRED_GRAPH

QueryForm = Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]

DATASET_GRAPHS: Final = frozenset({str(ASSERTED_GRAPH), str(INFERRED_GRAPH)})
"""The graphs of the embedded store: the only IRIs FROM / FROM NAMED or graph parameters may name there."""

_FORM_NAMES: Final[dict[str, QueryForm]] = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}


class SparqlError(MgkgError):
    """Base of the errors a SPARQL request can meet; ``detail`` says what to do."""


class SparqlSyntaxError(SparqlError):
    """The query does not parse; ``line``/``column`` locate the problem when the parser knows."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message, self.line, self.column = message, line, column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(
            f"The SPARQL query does not parse{where}: {message}. Fix the query and send it again."
        )


class QueryRefusedError(SparqlError):
    """The query parses but asks for something this read-only, offline endpoint never does."""

    def __init__(self, reason: Literal["update", "service", "dataset"], detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


class QueryTimeoutError(SparqlError):
    """The query ran past the time limit; its worker was killed and replaced."""


class EngineBusyError(SparqlError):
    """No worker became free within the time limit."""


class EngineFailureError(SparqlError):
    """The engine itself failed on a query the guard let through (e.g. an evaluation error)."""


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the guard: its text, its form and the graphs its dataset clause names."""

    text: str
    form: QueryForm
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()


def _walk(node: object) -> Iterable[CompValue]:
    """Yield every CompValue in an rdflib parse tree or algebra, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _parse(text: str) -> CheckedQuery:
    try:
        parsed = parseQuery(text)
    except ParseException as error:
        try:
            parseUpdate(text)
        except ParseException:
            raise SparqlSyntaxError(error.msg, error.lineno, error.col) from error
        raise QueryRefusedError(
            "update",
            "SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ...) is refused: this endpoint is "
            "read-only. Send a SELECT, ASK, CONSTRUCT or DESCRIBE query.",
        ) from None
    try:
        query = translateQuery(parsed)
    except Exception as error:  # rdflib's translation raises bare Exceptions for semantic errors
        raise SparqlSyntaxError(str(error)) from error
    for node in _walk(query.algebra):
        if node.name == "ServiceGraphPattern":
            raise QueryRefusedError(
                "service",
                f"SERVICE <{node.get('term')}> is refused: this endpoint never makes a network request "
                "on a client's behalf. Run federated queries from your own client.",
            )
    from_graphs: list[str] = []
    from_named: list[str] = []
    for clause in query.algebra.get("datasetClause") or ():
        iri = str(clause.get("default") or clause.get("named"))
        (from_graphs if clause.get("default") is not None else from_named).append(iri)
    return CheckedQuery(text, _FORM_NAMES[query.algebra.name], tuple(from_graphs), tuple(from_named))


class _GuardCache:
    """A thread-safe LRU of guard verdicts by query text (refusals are cached too: they are verdicts)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, CheckedQuery | SparqlError] = OrderedDict()
        self._lock = threading.Lock()
        self._parse_lock = threading.Lock()  # pyparsing's packrat cache is not thread-safe

    def get(self, text: str) -> CheckedQuery | SparqlError | None:
        with self._lock:
            entry = self._entries.get(text)
            if entry is not None:
                self._entries.move_to_end(text)
            return entry

    def check(self, text: str) -> CheckedQuery:
        entry = self.get(text)
        if entry is None:
            with self._parse_lock:
                try:
                    entry = _parse(text)
                except SparqlError as error:
                    entry = error
            with self._lock:
                self._entries[text] = entry
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        if isinstance(entry, SparqlError):
            raise entry
        return entry


_GUARD = _GuardCache(1024)


def is_checked(text: str) -> bool:
    """Whether the guard's verdict on this text is cached (so checking it costs no parse)."""
    return _GUARD.get(text) is not None


def parse_query(text: str) -> CheckedQuery:
    """Parse a query and refuse updates and SERVICE (cached by text); FROM graphs are not checked here."""
    return _GUARD.check(text)


def check_query(text: str, graphs: Set[str] = DATASET_GRAPHS) -> CheckedQuery:
    """Parse a query and refuse updates, SERVICE and FROM graphs outside ``graphs``; parses are cached.

    >>> check_query("SELECT ?s WHERE { ?s ?p ?o }").form
    'SELECT'
    >>> check_query("ASK { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    kg.sparql_guard.QueryRefusedError: SERVICE <http://example.org/sparql> is refused: ...
    """
    checked = parse_query(text)
    check_graphs(checked.from_graphs, "FROM", graphs)
    check_graphs(checked.from_named, "FROM NAMED", graphs)
    return checked


def check_graphs(iris: Iterable[str], parameter: str, graphs: Set[str] = DATASET_GRAPHS) -> None:
    """Refuse graph IRIs (FROM, FROM NAMED, default-graph-uri, named-graph-uri) outside ``graphs``."""
    for iri in iris:
        if iri not in graphs:
            raise QueryRefusedError(
                "dataset",
                f"{parameter} <{iri}> is refused: only this endpoint's graphs may be named "
                f"({', '.join(sorted(graphs))}); nothing is fetched from elsewhere.",
            )
