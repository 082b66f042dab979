"""rdflib's verdict on a query the screen could not pass: parsed, translated, SERVICE and updates refused.

rdflib's parser can fail in ways other than a syntax error (RecursionError at a nesting depth of a few
dozen, TypeError on ``?s ?p -1.0``, ...): every failure becomes a :class:`~kg.sparql.errors.SparqlError`,
a text rdflib cannot read at all a :class:`~kg.sparql.errors.QueryUnreadableError` (400), since nothing
else can prove it safe; one it parses but cannot translate to algebra is judged from its parse tree. The
verdict also travels as plain values (:data:`Verdict`), so a parser process (kg.sparql.parsers) can send
it back over a pipe.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from kg.sparql.clauses import service_refusal
from kg.sparql.errors import QueryRefusedError, QueryUnreadableError, SparqlError, SparqlSyntaxError
from kg.sparql.screen import CheckedQuery, QueryForm

_FORM_NAMES: Final[dict[str, QueryForm]] = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}


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
            term = node.get("term")
            raise service_refusal(f"?{term}" if isinstance(term, Variable) else f"<{term}>")


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
