"""Per-process state of the service (built by the lifespan, read through api/deps): state, caches, catalog."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from cachetools import LRUCache

from api.config import Settings
from api.models import CitationsResponse, CitedPassageResponse, LinkResponse, SourceResponse
from kg.causal.causes import Causes, find_causes
from kg.causal.network import LINK, CausalNetwork, LinkData
from kg.causal.recommend import RecommendationCatalog, advise
from kg.causal.why import explain
from kg.graph.knowledge import KnowledgeGraph
from kg.model.types import Citation, Explanation, LinkRef, Severity
from kg.render.document import compact, compact_causes
from kg.render.graphviz import Renderer
from kg.sparql import QueryEngine
from kg.stores.base import StoreInfo

logger = logging.getLogger(__name__)

STATE_KEY: Final = "mgkg"
"""The key of the ServiceState in the lifespan state (request.state)."""

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

WhyKey = tuple[str, str, Severity | None, int, int]
"""A /why question: (finding, source, context, max_paths, max_hops)."""
CausesKey = tuple[str, Severity | None, int, int]
"""A /causes question: (finding, context, max_paths, max_hops)."""


class AnswerCache(Generic[K, V]):
    """Answers by key in a cachetools LRUCache, least recently used dropped first; ``size`` 0 keeps none.

    A subclass says how to compute an answer (:meth:`_compute`); a key whose computation raises (an
    unknown name's 404) is not remembered, since that key space is unbounded. The lock makes the cache
    safe for the threads answers are computed in (cachetools' caches are not thread-safe); the
    computation itself runs outside it. Hits and misses are logged at debug level.

    >>> class Squares(AnswerCache[int, int]):
    ...     def _compute(self, key: int) -> int:
    ...         return key * key
    >>> squares = Squares(size=2)
    >>> squares.get(3) is None, squares.answer(3), squares.get(3)
    (True, 9, 9)
    >>> _ = squares.answer(4), squares.answer(5)
    >>> squares.get(3) is None  # the least recently used went first
    True
    """

    name: str = "answer"
    """What the cache holds, for the log."""

    def __init__(self, size: int) -> None:
        self._entries: LRUCache[K, V] | None = LRUCache(maxsize=size) if size else None
        self._lock = threading.Lock()

    def _compute(self, key: K) -> V:
        """The answer for ``key``, computed afresh."""
        raise NotImplementedError

    def get(self, key: K) -> V | None:
        """The remembered answer, if any (marks it recently used)."""
        if self._entries is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
        logger.debug("%s cache %s: %r", self.name, "miss" if entry is None else "hit", key)
        return entry

    def compute(self, key: K) -> V:
        """Compute the answer for ``key`` and remember it."""
        entry = self._compute(key)
        if self._entries is not None:
            with self._lock:
                self._entries[key] = entry
        return entry

    def answer(self, key: K) -> V:
        """The remembered answer, or a new one, remembered."""
        entry = self.get(key)
        return entry if entry is not None else self.compute(key)


class WhyCache(AnswerCache[WhyKey, tuple[Explanation, bytes]]):
    """Answers of /why by :data:`WhyKey`, as Explanations and their compact JSON bytes.

    Caching the serialized JSON too means a repeated question costs a dict lookup, not a path search and a
    pydantic dump.
    """

    name = "why"

    def __init__(
        self, network: CausalNetwork, size: int, recommendations: RecommendationCatalog | None = None
    ) -> None:
        super().__init__(size)
        self._network = network
        self._recommendations = recommendations if recommendations is not None else RecommendationCatalog(())

    def _compute(self, key: WhyKey) -> tuple[Explanation, bytes]:
        """Explain (raising UnknownNodeError for an unknown name) and add the recommendations."""
        finding, source, context, max_paths, max_hops = key
        explanation = advise(
            explain(
                self._network, finding, source=source, context=context, max_paths=max_paths, max_hops=max_hops
            ),
            self._recommendations,
        )
        return explanation, compact(explanation).model_dump_json().encode()


class CausesCache(AnswerCache[CausesKey, tuple[Causes, bytes]]):
    """Answers of /causes by :data:`CausesKey`, as Causes and their compact JSON bytes."""

    name = "causes"

    def __init__(self, network: CausalNetwork, recommendations: RecommendationCatalog, size: int) -> None:
        super().__init__(size)
        self._network, self._recommendations = network, recommendations

    def _compute(self, key: CausesKey) -> tuple[Causes, bytes]:
        """Find the causes (raising UnknownNodeError for an unknown name), with the recommendations."""
        finding, context, max_paths, max_hops = key
        causes = find_causes(
            self._network,
            finding,
            context=context,
            max_paths=max_paths,
            max_hops=max_hops,
            recommendations=self._recommendations,
        )
        return causes, compact_causes(causes).model_dump_json().encode()


@dataclass(frozen=True)
class Catalog:
    """Indexes over the network built once at start-up, so that lookups by id cost a dict access."""

    links: dict[str, LinkResponse]
    outgoing: dict[str, tuple[LinkResponse, ...]]
    incoming: dict[str, tuple[LinkResponse, ...]]
    citations: CitationsResponse


def _link_response(network: CausalNetwork, cause: str, effect: str, data: LinkData) -> LinkResponse:
    return LinkResponse(
        link=data.ref,
        cause=network.node(cause),
        effect=network.node(effect),
        polarity="positive" if data.sign > 0 else "negative",
        predicate="increases" if data.sign > 0 else "decreases",
        mechanisms=data.mechanisms,
        context=data.context,
        citations=data.citations,
        evidence_types=data.evidence_types,
        evidence_summary=data.summary,
    )


def build_catalog(network: CausalNetwork) -> Catalog:
    """Index every link by IRI and by its ends, and group the citations by source document."""
    links: dict[str, LinkResponse] = {}
    outgoing: defaultdict[str, list[LinkResponse]] = defaultdict(list)
    incoming: defaultdict[str, list[LinkResponse]] = defaultdict(list)
    cited: defaultdict[Citation, list[LinkRef]] = defaultdict(list)
    for cause, effect, key, data in sorted(network.graph.edges(keys=True, data=LINK), key=lambda e: e[2]):
        response = _link_response(network, cause, effect, data)
        links[key] = response
        outgoing[cause].append(response)
        incoming[effect].append(response)
        for citation in data.citations:
            cited[citation].append(data.ref)
    by_document: defaultdict[tuple[str, str], list[CitedPassageResponse]] = defaultdict(list)
    for citation in sorted(cited, key=lambda c: (c.document or "", c.identifier, c.section or "")):
        passage = CitedPassageResponse(citation=citation, links=tuple(cited[citation]))
        by_document[(citation.document or "", citation.document_iri or "")].append(passage)
    sources = tuple(
        SourceResponse(document=doc or None, document_iri=iri or None, passages=tuple(passages))
        for (doc, iri), passages in by_document.items()
    )
    return Catalog(
        links,
        {k: tuple(v) for k, v in outgoing.items()},
        {k: tuple(v) for k, v in incoming.items()},
        CitationsResponse(sources=sources),
    )


@dataclass(frozen=True)
class ServiceState:
    """What the lifespan builds once and every request reads: never rebuilt, never mutated per request
    (the /why and /causes caches are the exception, and they only memoize answers of an immutable graph)."""

    settings: Settings
    knowledge: KnowledgeGraph
    sparql: QueryEngine
    store: StoreInfo
    catalog: Catalog
    why_cache: WhyCache
    causes_cache: CausesCache
    renderer: Renderer
