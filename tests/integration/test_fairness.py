"""Fair and bounded SPARQL under load: deadlines, the per-client bound, preemption, cancellation, row
cutting and graph de-duplication, through kg.sparql's engine and the app over HTTP (TestClient).

The engine tests drive :class:`SparqlEngine` directly, with clients named as the service names them (by
address); a real `mgkg serve` is exercised in test_serve_limits.py.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from kg.graph.knowledge import KnowledgeGraph
from kg.model.vocab import ASSERTED_GRAPH, INFERRED_GRAPH
from kg.sparql import (
    ClientLimitError,
    EngineBusyError,
    EngineOptions,
    QueryPreemptedError,
    QueryTimeoutError,
    RunOptions,
    SparqlEngine,
    check_query,
)

RUNAWAY = check_query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")
CROSS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"
LENIENT = {"Prefer": "handling=lenient"}
"""Ask for an answer cut at the row limit (without it, a cut answer is a 403: test_sparql_clients.py)."""
CSV = "text/csv"
PROBLEM = "application/problem+json"
T = TypeVar("T")


def simple(n: int) -> str:
    """A quick query a worker answers, with a text of its own (so that no cache answers it): a join, since
    one triple pattern alone is answered in the serving process (kg.sparql.inline) and needs no worker."""
    return f"ASK {{ ?s{n} ?p ?o . ?o ?q ?r }}"


async def started(task: asyncio.Task[object]) -> None:
    """Let a just-created query task reach its worker (admission and dispatch happen before any wait)."""
    for _ in range(3):
        await asyncio.sleep(0)
    assert not task.done()


def run_engine(
    graph: KnowledgeGraph,
    scenario: Callable[[SparqlEngine], Awaitable[T]],
    *,
    workers: int,
    timeout_s: float = 60.0,
    preempt_after_s: float = 60.0,
    per_client: int = 0,
) -> T:
    """Start an engine (answer cache off), run ``scenario(engine)`` in an event loop, stop the engine."""

    async def main() -> T:
        engine = await SparqlEngine.from_dataset(
            graph.dataset,
            EngineOptions(
                cache_bytes=0,
                workers=workers,
                timeout_s=timeout_s,
                preempt_after_s=preempt_after_s,
                per_client=per_client,
            ),
        )
        try:
            return await scenario(engine)
        finally:
            await engine.close()

    return asyncio.run(main())


def test_one_client_is_bounded_and_others_are_not(knowledge_graph: KnowledgeGraph) -> None:
    async def scenario(engine: SparqlEngine) -> None:
        runaway = asyncio.create_task(engine.run(RUNAWAY, CSV, RunOptions(client="10.0.0.1")))
        await started(runaway)
        with pytest.raises(ClientLimitError) as refused:
            await engine.run(check_query(simple(1)), CSV, RunOptions(client="10.0.0.1"))
        assert "MGKG_SPARQL_PER_CLIENT=1" in str(refused.value)
        other = await engine.run(check_query(simple(2)), CSV, RunOptions(client="10.0.0.2"))
        assert b"true" in other.body
        runaway.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runaway
        again = await engine.run(
            check_query(simple(3)), CSV, RunOptions(client="10.0.0.1")
        )  # its slot is free again
        assert b"true" in again.body

    run_engine(knowledge_graph, scenario, workers=2, per_client=1, timeout_s=60.0, preempt_after_s=60.0)


def test_a_cancelled_query_frees_its_worker(knowledge_graph: KnowledgeGraph) -> None:
    """With one worker, a runaway whose caller went away must not keep the next query waiting."""

    async def scenario(engine: SparqlEngine) -> bytes:
        runaway = asyncio.create_task(engine.run(RUNAWAY, CSV, RunOptions(client="10.0.0.1")))
        await started(runaway)
        waiting = asyncio.create_task(engine.run(RUNAWAY, CSV, RunOptions(client="10.0.0.3")))
        await started(waiting)
        waiting.cancel()  # a waiting query leaves the queue
        runaway.cancel()  # a running one has its worker replaced
        for task in (waiting, runaway):
            with pytest.raises(asyncio.CancelledError):
                await task
        answer = await engine.run(check_query(simple(1)), CSV, RunOptions(client="10.0.0.2"))
        return answer.body

    assert b"true" in run_engine(knowledge_graph, scenario, workers=1, timeout_s=60.0, preempt_after_s=60.0)


def test_waiting_counts_against_the_deadline(knowledge_graph: KnowledgeGraph) -> None:
    async def scenario(engine: SparqlEngine) -> tuple[str, str]:
        runaway = asyncio.create_task(engine.run(RUNAWAY, CSV, RunOptions(client="10.0.0.1")))
        await started(runaway)
        with pytest.raises(EngineBusyError) as busy:  # never got the worker before its deadline
            await engine.run(
                check_query(simple(1)), CSV, RunOptions(client="10.0.0.2", deadline=time.monotonic() + 0.3)
            )
        runaway.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runaway
        await engine.run(check_query(simple(2)), CSV)  # the replacement worker is up: nothing waits now
        with pytest.raises(QueryTimeoutError) as late:  # the deadline, not timeout_s, stops a running query
            await engine.run(RUNAWAY, CSV, RunOptions(client="10.0.0.1", deadline=time.monotonic() + 0.5))
        return str(busy.value), str(late.value)

    busy, late = run_engine(knowledge_graph, scenario, workers=1, timeout_s=60.0, preempt_after_s=60.0)
    assert "waiting counts" in busy
    assert "waiting for a worker counts" in late


def test_quick_queries_get_a_worker_while_runaways_hold_them_all(knowledge_graph: KnowledgeGraph) -> None:
    """Two clients' runaways hold both workers; a third client's quick queries are still answered."""

    async def scenario(engine: SparqlEngine) -> tuple[list[bytes], list[BaseException | None]]:
        runaways = [
            asyncio.create_task(engine.run(RUNAWAY, CSV, RunOptions(client=f"10.0.0.{n}"))) for n in (1, 2)
        ]
        for task in runaways:
            await started(task)
        answers = []
        for n in range(3):
            deadline = time.monotonic() + 30.0
            result = await engine.run(
                check_query(simple(n)), CSV, RunOptions(client="10.0.0.3", deadline=deadline)
            )
            answers.append(result.body)
        outcomes: list[BaseException | None] = []
        for task in runaways:
            if not task.done():
                task.cancel()
            try:
                await task
                outcomes.append(None)
            except (asyncio.CancelledError, QueryPreemptedError) as error:
                outcomes.append(error)
        return answers, outcomes

    answers, outcomes = run_engine(knowledge_graph, scenario, workers=2, timeout_s=60.0, preempt_after_s=0.5)
    assert all(b"true" in body for body in answers)
    preempted = [error for error in outcomes if isinstance(error, QueryPreemptedError)]
    assert len(preempted) == 1  # one runaway made room; the other kept its worker
    assert "other clients' queries waited" in str(preempted[0])


def test_a_heavy_client_never_takes_the_last_worker(knowledge_graph: KnowledgeGraph) -> None:
    """Once a client's query has run long, its queries together leave one worker free for others."""

    async def scenario(engine: SparqlEngine) -> bytes:
        with pytest.raises(QueryTimeoutError):  # ran past preempt_after_s: the client is now heavy
            await engine.run(RUNAWAY, CSV, RunOptions(client="10.0.0.1", deadline=time.monotonic() + 0.6))
        await engine.run(check_query(simple(0)), CSV)  # the timed-out worker's replacement is up
        first = asyncio.create_task(engine.run(RUNAWAY, CSV, RunOptions(client="10.0.0.1")))
        await started(first)
        with pytest.raises(EngineBusyError):  # a free worker exists, but it is the last one
            await engine.run(RUNAWAY, CSV, RunOptions(client="10.0.0.1", deadline=time.monotonic() + 0.5))
        quick = await engine.run(check_query(simple(1)), CSV, RunOptions(client="10.0.0.2"))
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        return quick.body

    assert b"true" in run_engine(knowledge_graph, scenario, workers=2, preempt_after_s=0.3)


