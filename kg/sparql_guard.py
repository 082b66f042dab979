"""The SPARQL guard: refuse updates, SERVICE and graphs that are not ours before any engine sees a query.

The known traps (DESIGN.md) are that rdflib fetches ``SERVICE``/``FROM`` URLs itself, Oxigraph does so
from Rust where audit hooks cannot see it, and a remote store may dereference ``FROM`` IRIs too; so
refusing before any engine sees the query is the only dependable guard, whatever engine runs it.

Two ways in, one verdict. Most queries are *screened*: an ASCII text without codepoint escapes whose
prologue a scan reads up to the query form, and in which neither ``SERVICE`` nor ``FROM`` occurs after
that (in any case, even inside a string or a comment), cannot name a service or a dataset; the engines
parse such a text with a query-only grammar, so it cannot update either. That costs a few
microseconds, where rdflib's parser takes milliseconds. Every other text is *parsed* with rdflib's SPARQL
parser and algebra, whose verdicts are cached by text (LRU). A screened query that the engine cannot
parse is parsed too (:func:`diagnose`), so that an update gets its refusal and a malformed query the
line and column it always got. Which graphs a query may name is checked per call, because each store
holds its own set of named graphs.
"""

from __future__ import annotations

import re
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

    @classmethod
    def from_engine(cls, message: str) -> SparqlSyntaxError:
        """The error of an engine's parser, with the line and column of Oxigraph's ``error at L:C: ...``.

        >>> error = SparqlSyntaxError.from_engine("error at 3:2: expected OPTIONAL")
        >>> error.line, error.column, error.message
        (3, 2, 'expected OPTIONAL')
        >>> SparqlSyntaxError.from_engine("bad query").line is None
        True
        """
        located = _ENGINE_LOCATION.fullmatch(message.strip())
        if located is None:
            return cls(message.strip())
        return cls(located["message"], int(located["line"]), int(located["column"]))


