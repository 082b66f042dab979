"""What every SPARQL engine shares: the answer type, the engine protocol, the dataset rule, the answer cache.

The local worker pool (kg.sparql.pool) and the remote store (kg.stores.remote_engine) both implement
:class:`QueryEngine`; :func:`answer_query` is how the service and the command line answer a query text
on either (the guard, once, then :func:`run_checked`, which reports a syntax error the engine finds in a
screened text as the guard would).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol
from urllib.parse import urljoin

from cachetools import LRUCache

from kg.sparql._wire import Request
from kg.sparql.errors import SparqlSyntaxError
from kg.sparql.guard import CheckedQuery, QueryForm, check_absolute, unguarded_query
from kg.sparql.options import EngineOptions
from kg.sparql.parsers import diagnose_query, guard_query
from kg.sparql.scheduler import LOCAL_CLIENT, deadline_after

CacheKey = tuple[object, ...]


@dataclass(frozen=True)
class SparqlResult:
    """A serialized answer: its media type, body, and whether rows were cut at the row limit.

    ``cut_at`` is set when the rows were cut by another limit than the engine's own ``max_rows``: a
    remote store's own row cap (Virtuoso's ``ResultSetMaxRows``), which may be lower."""

    media_type: str
    body: bytes
    truncated: bool
    cut_at: int | None = None


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How one checked query runs, beside its text and format: built once per request, passed whole.

    ``default_graphs``/``named_graphs``: the protocol's dataset parameters (None: the query's own FROM, or
    else the union default graph); ``substitutions``: variables bound to terms (a named query's
    parameters); ``client``: who asks, for the per-client bound; ``deadline``: monotonic seconds, waiting
    included (None: the engine's time limit from now); ``base_iri``: what relative IRIs resolve against
    (the endpoint's own IRI, as the SPARQL Protocol service's request IRI).
    """

    default_graphs: Sequence[str] | None = None
    named_graphs: Sequence[str] | None = None
    substitutions: Mapping[str, Mapping[str, str]] | None = None
    client: str = LOCAL_CLIENT
    deadline: float | None = None
    base_iri: str | None = None

    def dataset(self, query: CheckedQuery) -> tuple[list[str] | None, list[str] | None]:
        """The RDF dataset of this request for ``query`` (see :func:`dataset_of`)."""
        return dataset_of(query, self.default_graphs, self.named_graphs, self.base_iri)

    @property
    def plain(self) -> bool:
        """Whether nothing is asked beyond the query itself: no dataset parameters, nothing bound."""
        return not (self.default_graphs or self.named_graphs or self.substitutions)

    def plain_for(self, query: CheckedQuery) -> bool:
        """Whether ``query`` runs over the union default graph as it is: :attr:`plain`, and no FROM."""
        return self.plain and not (query.from_graphs or query.from_named)

    def request(self, query: CheckedQuery, media_type: str, max_rows: int) -> Request:
        """The worker request for ``query`` (kg.sparql._wire): nothing is built that the common request
        (no dataset, nothing bound) does not need.

        >>> RunOptions().request(CheckedQuery("ASK {}", "ASK"), "text/csv", 10)
        ('ASK {}', 'text/csv', 10, None, None, None, None)
        >>> named = RunOptions(named_graphs=["urn:g"], base_iri="http://h/")
        >>> named.request(CheckedQuery("ASK {}", "ASK"), "text/csv", 10)
        ('ASK {}', 'text/csv', 10, [], ['urn:g'], None, 'http://h/')
        """
        if self.plain_for(query):
            return (query.text, media_type, max_rows, None, None, None, self.base_iri)
        default, named = self.dataset(query)
        bound = {k: dict(v) for k, v in (self.substitutions or {}).items()} or None
        return (query.text, media_type, max_rows, default, named, bound, self.base_iri)

    def deadline_by(self, timeout_s: float) -> float:
        """The deadline, or ``timeout_s`` from now when none was given."""
        return deadline_after(timeout_s) if self.deadline is None else self.deadline