# --- Over HTTP (TestClient: the app's own limits) --------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = Settings(sparql_max_rows=40, sparql_cache_bytes=0, sparql_timeout_s=30.0, max_url_bytes=4_000)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_a_cross_product_is_cut_at_the_row_limit(client: TestClient, fmt: str) -> None:
    response = client.get("/sparql", params={"query": CROSS, "format": fmt}, headers=LENIENT)
    assert response.status_code == 200, response.text
    assert response.headers["MGKG-Results-Truncated"] == "40"
    if fmt == "json":
        assert len(response.json()["results"]["bindings"]) == 40
    elif fmt == "xml":
        assert response.text.count("<result>") == 40
    elif fmt == "csv":  # a quoted CSV field may hold line breaks: count records, not lines
        assert len(list(csv.reader(io.StringIO(response.text)))) == 41  # the header and 40 rows
    else:  # TSV escapes line breaks inside a term, so a line is a row
        assert len(response.text.strip().splitlines()) == 41


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_a_cut_answer_is_written_as_the_uncut_answer_of_its_rows(client: TestClient, fmt: str) -> None:
    """The rows kept at the row limit come back byte for byte as pyoxigraph writes the same rows uncut
    (languages, datatypes and blank nodes survive the way a cut answer is written). The query is ordered:
    the two answers come from different copies of the store (two workers, or a worker and the server
    process), and an unordered query's rows may come in another order from each copy."""
    query = "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    cut = client.get("/sparql", params={"query": query, "format": fmt}, headers=LENIENT)
    uncut = client.get("/sparql", params={"query": query + " LIMIT 40", "format": fmt}, headers=LENIENT)
    assert cut.headers["MGKG-Results-Truncated"] == "40"
    assert "MGKG-Results-Truncated" not in uncut.headers
    assert cut.content == uncut.content


