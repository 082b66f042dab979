"""The SPARQL guard: refuse updates, SERVICE and graphs that are not ours before any engine sees a query.

Every text is first normalised (kg.sparql.text: escapes expanded, line ends unified, nesting bounded),
and the normalised text is both what is checked and what the engine runs (:attr:`CheckedQuery.text`),
so that the guard's parser and the engine's read the same characters. The SPARQL workers cannot open
network sockets anyway (kg.sparql.sandbox); the guard is the only line for a remote store.

The known traps (DESIGN.md) are that rdflib fetches ``SERVICE``/``FROM`` URLs itself, Oxigraph does so
from Rust where audit hooks cannot see it, and a remote store may dereference ``FROM`` IRIs too; so
refusing before any engine sees the query is the only dependable guard, whatever engine runs it.

Two ways in, one verdict. Most queries are *screened*: a normalised text without ``\\u`` whose
prologue a scan reads up to the query form, and in which neither ``SERVICE`` nor ``FROM`` occurs after
that (in any case, even inside a string or a comment), cannot name a service or a dataset; the engines
parse such a text with a query-only grammar, so it cannot update either. That costs a few
microseconds, where rdflib's parser takes milliseconds. Every other text is *parsed* with rdflib's SPARQL
parser and algebra, whose verdicts are cached by text (LRU). A screened query that the engine cannot
parse is parsed too (:func:`diagnose`), so that an update gets its refusal and a malformed query the
line and column it always got. Which graphs a query may name is checked per call, because each store
holds its own set of named graphs.

rdflib's parser can fail in ways other than a syntax error (RecursionError at a nesting depth of a few
dozen, TypeError on ``?s ?p -1.0``, ...). A screened text never needs it, so the engine's verdict
decides; a text the screen cannot pass and rdflib cannot read is refused (:class:`QueryUnreadableError`,
400), since nothing else can prove it safe; one rdflib parses but cannot translate to algebra is judged
from its parse tree. :func:`check_query` is the one check (in this process); the service runs the same
check in killable parser processes with a time limit (kg.sparql.parsers).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Final, Literal

from cachetools import LRUCache
from pyoxigraph import NamedNode
from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from kg.errors import MgkgError
from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH
from kg.sparql.code import code_of
from kg.sparql.text import UnreadableTextError, normalize_query

QueryForm = Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]

_LOG: Final = logging.getLogger(__name__)

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


class DatasetIriError(SparqlError):
    """A graph named for the dataset (FROM, FROM NAMED, default-graph-uri, named-graph-uri) is not an
    absolute IRI, so no store could read it; ``parameter`` and ``iri`` say which."""

    def __init__(self, parameter: str, iri: str, problem: str) -> None:
        self.parameter, self.iri = parameter, iri
        super().__init__(
            f"{parameter} <{iri}> is not an absolute IRI ({problem}). Name a graph by its full IRI, "
            f"for example <{ASSERTED_GRAPH}>."
        )


class QueryUnreadableError(SparqlSyntaxError):
    """rdflib's parser, which the guard reads a query with, failed on it (not a syntax error as such)."""

    def __init__(self, problem: str) -> None:
        self.message, self.line, self.column = problem, None, None
        SparqlError.__init__(
            self,
            f"The guard could not read this query ({problem}), and a query its fast screen cannot pass "
            "(one that mentions SERVICE or FROM, even in a comment or a string, or has non-ASCII "
            "characters) must be read before it runs. Rewrite it: nest groups and "
            "parentheses less deeply, write negative numbers in triple patterns as literals "
            '("-1.0"^^xsd:decimal) or FILTERs, or remove the word SERVICE or FROM where it is not needed.',
        )


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
    r"<[^<>\"{}|^`\\\x00-\x20]*+>|VERSION(?:[ \t\r\n]++|\#[^\n\r]*+)*+"
    r"(?:\"[0-9A-Za-z.\-]*+\"|'[0-9A-Za-z.\-]*+'))*+"
    r"(?P<form>SELECT|ASK|CONSTRUCT|DESCRIBE)(?![A-Za-z0-9_])",
    re.IGNORECASE | re.ASCII,
)
"""A prologue (whitespace, comments, PREFIX, BASE and SPARQL 1.2 VERSION declarations) and the keyword of
the query form.
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
    r"""The guard's verdict from a normalised text alone, when it proves it names no service and no graph.

    ``text`` must come from :func:`~kg.sparql.text.normalize_query` (only LF ends a line, no escape is
    left). None when it may name one (the text must then be parsed): one that is not ASCII (a
    reader may match keywords by Unicode case, where U+017F is an S); one with ``\u`` or ``\U``
    anywhere (a reader might expand it); one whose query form a prologue scan cannot read (updates
    among them); one in
    which SERVICE or FROM occurs anywhere in the code after the form's keyword, in any case (a false
    alarm only costs a parse); comments and strings are not code (kg.sparql.code.code_of), so a word
    there changes nothing, and a text whose comments and strings cannot be told apart for sure is
    parsed. Engines parse what passes with a query-only grammar, so it cannot update.

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
    # Comments and strings hold no keyword (kg.sparql.code; None when it cannot be sure where they are).
    code = code_of(text[prologue.end("form") :])
    if code is None:
        return None
    body = code.lower()
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
        elif isinstance(item, list | tuple | ParseResults):
            stack.extend(item)