PLAIN_RUN: Final = RunOptions()
"""A run with nothing asked beyond the query: its own dataset, nothing bound, the local client, the
engine's time limit."""


class QueryEngine(Protocol):
    """What the service asks of a SPARQL engine, local worker pool or remote store alike."""

    options: EngineOptions
    """Its limits and tuning (kg.sparql.options): the time limit, the row limit, the workers, ..."""

    @property
    def egress_sandbox(self) -> bool:
        """Whether the processes that run queries are unable to open network sockets (kg.sparql.sandbox)."""
        ...

    @property
    def graphs(self) -> frozenset[str]:
        """The named graphs the store holds."""
        ...

    @property
    def names_any_graph(self) -> bool:
        """Whether a query may name graphs the store does not hold (FROM, FROM NAMED, the protocol's
        graph parameters), read as empty graphs as the SPARQL Protocol and Oxigraph read them: true for an
        engine that reads only its own store and fetches nothing; false where the engine might fetch a
        graph it does not hold (a remote store), so that only :attr:`graphs` may be named."""
        ...

    async def run(self, query: CheckedQuery, media_type: str, how: RunOptions = PLAIN_RUN) -> SparqlResult:
        """Run a checked query by its deadline (:class:`RunOptions`: its dataset, bound parameters, client,
        deadline and base IRI) and return its serialized answer."""
        ...

    async def close(self) -> None:
        """Release workers, connections and temporary files."""
        ...


async def run_checked(
    engine: QueryEngine, query: CheckedQuery, media_type: str, how: RunOptions = PLAIN_RUN
) -> SparqlResult:
    """Run a checked query on an engine (``how``: see :meth:`QueryEngine.run`); when the engine cannot
    parse a screened query, say why exactly.

    The engine's parser is the first to read a screened query (see :func:`screen_query`); its syntax
    error is replaced by the guard's own verdict (an update's refusal, or rdflib's line and column),
    worked out in a parser process (kg.sparql.parsers) within the engine's time limit.
    """
    try:
        return await engine.run(query, media_type, how)
    except SparqlSyntaxError as error:
        if query.parsed:
            raise
        raise await diagnose_query(query.text, error, engine.options.timeout_s) from None


async def answer_query(
    engine: QueryEngine,
    text: str,
    choose_media_type: Callable[[QueryForm], str],
    *,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
    substitutions: Mapping[str, Mapping[str, str]] | None = None,
    client: str = LOCAL_CLIENT,
    deadline: float | None = None,
    timeout_s: float | None = None,
    guard: bool = True,
    base_iri: str | None = None,
) -> SparqlResult:
    """Check, choose a format, run: the one way the service and the command line answer a query text.

    The guard (:func:`~kg.sparql.parsers.guard_query`, one call) normalises the text, screens or parses
    it (in a parser process, within ``timeout_s``, default the engine's time limit), refuses what writes
    or reaches outside (the protocol's graph parameters and FROM against ``engine.graphs``, unless
    ``engine.names_any_graph``) and returns
    the normalised text, which is what the engine runs. ``choose_media_type`` picks the answer's media
    type from the query's form (it raises the caller's own error when nothing fits). ``guard=False`` is
    for tests and diagnosis only (MGKG_SPARQL_GUARD): the text goes to the engine as sent.
    """
    limit = engine.options.timeout_s if timeout_s is None else timeout_s
    checked = (
        await guard_query(
            text,
            None if engine.names_any_graph else engine.graphs,
            timeout_s=limit,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
        )
        if guard
        else unguarded_query(text)
    )
    how = RunOptions(default_graphs or None, named_graphs or None, substitutions, client, deadline, base_iri)
    return await run_checked(engine, checked, choose_media_type(checked.form), how)