class QueryRefusedError(SparqlError):
    """The query parses but asks for something this read-only, offline endpoint never does."""

    def __init__(self, reason: Literal["update", "service", "dataset"], detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


class QueryTimeoutError(SparqlError):
    """The query ran past the time limit; its worker was killed and replaced."""


class QueryMemoryError(SparqlError):
    """The query needed more memory than a worker may add; its worker died and was replaced."""


class EngineBusyError(SparqlError):
    """No worker became free within the time limit."""


class EngineFailureError(SparqlError):
    """The engine itself failed on a query the guard let through (e.g. an evaluation error)."""


_ENGINE_LOCATION: Final = re.compile(r"error at (?P<line>\d+):(?P<column>\d+): (?P<message>.*)", re.DOTALL)

_PROLOGUE_FORM: Final = re.compile(
    r"(?:[ \t\r\n]++|\#[^\n\r]*+|(?:PREFIX[ \t\r\n]*+[A-Za-z0-9_.\-]*+:|BASE)[ \t\r\n]*+"
    r"<[^<>\"{}|^`\\\x00-\x20]*+>)*+"
    r"(?P<form>SELECT|ASK|CONSTRUCT|DESCRIBE)(?![A-Za-z0-9_])",
    re.IGNORECASE | re.ASCII,
)
"""A prologue (whitespace, comments, PREFIX and BASE declarations) and the keyword of the query form.
Possessive quantifiers: a text that does not match fails in linear time."""


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the guard: its text, its form and the graphs its dataset clause names.

    ``parsed`` says whether rdflib parsed it (False for a screened text: the engine's parser is then the
    first to read it, and :func:`diagnose` explains what it rejects).
    """

    text: str
    form: QueryForm
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()
    parsed: bool = True


def screen_query(text: str) -> CheckedQuery | None:
    r"""The guard's verdict from the text alone, when the text proves it names no service and no graph.

    None when it may (the text must then be parsed): a text that is not ASCII; one with a codepoint escape
    anywhere (SPARQL expands ``\u0053ERVICE`` to SERVICE before it tokenizes, and an escaped newline
    ends a comment); one whose query form a prologue scan cannot read (updates among them); one in
    which SERVICE or FROM occurs anywhere after the form's keyword, in any case, even inside a string or
    a comment (a false alarm only costs a parse). Engines parse what passes with a query-only grammar,
    so it cannot update.

    >>> screen_query("PREFIX ex: <urn:ex#>  # a comment\nselect ?s WHERE { ?s ex:p ?o }").form
    'SELECT'
    >>> screen_query("ASK { SERVICE <http://example.org/sparql> { ?s ?p ?o } }") is None
    True
    >>> screen_query("ASK { \\u0053ERVICE <http://example.org/sparql> { ?s ?p ?o } }") is None
    True
    >>> screen_query("INSERT DATA { <urn:a> <urn:b> <urn:c> }") is None
    True
    """
    if not text.isascii() or "\\u" in text or "\\U" in text:
        return None
    prologue = _PROLOGUE_FORM.match(text)
    if prologue is None:
        return None
    # Without escapes the text is as the engine tokenizes it, so the prologue just matched (comments,
    # PREFIX and BASE IRIs) is inert; SERVICE and FROM can only be in the rest. ASCII: lower() is the
    # exact case-insensitive match that SPARQL keywords have.
    body = text[prologue.end("form") :].lower()
    if "service" in body or "from" in body:
        return None
    form: QueryForm = prologue["form"].upper()  # type: ignore[assignment]  # one of the four keywords
    return CheckedQuery(text, form, parsed=False)


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
    """Whether checking this text costs no parse: the screen passes it, or the parser's verdict is cached."""
    return screen_query(text) is not None or _GUARD.get(text) is not None


def parse_query(text: str) -> CheckedQuery:
    """Parse a query with rdflib and refuse updates and SERVICE (cached by text); FROM graphs are not
    checked here. Slower than :func:`check_query` (milliseconds), and exact: syntax errors included.

    >>> parse_query("SELECT ?s FROM <urn:g> WHERE { ?s ?p ?o }").from_graphs
    ('urn:g',)
    """
    return _GUARD.check(text)


def check_query(text: str, graphs: Set[str] | None = DATASET_GRAPHS) -> CheckedQuery:
    """Screen or parse a query and refuse updates, SERVICE and FROM graphs outside ``graphs`` (None: any).

    A screened query (see :func:`screen_query`) is not parsed here: its syntax errors come from the
    engine that runs it, through :func:`diagnose`.

    >>> check_query("SELECT ?s WHERE { ?s ?p ?o }").form
    'SELECT'
    >>> check_query("ASK { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    kg.sparql_guard.QueryRefusedError: SERVICE <http://example.org/sparql> is refused: ...
    """
    checked = screen_query(text) or parse_query(text)
    if graphs is not None:
        check_graphs(checked.from_graphs, "FROM", graphs)
        check_graphs(checked.from_named, "FROM NAMED", graphs)
    return checked


def diagnose(text: str, engine_error: SparqlSyntaxError) -> SparqlError:
    """The error to report for a screened query that the engine could not parse.

    rdflib's verdict when it has one (an update's refusal, or a syntax error with line and column, as
    for a text that was parsed from the start), else the engine's own error. Parses, so it may take
    milliseconds: run it off the event loop.

    >>> diagnose("INSERT DATA { <urn:a> <urn:b> <urn:c> }", SparqlSyntaxError("expected CONSTRUCT")).reason
    'update'
    """
    try:
        parse_query(text)
    except SparqlError as error:
        return error
    return engine_error


def check_graphs(iris: Iterable[str], parameter: str, graphs: Set[str] = DATASET_GRAPHS) -> None:
    """Refuse graph IRIs (FROM, FROM NAMED, default-graph-uri, named-graph-uri) outside ``graphs``."""
    for iri in iris:
        if iri not in graphs:
            raise QueryRefusedError(
                "dataset",
                f"{parameter} <{iri}> is refused: only this endpoint's graphs may be named "
                f"({', '.join(sorted(graphs))}); nothing is fetched from elsewhere.",
            )
