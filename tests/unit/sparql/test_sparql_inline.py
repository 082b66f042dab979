"""One-pattern queries answered in the serving process (kg.sparql.inline) answer as a worker answers them.

Hypothesis writes one-pattern queries over the shipped graph's own terms (variables, full IRIs, prefixed
names, ``a``; SELECT with a projection, LIMIT and OFFSET in either order, or ASK; keywords in any case,
comments between tokens) and each is answered by an engine that answers it in process and by one that
sends every query to a worker: the bodies must be the same bytes, in every results format, and so must
each of many sent together (answered in turns, one of them given up). The texts
that must go to a worker (joins, filters, strings, repeated variables, more rows than the bound) are
never taken, and whatever a text holds, what runs in process is one triple pattern with a LIMIT.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import RDF, URIRef

from kg.graph.knowledge import KnowledgeGraph
from kg.sparql import EngineOptions, SparqlEngine, answer_query
from kg.sparql.inline import TURN_QUERIES, recognize
from kg.sparql.results import RESULTS_FORMATS
from tests.conftest import LoopThread

T = TypeVar("T")
BOUND = 60
CANONICAL = re.compile(
    r"(SELECT (\*|\?\w+( \?\w+)*) WHERE \{ (\S+ ){3}\} LIMIT \d+ OFFSET \d+|ASK WHERE \{ (\S+ ){3}\})"
)
"""What may run in process: one triple pattern of three tokens without spaces, and a LIMIT."""


class _Engines(LoopThread):
    """Two engines on the shipped graph, in a loop thread: one answering in process, one workers only."""

    def __init__(self, graph: KnowledgeGraph) -> None:
        super().__init__()
        in_process = EngineOptions(workers=1, inline_rows=BOUND)
        self.inline = self.call(SparqlEngine.from_dataset(graph.dataset, in_process), 60)
        workers_only = EngineOptions(workers=1, inline_rows=0)
        self.workers = self.call(SparqlEngine.from_dataset(graph.dataset, workers_only), 60)

    def answers(self, text: str, media_type: str) -> tuple[bytes, bytes]:
        def answer(engine: SparqlEngine) -> bytes:
            return self.call(answer_query(engine, text, lambda _form: media_type), 60).body

        return answer(self.inline), answer(self.workers)


@pytest.fixture(scope="module")
def engines(knowledge_graph: KnowledgeGraph) -> Iterator[_Engines]:
    both = _Engines(knowledge_graph)
    try:
        yield both
    finally:
        both.call(both.inline.close())
        both.call(both.workers.close())
        both.close()


@pytest.fixture(scope="module")
def iris(knowledge_graph: KnowledgeGraph) -> tuple[list[str], list[str], list[str]]:
    """Subjects, predicates and IRI objects of the asserted graph (sorted: the draws are reproducible)."""
    graph = knowledge_graph.asserted.graph
    subjects = sorted({str(s) for s in graph.subjects() if isinstance(s, URIRef)})[:200]
    predicates = sorted({str(p) for p in graph.predicates()})
    objects = sorted({str(o) for o in graph.objects() if isinstance(o, URIRef)})[:200]
    return subjects, predicates, objects


def _split(iri: str) -> tuple[str, str] | None:
    """(namespace, local name) where the IRI can be written as a simple prefixed name."""
    found = re.fullmatch(r"(.*[/#])([A-Za-z0-9_][A-Za-z0-9_\-]*)", iri)
    return (found[1], found[2]) if found else None


@st.composite
def pattern_query(draw: st.DrawFn, iris: tuple[list[str], list[str], list[str]]) -> str:
    """A one-pattern query the in-process path takes (see the module)."""
    prefixes: dict[str, str] = {}
    gap = st.sampled_from([" ", "\n", "  ", " # SERVICE <http://x/> FROM <urn:g>\n", "\t"])

    def term(choices: list[str], name: str, rdf_type: bool = False) -> str:
        kind = draw(st.integers(0, 3))
        if kind == 0 or not choices:
            return f"{draw(st.sampled_from('?$'))}{name}"
        iri = draw(st.sampled_from(choices))
        if rdf_type and iri == str(RDF.type) and draw(st.booleans()):
            return "a"
        split = _split(iri)
        if kind == 2 and split is not None:
            prefix = f"p{len(prefixes)}"
            prefixes.setdefault(split[0], prefix)
            return f"{prefixes[split[0]]}:{split[1]}"
        return f"<{iri}>"

    subjects, predicates, objects = iris
    s, p, o = term(subjects, "s"), term(predicates, "p", rdf_type=True), term(objects, "o")
    dot = draw(st.sampled_from(["", " .", "."]))
    where = draw(st.sampled_from(["", "WHERE ", "where "]))
    body = f"{where}{{{draw(gap)}{s} {p} {o}{dot}{draw(gap)}}}"
    if draw(st.booleans()):
        form = f"{draw(st.sampled_from(['ASK', 'ask']))}{draw(gap)}{body}"
    else:
        names = draw(st.lists(st.sampled_from(["?s", "?p", "?o", "?z"]), unique=True))
        projection = " ".join(names) or "*"
        limit = draw(st.integers(0, BOUND // 2))
        offset = draw(st.integers(0, BOUND // 2))
        modifiers = draw(
            st.sampled_from(
                [f"LIMIT {limit}", f"LIMIT {limit} OFFSET {offset}", f"offset {offset} limit {limit}"]
            )
        )
        form = f"{draw(st.sampled_from(['SELECT', 'select']))} {projection}{draw(gap)}{body} {modifiers}"
    prologue = "".join(f"PREFIX {prefix}: <{namespace}>\n" for namespace, prefix in prefixes.items())
    return prologue + form


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_answered_in_process_as_a_worker_answers(
    engines: _Engines, iris: tuple[list[str], list[str], list[str]], data: st.DataObject
) -> None:
    text = data.draw(pattern_query(iris))
    media_type = data.draw(st.sampled_from(list(RESULTS_FORMATS.values())))
    assert recognize(text, BOUND) is not None, text  # the in-process path is the one under test
    in_process, by_worker = engines.answers(text, media_type)
    assert in_process == by_worker, text


def _always(media_type: str) -> Callable[[str], str]:
    return lambda _form: media_type


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sent_together_each_is_answered_as_alone(
    engines: _Engines, iris: tuple[list[str], list[str], list[str]], data: st.DataObject
) -> None:
    """Queries that arrive together are answered in the event loop's next turns (more than one turn holds,
    at times), each with its own answer; one whose caller gives up before its turn is dropped, and the
    others are answered all the same."""
    texts = data.draw(st.lists(pattern_query(iris), min_size=2, max_size=TURN_QUERIES + 8))
    media_types = [data.draw(st.sampled_from(list(RESULTS_FORMATS.values()))) for _ in texts]
    dropped = data.draw(st.integers(0, len(texts) - 1))

    async def together() -> list[bytes | BaseException]:
        tasks = [
            asyncio.ensure_future(answer_query(engines.inline, text, _always(media_type)))
            for text, media_type in zip(texts, media_types, strict=True)
        ]
        await asyncio.sleep(0)  # each task has sent its query; the turn that answers them comes after this
        tasks[dropped].cancel()
        found = await asyncio.gather(*tasks, return_exceptions=True)
        return [answer if isinstance(answer, BaseException) else answer.body for answer in found]

    found = engines.call(together(), 60)
    assert isinstance(found[dropped], asyncio.CancelledError)
    for at, (text, media_type) in enumerate(zip(texts, media_types, strict=True)):
        if at != dropped:
            assert found[at] == engines.answers(text, media_type)[1], text


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { ?s ?p ?o . ?o ?q ?r } LIMIT 5",  # a join
        "SELECT * WHERE { ?s ?p ?o FILTER(?o = 1) } LIMIT 5",  # a filter may scan everything
        "SELECT DISTINCT ?p WHERE { ?s ?p ?o } LIMIT 5",  # so may DISTINCT
        "SELECT * WHERE { ?s ?p 'service' } LIMIT 5",  # a string
        "SELECT * WHERE { ?x ?x ?o } LIMIT 5",  # a repeated variable
        f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {BOUND + 1}",  # more rows than the bound
        f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {BOUND} OFFSET 1",
        "SELECT * WHERE { ?s ?p ?o }",  # no LIMIT
        "SELECT * WHERE { ?s ex:p ?o } LIMIT 5",  # an undeclared prefix
        "BASE <http://x/> SELECT * WHERE { ?s <p> ?o } LIMIT 5",  # a relative IRI
        "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 5",
        "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } } LIMIT 5",
        "SELECT * WHERE { ?s ?p ?o } LIMIT 5 # '''\n SERVICE <http://x/> {} '''",
        "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 5",
    ],
)
def test_what_needs_a_worker_is_never_taken(text: str) -> None:
    assert recognize(text, BOUND) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="SELECTASKWHERLIMOFFSTPRXVIC?$<>:{}.# \n'\"*abc0123456789/-_", max_size=90))
def test_what_runs_in_process_is_one_pattern_whatever_the_text(text: str) -> None:
    query = recognize(text, BOUND)
    if query is not None:
        assert CANONICAL.fullmatch(query.text), (text, query.text)
