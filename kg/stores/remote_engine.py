"""The query engine of a remote SPARQL 1.1 store: queries over the protocol's most portable forms.

Queries go as GET ``?query=`` or, when the URL would be long, as a form-encoded POST; never as a
direct ``application/sparql-query`` POST, which some servers mishandle (Debian's Virtuoso 7.2.5 hangs
on it). The time limit is the HTTP client's timeout. Without a dataset in the request, the union of the
store's named graphs is asked for explicitly (``default-graph-uri`` and ``named-graph-uri`` for each),
so that the answer does not depend on a server's union-default-graph setting. Parameters of named
queries are bound with a trailing ``VALUES`` clause of escaped terms, never pasted into the patterns.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Final
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from kg.sparql.answers import PLAIN_RUN, AnswerCache, RunOptions, SparqlResult
from kg.sparql.errors import EngineFailureError, QueryTimeoutError, SparqlSyntaxError
from kg.sparql.guard import CheckedQuery
from kg.sparql.options import EngineOptions
from kg.sparql.results import (
    RDF_FORMATS,
    RESULTS_FORMATS,
    count_rows,
    results_format,
    serialize_solutions,
    serialize_triples,
    write_bounded,
)
from kg.sparql.scheduler import ClientLimiter
from kg.stores.base import MGKG_GRAPHS

logger = logging.getLogger(__name__)

MAX_GET_URL: Final = 2000
"""Longest GET URL sent; longer requests go as a form-encoded POST."""


def values_clause(substitutions: Mapping[str, Mapping[str, str]]) -> str:
    """A trailing VALUES clause binding each variable to one escaped term (N-Triples syntax).

    >>> values_clause({"x": {"type": "iri", "value": "urn:a"}, "n": {"type": "literal", "value": 'say "hi"'}})
    '\\nVALUES (?x ?n) { (<urn:a> "say \\\\"hi\\\\"") }'
    """
    if not substitutions:
        return ""
    terms: list[str] = []
    for spec in substitutions.values():
        if spec["type"] == "iri":
            terms.append(str(ox.NamedNode(spec["value"])))
        elif "lang" in spec:
            terms.append(str(ox.Literal(spec["value"], language=spec["lang"])))
        elif "datatype" in spec:
            terms.append(str(ox.Literal(spec["value"], datatype=ox.NamedNode(spec["datatype"]))))
        else:
            terms.append(str(ox.Literal(spec["value"])))
    names = " ".join(f"?{name}" for name in substitutions)
    return f"\nVALUES ({names}) {{ ({' '.join(terms)}) }}"


_WHERE: Final = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def bind_values(text: str, substitutions: Mapping[str, Mapping[str, str]]) -> str:
    """The query with its parameters bound by a VALUES block opening its WHERE group.

    SPARQL has no pre-binding: a trailing VALUES clause joins only after the WHERE group's FILTERs
    ran, with the variables still unbound there, so a named query that filters on a parameter would
    match nothing. A block at the start of the group binds them first, as the local engine's
    substitutions do. Falls back to the trailing clause when no ``WHERE {`` is found outside comments.

    >>> bind_values("SELECT * WHERE { ?s ?p ?x FILTER(?x = ?v) }", {"v": {"type": "iri", "value": "urn:a"}})
    'SELECT * WHERE { VALUES (?v) { (<urn:a>) }\\n ?s ?p ?x FILTER(?x = ?v) }'
    """
    clause = values_clause(substitutions)
    if not clause:
        return text
    blanked = re.sub(r"(?m)^\s*#.*$", lambda m: " " * len(m.group()), text)  # header comments
    found = _WHERE.search(blanked)
    if found is None:
        return text + clause
    return f"{text[: found.end()]} {clause.strip()}\n{text[found.end() :]}"


def request_form(
    endpoint: str, query: str, default_graphs: Iterable[str], named_graphs: Iterable[str]
) -> tuple[str, list[tuple[str, str]]]:
    """The protocol parameters, and "GET" or "POST" (form-encoded) by the length of the URL.

    >>> request_form("http://h/q", "ASK {}", ["urn:g"], [])[0]
    'GET'
    >>> request_form("http://h/q", "ASK {}" + " " * 3000, [], [])[0]
    'POST'
    """
    params = [("query", query)]
    params += [("default-graph-uri", g) for g in default_graphs]
    params += [("named-graph-uri", g) for g in named_graphs]
    method = "GET" if len(endpoint) + 1 + len(urlencode(params)) <= MAX_GET_URL else "POST"
    return method, params


STORE_CUT_HEADER: Final = "X-SPARQL-MaxRows"
"""Virtuoso's header on a SELECT answer it cut at its ``ResultSetMaxRows`` (or that had exactly that
many rows): the answer is marked truncated, as one mgkg cut at its own row limit."""

STORE_TIMEOUT_PARAMETER: Final = "timeout"
"""The request parameter that gives the store the milliseconds left: Virtuoso stops the query then (an
"anytime query") and answers what it has with :data:`STORE_STATE_HEADER` ``S1TAT``, which mgkg reads as
its timeout; the Oxigraph server ignores it. So an abandoned query does not keep running on Virtuoso."""

STORE_ROWS_PARAMETER: Final = "maxrows"
"""The request parameter that caps the rows a store sends (Virtuoso's; the Oxigraph server ignores it): one
past mgkg's row limit, so that Virtuoso stops there instead of sending the whole answer to be cut."""

STORE_STATE_HEADER: Final = "X-SQL-State"
"""Virtuoso's header naming the SQL state of an incomplete answer (``S1TAT``: stopped by the timeout)."""

_STORE_TIMEOUT: Final = re.compile(r"\s*\S+ S1T00 ")
"""An error answer with the SQL state S1T00 (timeout), as Virtuoso words its ``MaxQueryExecutionTime``:
``Virtuoso S1T00 Error SR171: Transaction timed out`` (status 500)."""

_PORTABLE: Final = "application/sparql-results+json"
"""The results format every SELECT and ASK is asked for (see :func:`wire_format`)."""


def wire_format(media_type: str) -> str:
    """The format to ask the remote store for: SPARQL JSON for every results format, else the format itself.

    CSV is lossy and cannot be parsed back; Virtuoso 7.2.5 writes a TSV of its own (quoted column names,
    IRIs and literals as bare strings, tabs and newlines unescaped) that no TSV parser reads, and blank
    nodes in JSON and XML as ``nodeID://b1``, which is no blank node label; JSON is the one it writes that
    can be mended (:func:`portable_json`). Graph formats are asked for as they are.

    >>> wire_format("text/csv"), wire_format("application/sparql-results+xml"), wire_format("text/turtle")
    ('application/sparql-results+json', 'application/sparql-results+json', 'text/turtle')
    """
    return _PORTABLE if media_type in RESULTS_FORMATS.values() else media_type


def _as_written(body: bytes, media_type: str) -> bool:
    """Whether an answer in ``media_type`` may go to the client as the store wrote it: not SPARQL JSON in
    Virtuoso's dialect (see :func:`portable_json`)."""
    return media_type != _PORTABLE or (b'"typed-literal"' not in body and b"nodeID://" not in body)


def portable_json(body: bytes) -> bytes:
    """A SPARQL JSON answer in SPARQL 1.1's words: Virtuoso writes typed literals with the 2007 draft's type
    ``typed-literal`` and blank nodes as ``nodeID://b1`` (no valid label); both are mended, each blank
    node keeping one label of its own. Answers without them are returned unchanged.

    >>> portable_json(b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"bnode","value":"nodeID://b7"}}]}}')
    b'{"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "bnode", "value": "v0"}}]}}'
    """
    if _as_written(body, _PORTABLE):
        return body
    answer = json.loads(body)
    labels: dict[str, str] = {}
    for row in answer.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "typed-literal":
                term["type"] = "literal"
            elif term.get("type") == "bnode":
                term["value"] = labels.setdefault(term["value"], f"v{len(labels)}")
    return json.dumps(answer).encode()


def ask_answer(body: bytes, wire: str, media_type: str) -> bytes:
    """An ASK answer written as ``media_type``, from the store's answer in ``wire``.

    Virtuoso 7.2.5 answers ASK with a table: one column ``__ASK_RETVAL``, one row holding 1 when the
    answer is true, no row when it is false. That is read as the boolean it stands for.

    >>> table = b'{"head":{"vars":["__ASK_RETVAL"]},"results":{"bindings":['
    >>> true = table + b'{"__ASK_RETVAL":{"type":"typed-literal","value":"1"}}]}}'
    >>> ask_answer(true, "application/sparql-results+json", "text/csv")
    b'true'
    >>> ask_answer(table + b"]}}", "application/sparql-results+json", "application/sparql-results+json")
    b'{"head":{},"boolean":false}'
    """
    answer = ox.parse_query_results(portable_json(body), format=results_format(wire))
    if isinstance(answer, ox.QueryBoolean):
        if wire == media_type:
            return body
        value = bool(answer)
    else:
        value = any(term is not None and term.value not in ("0", "false") for row in answer for term in row)
        logger.debug("remote ASK answered as a table (Virtuoso's __ASK_RETVAL): read as %s", value)
    boolean = ox.parse_query_results(
        b'{"head":{},"boolean":%s}' % str(value).lower().encode(), format=ox.QueryResultsFormat.JSON
    )
    return boolean.serialize(format=results_format(media_type)) or b""


def cut_answer(body: bytes, media_type: str, limit: int, form: str = "SELECT") -> tuple[bytes, bool]:
    """Cut an answer (in ``wire_format(media_type)``) to ``limit`` rows or triples and write it as
    ``media_type``; (body, whether it was cut). An answer within the limit in the format asked for goes
    as the store wrote it (unless :func:`_as_written` says no); the rest is written by
    kg.sparql.results, as the local workers write theirs."""
    wire = wire_format(media_type)
    if form == "ASK":
        return ask_answer(body, wire, media_type), False
    if media_type in RDF_FORMATS:
        triples = list(islice(ox.parse(body, format=RDF_FORMATS[media_type]), limit + 1))
        if len(triples) <= limit:
            return body, False
        return serialize_triples(triples[:limit], media_type), True
    if wire == media_type and _as_written(body, wire) and count_rows(body, wire) <= limit:
        return body, False
    written = write_bounded(_solutions(body, wire), media_type, limit)
    if written is not None:
        return written, False
    solutions = _solutions(body, wire)  # more rows than the limit, perhaps: read them again, keep the first
    kept = list(islice(solutions, limit + 1))
    variables = [v.value for v in solutions.variables]
    return serialize_solutions(variables, kept[:limit], media_type), len(kept) > limit


def _solutions(body: bytes, wire: str) -> ox.QuerySolutions:
    solutions = ox.parse_query_results(portable_json(body), format=results_format(wire))
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions


@dataclass
class RemoteEngine:
    """SPARQL over a remote endpoint, behind the same guard, limits and answer cache as the workers.

    Of its ``options`` it uses the connections (``workers``), the time limit, the row limit, the answer
    cache and the per-client bound; the rest are the local pool's.
    """

    endpoint: str
    named_graphs: frozenset[str] = frozenset(MGKG_GRAPHS)
    options: EngineOptions = field(default_factory=lambda: EngineOptions(workers=8))
    _client: httpx.AsyncClient = field(init=False, repr=False)
    _cache: AnswerCache = field(init=False, repr=False)
    _limiter: ClientLimiter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        limits = httpx.Limits(
            max_connections=self.options.workers, max_keepalive_connections=self.options.workers
        )
        self._client = httpx.AsyncClient(timeout=self.options.timeout_s, limits=limits, trust_env=False)
        self._cache = AnswerCache(self.options.cache_bytes)
        self._limiter = ClientLimiter(self.options.per_client)

    @property
    def graphs(self) -> frozenset[str]:
        """The store's named graphs: the only ones a query may name (see :attr:`names_any_graph`)."""
        return self.named_graphs

    @property
    def names_any_graph(self) -> bool:
        """False: the remote engine might fetch a graph it does not hold (Virtuoso can, when told to),
        and no sandbox stands between it and the network, so only the store's own graphs may be named."""
        return False

    @property
    def egress_sandbox(self) -> bool:
        """Never: the remote server runs the queries, and only the guard keeps SERVICE from it."""
        return False

    async def run(self, query: CheckedQuery, media_type: str, how: RunOptions = PLAIN_RUN) -> SparqlResult:
        """Send the checked query to the endpoint by its deadline (waiting for a connection counts); cut the
        answer at the row limit. ``how`` (:class:`~kg.sparql.answers.RunOptions`): its client is bounded as
        the local pool bounds it, and its base IRI resolves relative FROM graphs (sent as dataset
        parameters); the text itself goes as it is, and the remote endpoint resolves its relative IRIs
        against its own IRI."""
        default, named = how.dataset(query)
        if default is None:
            default = named = sorted(self.named_graphs)
        text = bind_values(query.text, how.substitutions or {})
        method, params = request_form(self.endpoint, text, default, named or ())
        key = (media_type, *params)
        cached = self._cache.get(key) if self._cache.max_bytes else None
        if cached is not None:
            logger.debug("remote answer from the answer cache (%s)", media_type)
            return cached
        logger.debug("remote query by %s to %s (%d dataset graphs)", method, self.endpoint, len(params) - 1)
        headers = {"Accept": wire_format(media_type)}
        try:
            with self._limiter.admit(how.client):
                until = how.deadline_by(self.options.timeout_s)
                async with asyncio.timeout_at(until):
                    grouped = _group(params)
                    # the time left, for a store that stops its own work by it (Virtuoso; others ignore it)
                    grouped[STORE_TIMEOUT_PARAMETER] = [str(max(int((until - time.monotonic()) * 1000), 1))]
                    if query.form != "ASK":  # one row past the limit, so that a cut answer is seen as cut
                        grouped[STORE_ROWS_PARAMETER] = [str(self.options.max_rows + 1)]
                    if method == "GET":
                        response = await self._client.get(self.endpoint, params=grouped, headers=headers)
                    else:
                        response = await self._client.post(self.endpoint, data=grouped, headers=headers)
        except (httpx.TimeoutException, TimeoutError):
            raise QueryTimeoutError(
                f"The query ran past the {self.options.timeout_s:g} s limit of the remote store and was "
                "abandoned. Narrow it (LIMIT, more specific patterns) and try again."
            ) from None
        except httpx.HTTPError as error:
            raise EngineFailureError(f"The remote SPARQL store at {self.endpoint} failed: {error}") from error
        if response.status_code == 400:  # the store's parser rejected the query (run_checked says why)
            raise SparqlSyntaxError.from_engine(response.text[:300])
        if response.headers.get(STORE_STATE_HEADER) == "S1TAT":  # stopped at the time left: incomplete
            raise QueryTimeoutError(
                f"The query ran past the {self.options.timeout_s:g} s limit and the remote store stopped it. "
                "Narrow it (LIMIT, more specific patterns) and try again."
            )
        if response.status_code != 200:
            if _STORE_TIMEOUT.match(response.text):
                raise QueryTimeoutError(
                    f"The query ran past the remote store's own time limit ({response.text[:120].strip()}). "
                    "Narrow it (LIMIT, more specific patterns) and try again."
                )
            raise EngineFailureError(
                f"The remote SPARQL store answered {response.status_code}: {response.text[:300]}"
            )
        body, truncated = cut_answer(response.content, media_type, self.options.max_rows, query.form)
        cut_at = None
        store_cap = response.headers.get(STORE_CUT_HEADER)
        if store_cap is not None:  # the store's own row cap: say so, as for mgkg's
            logger.debug("the remote store cut the answer at %s rows", store_cap)
            truncated = True
            if store_cap.isdigit() and int(store_cap) <= self.options.max_rows:  # lower than mgkg's limit
                cut_at = int(store_cap)
        result = SparqlResult(media_type, body, truncated, cut_at)
        if self._cache.max_bytes:
            self._cache.put(key, result)
        return result

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()


def _group(params: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)
    return grouped
