"""One-pattern queries answered in the serving process: a query whose cost its LIMIT bounds needs no worker.

Every other query runs in a killable worker (kg/sparql/pool.py), because pyoxigraph cannot stop a query
and nothing but a kill bounds a join, a path or a sort. A query that is one triple pattern with a small
LIMIT is different: Oxigraph answers it by reading at most ``LIMIT + OFFSET`` entries of an index (once
per named graph at the most, as the default graph is their union), so it takes microseconds whatever the
store, and sending it to a worker costs several times the query itself. :func:`recognize` accepts exactly

    PREFIX p: <absolute IRI> ...   (zero or more)
    SELECT ?v1 ?v2 ... | *  [WHERE] { s p o [.] }  LIMIT n [OFFSET m]    (n + m at most ``max_rows``)
    ASK [WHERE] { s p o [.] }

where each of s, p and o is a variable, an absolute IRI, a prefixed name the prologue declares or ``a``,
no variable occurs twice in the pattern (``?x ?x ?x`` would scan the whole store for a few rows), and
keywords are in any case; it reads the text's code (kg.sparql.code: comments left out, and any string
makes the text fail), which the guard's screen has already passed (no SERVICE, no FROM). Where it is
stricter than the engine (``PREFIX`` must be followed by a space, a variable must not start with a
digit, ...) a query simply goes to a worker.

What runs is not the client's text but :attr:`PatternQuery.text`, rebuilt from the recognized tokens
(full IRIs, no prologue, no comment, nothing else): whatever any parser might read in the client's text,
what reaches the engine is one triple pattern with a LIMIT, with no service, no join and no unbounded
scan to run. So the safety of this path never depends on two parsers agreeing; only the answer's
faithfulness depends on the recognizer, and its grammar is the narrow one above (a text it is unsure of
goes to a worker, which answers it all the same). The answer is written by pyoxigraph's own serializers,
as a worker writes it.

The serving process answers such queries in turns (:meth:`InlineAnswerer.submit`): the ones that arrive
while the event loop goes round once are answered one after another in one callback, not each between
its own request's HTTP parsing, routing and response. The work is the same (each query is parsed,
evaluated and serialized as if alone); what changes is that pyoxigraph's code and data stay in the CPU's
caches from one query to the next. Measured under wrk (20 connections, the shipped graph, thread CPU
time around the engine call in the live server), the call took 53-81 µs a query in turns against 79-108
µs one at a time; called in a tight loop, 37 µs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Final

import pyoxigraph as ox

from kg.sparql._worker import load_worker_store
from kg.sparql.code import code_of
from kg.sparql.results import results_format

_LOG: Final = logging.getLogger(__name__)
_RDF_TYPE: Final = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"

_S: Final = r"[ \t\n]*"
_IRI: Final = r"<[A-Za-z][A-Za-z0-9+.\-]*:[^<>\"{}|^`\\\x00-\x20]*>"
"""An absolute IRI (a scheme, then IRIREF's characters): nothing to resolve against a base."""
_PNAME_NS: Final = r"(?:[A-Za-z][A-Za-z0-9_\-]*)?:"
_PNAME: Final = _PNAME_NS + r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?)?"
_VAR: Final = r"[?$][A-Za-z_][A-Za-z0-9_]*"
_TERM: Final = rf"(?:{_VAR}|{_IRI}|{_PNAME}|a(?![A-Za-z0-9_:\-]))"
_PREFIX_DECL: Final = re.compile(rf"{_S}PREFIX[ \t\n]+({_PNAME_NS}){_S}({_IRI})", re.IGNORECASE | re.ASCII)
_PATTERN: Final = rf"(?:WHERE{_S})?\{{{_S}({_TERM})[ \t\n]+({_TERM})[ \t\n]+({_TERM}){_S}\.?{_S}\}}"
_SELECT: Final = re.compile(
    rf"{_S}SELECT[ \t\n]+(\*|{_VAR}(?:{_S}{_VAR})*){_S}{_PATTERN}{_S}"
    rf"(?:LIMIT[ \t\n]+([0-9]{{1,9}})(?:{_S}OFFSET[ \t\n]+([0-9]{{1,9}}))?"
    rf"|OFFSET[ \t\n]+([0-9]{{1,9}}){_S}LIMIT[ \t\n]+([0-9]{{1,9}})){_S}",
    re.IGNORECASE | re.ASCII,
)
_ASK: Final = re.compile(rf"{_S}ASK{_S}{_PATTERN}{_S}", re.IGNORECASE | re.ASCII)
_VARIABLE: Final = re.compile(_VAR, re.ASCII)


@dataclass(frozen=True)
class PatternQuery:
    """A recognized one-pattern query: the canonical text that runs, and its answer's row bound."""

    text: str
    form: str
    rows: int


TURN_QUERIES: Final = 64
"""The most one-pattern queries answered in one callback: the rest wait for the loop's next turn, so that
other callbacks (a /health, a worker's reply) never wait behind more than that many (each reads at most
``max_rows`` rows)."""

MAX_CHARS: Final = 2_000
"""Longer texts are not read (none of the queries this path is for is nearly that long), so that the
recognizer's cache holds at most a few MB."""