def test_an_answer_of_exactly_the_limit_is_not_marked_cut(client: TestClient) -> None:
    exact = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 40"})
    assert len(exact.json()["results"]["bindings"]) == 40
    assert "MGKG-Results-Truncated" not in exact.headers


def test_a_graph_named_many_times_is_one_graph(client: TestClient) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

    def triples(**graphs: list[str]) -> int:
        params: list[tuple[str, str]] = [("query", count)]
        for name, iris in graphs.items():
            params += [(name.replace("_", "-"), iri) for iri in iris]
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        response = client.post("/sparql", content=urlencode(params), headers=form)
        assert response.status_code == 200, response.text
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    once = triples(default_graph_uri=[str(ASSERTED_GRAPH)])
    assert once > 0
    assert triples(default_graph_uri=[str(ASSERTED_GRAPH)] * 500) == once
    both = triples(default_graph_uri=[str(ASSERTED_GRAPH), str(INFERRED_GRAPH)])
    assert triples(default_graph_uri=[str(ASSERTED_GRAPH), str(INFERRED_GRAPH)] * 100) == both
    asserted = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    params = [("query", asserted)] + [("named-graph-uri", str(ASSERTED_GRAPH))] * 3  # in the URL too
    by_named = client.get("/sparql", params=params).json()["results"]["bindings"][0]["n"]["value"]
    assert int(by_named) == once


def test_a_long_get_is_told_to_use_post(client: TestClient) -> None:
    text = "ASK { ?s ?p ?o }" + " " * 5_000
    response = client.get("/sparql", params={"query": text})
    assert response.status_code == 414
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == 414
    assert body["type"] == "https://w3id.org/mgkg/problems/uri-too-long"
    assert "POST" in body["detail"]
    by_post = client.post("/sparql", data={"query": text})  # the same query by POST is answered
    assert by_post.json()["boolean"] is True


def test_a_refusal_is_logged_with_its_client(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="api.errors")
    settings = Settings(
        cache_dir=tmp_path, sparql_workers=1, sparql_per_client=1, sparql_cache_bytes=0, sparql_timeout_s=5.0
    )
    runaway_text = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(1) as pool:
        runaway = pool.submit(client.get, "/sparql", params={"query": runaway_text})
        refused, n = None, 0
        while refused is None:  # until the runaway holds this client's one place
            if runaway.done():
                if runaway.result().status_code != 429:
                    break
                # the runaway arrived while a simple query held the place: send it again
                runaway = pool.submit(client.get, "/sparql", params={"query": runaway_text})
            n += 1
            response = client.get("/sparql", params={"query": simple(n)})
            refused = response if response.status_code == 429 else None
        assert refused is not None
        assert runaway.result().status_code == 504
    decisions = [r.getMessage() for r in caplog.records if r.name == "api.errors"]
    assert any(": 429 (ClientLimitError" in m and "from testclient" in m for m in decisions), decisions
    assert any(": 504 (QueryTimeoutError" in m for m in decisions), decisions