def dataset_of(
    query: CheckedQuery,
    default_graphs: Sequence[str] | None,
    named_graphs: Sequence[str] | None,
    base_iri: str | None = None,
) -> tuple[list[str] | None, list[str] | None]:
    """The RDF dataset of a request, as the SPARQL 1.1 Protocol orders it: (default graphs, named graphs).

    Protocol parameters (default-graph-uri / named-graph-uri) override the query's FROM / FROM NAMED;
    with neither, (None, None) means the default graph is the union of the named graphs. A dataset
    naming only FROM NAMED graphs has an empty default graph, as the spec says. A graph named twice is one
    graph: repeats are dropped (first occurrence kept), so they multiply neither the graphs nor the work.
    A relative FROM IRI resolves against ``base_iri`` (the endpoint's IRI), as Oxigraph resolves it; one
    that is still no absolute IRI is a :class:`~kg.sparql.guard.DatasetIriError`.

    >>> dataset_of(CheckedQuery("ASK {}", "ASK", ("urn:g",)), None, None)
    (['urn:g'], [])
    >>> dataset_of(CheckedQuery("ASK {}", "ASK"), None, None)
    (None, None)
    >>> dataset_of(CheckedQuery("ASK {}", "ASK"), ["urn:b", "urn:a", "urn:b"], ["urn:a"] * 3)
    (['urn:b', 'urn:a'], ['urn:a'])
    """
    if default_graphs or named_graphs:
        return _unique(default_graphs or ()), _unique(named_graphs or ())
    if query.from_graphs or query.from_named:
        default = [urljoin(base_iri, iri) if base_iri else iri for iri in query.from_graphs]
        named = [urljoin(base_iri, iri) if base_iri else iri for iri in query.from_named]
        check_absolute(default, "FROM")
        check_absolute(named, "FROM NAMED")
        return _unique(default), _unique(named)
    return None, None


def _unique(iris: Sequence[str]) -> list[str]:
    """The IRIs without repeats, in the order they first occur."""
    return list(dict.fromkeys(iris))


def _answer_size(result: SparqlResult) -> int:
    return len(result.body)


class AnswerCache:
    """Serialized answers by request key, bounded in bytes (LRU; answers over 1 MiB are not kept).

    The store never changes while an engine runs, so a cached answer stays right and a repeated query
    costs a dict lookup. ``max_bytes=0`` turns it off. A ``cachetools.LRUCache`` whose sizes are the
    answers' bytes keeps the bound.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: LRUCache[CacheKey, SparqlResult] = LRUCache(maxsize=max_bytes, getsizeof=_answer_size)

    def get(self, key: CacheKey) -> SparqlResult | None:
        """The cached answer, marked recently used, or None."""
        return self._entries.get(key)

    def put(self, key: CacheKey, result: SparqlResult) -> None:
        """Keep an answer if it fits, evicting the least recently used."""
        if len(result.body) > min(2**20, self.max_bytes):
            return
        self._entries[key] = result


def request_key(request: Request) -> CacheKey:
    """A hashable answer-cache key for a request: the request itself, with lists and dicts as tuples.

    >>> request_key(("ASK {}", "text/csv", 10, None, None, None, None))
    ('ASK {}', 'text/csv', 10, None, None, None, None)
    >>> bound = {"x": {"type": "iri", "value": "urn:x"}}
    >>> request_key(("ASK {}", "text/csv", 10, ["urn:g"], [], bound, None))
    ('ASK {}', 'text/csv', 10, ('urn:g',), (), (('x', (('type', 'iri'), ('value', 'urn:x'))),), None)
    """
    text, media_type, limit, default, named, bound, base = request
    if default is None and named is None and bound is None:
        return request
    return (
        text,
        media_type,
        limit,
        None if default is None else tuple(default),
        None if named is None else tuple(named),
        None if bound is None else tuple(sorted((k, tuple(sorted(v.items()))) for k, v in bound.items())),
        base,
    )