def _refuse_service(tree: object) -> None:
    for node in _walk(tree):
        if node.name == "ServiceGraphPattern":
            raise QueryRefusedError(
                "service",
                f"SERVICE <{node.get('term')}> is refused: this endpoint never makes a network request "
                "on a client's behalf. Run federated queries from your own client.",
            )


def _problem(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}" if str(error) else type(error).__name__


def _parse(text: str) -> CheckedQuery:
    """rdflib's verdict on a normalised text; every failure of its parser is a :class:`SparqlError`."""
    try:
        parsed = parseQuery(text)
    except ParseException as error:
        try:
            parseUpdate(text)
        except Exception:  # not an update either: the query parser's error locates the problem
            raise SparqlSyntaxError(error.msg, error.lineno, error.col) from None
        raise QueryRefusedError(
            "update",
            "SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ...) is refused: this endpoint is "
            "read-only. Send a SELECT, ASK, CONSTRUCT or DESCRIBE query.",
        ) from None
    except Exception as error:  # RecursionError, TypeError, ValueError, ...: rdflib could not read it
        raise QueryUnreadableError(_problem(error)) from None
    try:
        query = translateQuery(parsed)
    except Exception:  # rdflib reads it but cannot translate it: judge it from its parse tree
        return _from_parse_tree(text, parsed)
    _refuse_service(query.algebra)
    from_graphs: list[str] = []
    from_named: list[str] = []
    for clause in query.algebra.get("datasetClause") or ():
        # membership, not CompValue.get: its get() answers a missing key with the key's own name, which
        # read every FROM NAMED <g> as FROM <default>
        if "default" in clause:
            from_graphs.append(str(clause["default"]))
        else:
            from_named.append(str(clause["named"]))
    return CheckedQuery(text, _FORM_NAMES[query.algebra.name], tuple(from_graphs), tuple(from_named))


def _from_parse_tree(text: str, parsed: ParseResults) -> CheckedQuery:
    """The verdict on a query rdflib parsed but could not translate; the engine then reads it first.

    SERVICE is refused as from the algebra; a dataset clause, whose IRIs only the translation resolves,
    makes the query unreadable.
    """
    try:
        _refuse_service(parsed)
        body = parsed[-1]
        if body.get("datasetClause"):
            raise QueryUnreadableError("its FROM clause cannot be resolved")
        form = _FORM_NAMES[body.name]
    except SparqlError:
        raise
    except Exception as error:
        raise QueryUnreadableError(_problem(error)) from None
    return CheckedQuery(text, form, parsed=False)


Verdict = tuple[object, ...]
"""A guard verdict in plain values (it crosses a pipe from a parser process, see kg.sparql.parsers)."""


def read_verdict(text: str) -> Verdict:
    """rdflib's verdict on a normalised text as plain values, for a parser process; never raises."""
    try:
        checked = _parse(text)
    except QueryUnreadableError as error:
        return ("unreadable", error.message)
    except SparqlSyntaxError as error:
        return ("syntax", error.message, error.line, error.column)
    except QueryRefusedError as error:
        return ("refused", error.reason, str(error))
    except Exception as error:  # the guard never answers 500: nothing is left unread
        return ("unreadable", _problem(error))
    return ("ok", checked.form, checked.from_graphs, checked.from_named, checked.parsed)


def from_verdict(text: str, verdict: Verdict) -> CheckedQuery | SparqlError:
    """The checked query or the error that a verdict of :func:`read_verdict` stands for."""
    kind = verdict[0]
    if kind == "ok":
        _, form, default, named, parsed = verdict
        return CheckedQuery(text, form, tuple(default), tuple(named), bool(parsed))  # type: ignore[arg-type]
    if kind == "syntax":
        return SparqlSyntaxError(*verdict[1:])  # type: ignore[arg-type]
    if kind == "refused":
        return QueryRefusedError(*verdict[1:])  # type: ignore[arg-type]
    return QueryUnreadableError(str(verdict[1]))


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

    def finish(self, verdict: Verdict) -> CheckedQuery:
        """Keep rdflib's verdict (:func:`read_verdict`) and admit or refuse the query by it."""
        judged = from_verdict(self.text, verdict)
        remember(self.text, judged)
        return admit(judged, self.graphs)


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
    screened = screen_query(normalized)
    if screened is not None:
        return admit(screened, graphs)
    cached = recall(normalized)
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
    ``named_graphs``. The returned query's text is the normalised one: run exactly that.

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
    kg.sparql.guard.QueryRefusedError: SERVICE <http://example.org/sparql> is refused: ...
    """
    started = start_check(text, graphs, default_graphs, named_graphs)
    if isinstance(started, CheckedQuery):
        return started
    with _PARSE_LOCK:
        verdict = read_verdict(started.text)
    return started.finish(verdict)


def unguarded_query(text: str) -> CheckedQuery:
    """Tests and diagnosis only (MGKG_SPARQL_GUARD=false): the text as sent, unchecked, with its form
    guessed from its prologue (SELECT if none is found), so that the egress sandbox alone can be tried."""
    prologue = _PROLOGUE_FORM.match(text)
    form: QueryForm = prologue["form"].upper() if prologue else "SELECT"  # type: ignore[assignment]
    return CheckedQuery(text, form, parsed=False)


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