def recognize(text: str, max_rows: int) -> PatternQuery | None:
    """The one-pattern query a guarded, normalised text is (see the module), or None if it is not one.

    >>> recognize("PREFIX ex: <urn:ex:>\\nselect * { ?s ex:p ?o } LIMIT 5", 100).text
    'SELECT * WHERE { ?s <urn:ex:p> ?o } LIMIT 5 OFFSET 0'
    >>> recognize("SELECT * { ?s ?p ?o } LIMIT 500", 100) is None  # more rows than the bound
    True
    >>> recognize("SELECT * { ?s ?p ?o . ?o ?q ?r } LIMIT 5", 100) is None  # a join
    True
    >>> recognize("SELECT * { ?x ?x ?o } LIMIT 5", 100) is None  # a repeated variable scans the store
    True
    """
    return _recognize(text, max_rows) if len(text) <= MAX_CHARS else None


@functools.lru_cache(maxsize=1024)
def _recognize(text: str, max_rows: int) -> PatternQuery | None:
    code = code_of(text)
    if code is None:
        return None
    prefixes: dict[str, str] = {}
    at = 0
    while (declaration := _PREFIX_DECL.match(code, at)) is not None:
        prefixes[declaration[1]] = declaration[2][1:-1]
        at = declaration.end()
    select = _SELECT.fullmatch(code, at)
    if select is not None:
        projection, s, p, o = select[1], select[2], select[3], select[4]
        limit = int(select[5] if select[5] is not None else select[8])
        offset = int(select[6] or select[7] or 0)
        if limit + offset > max_rows or not _distinct_names(_VARIABLE.findall(projection)):
            return None
        form, rows = "SELECT", limit
    else:
        ask = _ASK.fullmatch(code, at)
        if ask is None:
            return None
        projection, s, p, o = "", ask[1], ask[2], ask[3]
        form, rows = "ASK", 1
    terms = [_full(term, prefixes) for term in (s, p, o)]
    if None in terms or not _distinct_names([t for t in (s, p, o) if t[0] in "?$"]):
        return None
    pattern = " ".join(term for term in terms if term is not None)
    if form == "ASK":
        return PatternQuery(f"ASK WHERE {{ {pattern} }}", form, rows)
    names = "*" if projection == "*" else " ".join("?" + v[1:] for v in _VARIABLE.findall(projection))
    return PatternQuery(f"SELECT {names} WHERE {{ {pattern} }} LIMIT {limit} OFFSET {offset}", form, rows)


def _distinct_names(variables: list[str]) -> bool:
    names = [variable[1:] for variable in variables]
    return len(set(names)) == len(names)


def _full(term: str, prefixes: dict[str, str]) -> str | None:
    """A term as the canonical text writes it: variables as ``?name``, names as full IRIs (None: a
    prefix the prologue does not declare, or a name that does not make an absolute IRI)."""
    if term[0] in "?$":
        return "?" + term[1:]
    if term[0] == "<":
        return term
    if term == "a":
        return _RDF_TYPE
    namespace, _, local = term.partition(":")
    base = prefixes.get(namespace + ":")
    if base is None:
        return None
    iri = f"<{base}{local}>"
    return iri if re.fullmatch(_IRI, iri, re.ASCII) else None


@dataclass
class _Turn:
    """The one-pattern queries waiting for their event loop's next turn, with their answers' futures."""

    loop: asyncio.AbstractEventLoop
    waiting: list[tuple[PatternQuery, str, asyncio.Future[bytes]]] = field(default_factory=list)


class InlineAnswerer:
    """Answers recognized one-pattern queries (at most ``max_rows`` rows) from a pyoxigraph store open in
    this process: the workers' own store opened here too, as they open it (an on-disk store read-only,
    shared through the page cache, or copied into memory when it is small; a dump loaded into memory, a
    second copy of it)."""

    def __init__(self, store: ox.Store, max_rows: int) -> None:
        self.store, self.max_rows = store, max_rows
        self._turn: _Turn | None = None

    @classmethod
    def open(cls, kind: str, path: str, max_rows: int, in_memory: bool = False) -> InlineAnswerer:
        """Open the store as the workers open it (kg/sparql/_worker.py's ``load_worker_store``: ``kind``
        "oxigraph" on disk, read-only, copied into memory if ``in_memory``; else an N-Quads dump)."""
        return cls(load_worker_store(kind, path, in_memory), max_rows)

    def submit(self, text: str, media_type: str) -> asyncio.Future[bytes] | None:
        """The future answer to a guarded text in ``media_type``, answered in the running event loop's next
        turn with the other queries submitted before it (see the module); None when it is not a
        one-pattern query (it then goes to a worker). A cancelled future's query is not run; an error
        (the store unreadable) is that query's future's own."""
        query = recognize(text, self.max_rows)
        if query is None:
            return None
        loop = asyncio.get_running_loop()
        turn = self._turn
        if turn is None or turn.loop is not loop or len(turn.waiting) >= TURN_QUERIES:
            turn = self._turn = _Turn(loop)
            loop.call_soon(self._answer_turn, turn)
        future: asyncio.Future[bytes] = loop.create_future()
        turn.waiting.append((query, media_type, future))
        return future

    def _answer_turn(self, turn: _Turn) -> None:
        if self._turn is turn:
            self._turn = None
        for query, media_type, future in turn.waiting:
            if future.cancelled():
                continue
            try:
                future.set_result(self._run(query, media_type))
            except Exception as error:  # the store could not be read: that query's error, not the turn's
                future.set_exception(error)

    def _run(self, query: PatternQuery, media_type: str) -> bytes:
        answer = self.store.query(query.text, use_default_graph_as_union=True)
        assert isinstance(answer, ox.QuerySolutions | ox.QueryBoolean)
        return answer.serialize(format=results_format(media_type)) or b""
