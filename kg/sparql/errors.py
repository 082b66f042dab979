"""The errors a SPARQL request can meet (guard, engines, workers), each saying what to do next."""

from __future__ import annotations

import re
from typing import Final, Literal

from kg.errors import MgkgError
from kg.model.vocab import ASSERTED_GRAPH

_ENGINE_LOCATION: Final = re.compile(r"error at (?P<line>\d+):(?P<column>\d+): (?P<message>.*)", re.DOTALL)


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
            "(non-ASCII characters outside comments and strings, a word 'service' that is no SERVICE call "
            "but might be read as one, a FROM clause that is not plainly FROM <iri>) must be read before it "
            "runs. Rewrite it: nest groups and parentheses less deeply, write negative numbers in triple "
            'patterns as literals ("-1.0"^^xsd:decimal) or FILTERs, rename a prefix called service, or '
            "write the FROM clause plainly.",
        )


class QueryTimeoutError(SparqlError):
    """The query ran past the time limit; its worker was killed and replaced."""


class QueryMemoryError(SparqlError):
    """The query needed more memory than a worker may add; its worker died and was replaced."""


class EngineBusyError(SparqlError):
    """No worker became free within the time limit."""


class EngineFailureError(SparqlError):
    """The engine itself failed on a query the guard let through (e.g. an evaluation error)."""
