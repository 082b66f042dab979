"""The SPARQL guard, content negotiation and the worker pool, through kg.sparql's public functions.

Which tests run on every store backend: `mgkg query` (the surface a user sees) runs on memory, on-disk
Oxigraph and a remote SPARQL server, like the HTTP tests in integration/api/ and test_queries.py. The guard
and negotiation tests are pure functions with no store, and the time-limit and answer-cache tests
exercise the worker pool of the local engine (SparqlEngine) itself, so they stay on the memory store;
the remote engine's time limit and refusals are covered over HTTP in api/test_sparql_refusals.py.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from api.negotiation import best_media_type
from kg.graph.knowledge import load_knowledge_graph
from kg.model.vocab import ASSERTED_GRAPH
from kg.sparql import (
    EngineOptions,
    QueryRefusedError,
    QueryTimeoutError,
    RunOptions,
    SparqlEngine,
    SparqlSyntaxError,
    check_query,
    run_checked,
)
from kg.sparql.errors import SparqlError
from kg.sparql.guard import (
    GUARD_CACHE,
    CheckedQuery,
    check_graphs,
    from_verdict,
    read_verdict,
    screen_query,
)
from kg.sparql.named_queries import load_named_queries


def parse_query(text: str) -> CheckedQuery:
    """rdflib's verdict on a text, as if the screen had not passed it."""
    verdict = from_verdict(text, read_verdict(text))
    if isinstance(verdict, SparqlError):
        raise verdict
    return verdict


RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
        ("ASK { ?s ?p ?o }", "ASK"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <https://w3id.org/mgkg/id/hypocalcemia>", "DESCRIBE"),
        (f"SELECT * FROM <{ASSERTED_GRAPH}> WHERE {{ ?s ?p ?o }}", "SELECT"),
    ],
)
def test_guard_accepts_read_only_queries(text: str, form: str) -> None:
    assert check_query(text).form == form


UPDATES = [
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "LOAD <http://127.0.0.1:9/x.ttl>",
    "CLEAR ALL",
    "DROP GRAPH <https://w3id.org/mgkg/graph/asserted>",
    "CREATE GRAPH <urn:g>",
    "PREFIX x: <urn:x#> INSERT { ?s x:p 1 } WHERE { ?s ?p ?o }",
]
SERVICES = [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <http://127.0.0.1:9/s> { ?s ?p ?o } } }",
    "SELECT * WHERE { { SELECT ?s WHERE { SERVICE SILENT <http://x.invalid/> { ?s ?p ?o } } } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE ?endpoint { ?s ?p ?o } } }",
]
FOREIGN_GRAPHS = [
    "SELECT * FROM <http://127.0.0.1:9/x.ttl> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        *((text, "update") for text in UPDATES),
        *((text, "service") for text in SERVICES),  # anywhere in the query
        *((text, "dataset") for text in FOREIGN_GRAPHS),
    ],
)
def test_guard_refuses_updates_services_and_foreign_graphs(text: str, reason: str) -> None:
    with pytest.raises(QueryRefusedError) as caught:
        check_query(text)
    assert caught.value.reason == reason


def test_guard_refuses_foreign_protocol_graphs() -> None:
    check_graphs([str(ASSERTED_GRAPH)], "default-graph-uri")
    with pytest.raises(QueryRefusedError):
        check_graphs(["http://127.0.0.1:9/x.ttl"], "named-graph-uri")


def test_syntax_errors_say_where() -> None:
    with pytest.raises(SparqlSyntaxError) as caught:
        parse_query("SELECT ?x WHERE {\n  ?x ?y \n}")
    assert caught.value.line is not None
    assert caught.value.column is not None
    assert "line" in str(caught.value)


def test_parser_verdicts_are_cached() -> None:
    text = "SELECT ?cach\u00e9 WHERE { ?cach\u00e9 ?p ?o } LIMIT 1"
    assert screen_query(text) is None  # non-ASCII code: only the parser may pass it
    assert GUARD_CACHE.get(text) is None
    check_query(text)
    assert GUARD_CACHE.get(text) is not None


# Texts the screen must pass and judge as the parser does: plain queries and odd but valid prologues.
SCREENABLE = [
    "SELECT * WHERE { ?s ?p ?o }",
    "select distinct ?s where { ?s a ?o } limit 3",
    "ASK { ?s ?p ?o }",
    "ask{?s ?p ?o}",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 2",
    "DESCRIBE <https://w3id.org/mgkg/id/hypocalcemia>",
    "describe?x where { ?x a <https://w3id.org/mgkg/vocab#ClinicalFinding> }",
    "BASE <https://w3id.org/mgkg/id/>\nPREFIX : <https://w3id.org/mgkg/vocab#>\n# why?\n"
    "SELECT ?x { ?x :about <hypocalcemia> }",
    "PREFIX mgkg:<https://w3id.org/mgkg/vocab#>PREFIX x.y-z_1:<urn:x#>SELECT*{?s mgkg:cause ?o}",
    "  \t\r\n# SELECT in a comment\n#\nCONSTRUCT WHERE { ?s a ?o }",
]


@pytest.mark.parametrize("text", SCREENABLE)
def test_screen_agrees_with_the_parser(text: str) -> None:
    screened = screen_query(text)
    assert screened is not None, "the screen should pass this text without a parse"
    parsed = parse_query(text)
    assert (screened.form, screened.from_graphs, screened.from_named) == (
        parsed.form,
        parsed.from_graphs,
        parsed.from_named,
    )
    assert not screened.parsed
    assert parsed.parsed


@pytest.mark.parametrize("name", sorted(load_named_queries()))
def test_named_queries_check_as_the_parser_reads_them(name: str) -> None:
    """Whether or not the fast screen passes a named query (bench/bench_named_queries.py prints which do),
    the guard's verdict on it is the parser's, and a screen that passes it judges it as the parser does."""
    text = load_named_queries()[name].text
    parsed = parse_query(text)
    checked = check_query(text)
    assert (checked.form, checked.from_graphs, checked.from_named) == (
        parsed.form,
        parsed.from_graphs,
        parsed.from_named,
    )
    screened = screen_query(text)
    if screened is not None:
        assert (screened.form, screened.from_graphs, screened.from_named) == (
            parsed.form,
            parsed.from_graphs,
            parsed.from_named,
        )


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { sErViCe <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { \\U00000053ERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { \u017fERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",  # long s, not ASCII
        "SELECT * \\u0046ROM <http://127.0.0.1:9/x.ttl> WHERE { ?s ?p ?o }",
        "PREFIX x: <urn:x#> INSERT { ?s x:p 1 } WHERE { ?s ?p ?o }",
        "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "# SELECT\nDELETE WHERE { ?s ?p ?o }",
    ],
)
def test_screen_leaves_whatever_may_reach_outside_to_the_parser(text: str) -> None:
    assert screen_query(text) is None
    with pytest.raises((QueryRefusedError, SparqlSyntaxError)):
        check_query(text)


def test_screen_reads_the_graphs_a_dataset_clause_names() -> None:
    text = "SELECT * fRoM <http://127.0.0.1:9/x.ttl> WHERE { ?s ?p ?o }"
    screened = screen_query(text)
    assert screened is not None
    assert screened.from_graphs == ("http://127.0.0.1:9/x.ttl",)
    with pytest.raises(QueryRefusedError) as caught:  # not one of the embedded store's graphs
        check_query(text)
    assert caught.value.reason == "dataset"


def test_screen_is_linear_on_hostile_prologues() -> None:
    for text in ("#" * 20_000, "#a\n" * 6_000, "PREFIX a: <x> " * 1_400, " " * 20_000):
        assert screen_query(text + "x") is None


@pytest.mark.parametrize(
    ("accept", "offered", "expected"),
    [
        (None, ["a/x", "b/y"], "a/x"),
        ("b/y", ["a/x", "b/y"], "b/y"),
        ("b/y;q=0.4, a/x;q=0.8", ["a/x", "b/y"], "a/x"),
        ("*/*;q=0.1, b/*", ["a/x", "b/y"], "b/y"),
        ("a/x;q=0, */*", ["a/x", "b/y"], "b/y"),
        ("image/png", ["a/x", "b/y"], None),
        ("A/X", ["a/x"], "a/x"),
    ],
)
def test_negotiate(accept: str | None, offered: list[str], expected: str | None) -> None:
    assert best_media_type(accept, offered) == expected


@pytest.mark.slow
def test_timeout_kills_the_worker_and_the_pool_recovers(caplog: pytest.LogCaptureFixture) -> None:
    graph = load_knowledge_graph()
    caplog.set_level(logging.INFO, logger="kg.sparql")

    async def scenario() -> tuple[bool, bytes, bytes]:
        engine = await SparqlEngine.from_dataset(graph.dataset, EngineOptions(workers=2, timeout_s=1.0))
        try:
            runaway = asyncio.ensure_future(engine.run(check_query(RUNAWAY), "text/csv"))
            await asyncio.sleep(0.1)
            # the other worker answers while the runaway query holds one
            other = await engine.run(check_query("ASK { ?s ?p ?o }"), "application/sparql-results+json")
            still_running = not runaway.done()
            with pytest.raises(QueryTimeoutError):
                await runaway
            again = [await engine.run(check_query(f"ASK {{ ?s{n} ?p ?o }}"), "text/csv") for n in range(3)]
            return still_running, other.body, again[-1].body
        finally:
            await engine.close()

    still_running, other, again = asyncio.run(scenario())
    assert still_running  # answered beside the runaway query, not after it
    assert b"true" in other
    assert b"true" in again
    lifecycle = [r.getMessage() for r in caplog.records if r.name.startswith("kg.sparql.")]
    assert sum("started" in message for message in lifecycle) == 3  # two at the start, one replacement
    assert any("killed: its query ran past the deadline" in message for message in lifecycle)
    assert any("replaced by" in message for message in lifecycle)


def test_engine_errors_on_screened_queries_say_what_and_where() -> None:
    """A screened text reaches the engine unparsed; what the engine rejects is reported as a parse would."""
    graph = load_knowledge_graph()
    malformed = "SELECT ?x WHERE {\n  ?x ?y \n}"
    engine_only = "SELECT ?x (1 AS ?x) WHERE { ?x ?p ?o }"  # rdflib accepts it; Oxigraph does not
    trailing_update = "SELECT * WHERE { ?s ?p ?o } ;\nINSERT DATA { <urn:a> <urn:b> <urn:c> }"

    async def scenario() -> list[SparqlSyntaxError]:
        engine = await SparqlEngine.from_dataset(graph.dataset, EngineOptions(workers=1, cache_bytes=0))
        errors = []
        try:
            for text in (malformed, engine_only, trailing_update):
                checked = check_query(text)
                assert not checked.parsed
                with pytest.raises(SparqlSyntaxError) as caught:
                    await run_checked(engine, checked, "text/csv")
                errors.append(caught.value)
            answer = await run_checked(engine, check_query("ASK { ?s ?p ?o }"), "text/csv")
            assert b"true" in answer.body
        finally:
            await engine.close()
        return errors

    rdflib_error, oxigraph_error, update_error = asyncio.run(scenario())
    with pytest.raises(SparqlSyntaxError) as parsed:
        parse_query(malformed)
    assert rdflib_error.line is not None
    assert str(rdflib_error) == str(parsed.value)  # as if it had been parsed from the start
    assert oxigraph_error.line == 1  # Oxigraph's own position (rdflib has no objection to this text)
    assert oxigraph_error.column is not None
    assert "overrides" in oxigraph_error.message
    assert update_error.line == 1


def test_cli_query_prints_results_and_refuses_updates(store_setting: str) -> None:
    """`mgkg query` on every store backend (the guard and the answers must not depend on the store)."""
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner(env={"MGKG_STORE": store_setting})
    query = (
        "SELECT ?f WHERE { <https://w3id.org/mgkg/id/hypomagnesemia> "
        "<https://w3id.org/mgkg/vocab#causallyUpstreamOf> ?f }"
    )
    result = runner.invoke(app, ["query", query, "--format", "tsv"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "?f"
    assert "<https://w3id.org/mgkg/id/hypocalcemia>" in lines
    named = runner.invoke(app, ["query", "--name", "why-links", "--param", "finding=mgkgid:tetany"])
    assert named.exit_code == 0, named.output
    assert named.output.startswith("source,finding,link")
    by_label = runner.invoke(app, ["query", "--name", "why-links", "--param", "finding=tetany"])
    assert by_label.exit_code == 0, by_label.output
    assert by_label.output == named.output  # node parameters resolve as `mgkg why` resolves names
    unknown = runner.invoke(app, ["query", "--name", "why-links", "--param", "finding=tetanyy"])
    assert unknown.exit_code != 0
    assert "tetany" in unknown.output  # the closest names
    refused = runner.invoke(app, ["query", "DROP ALL"])
    assert refused.exit_code != 0
    assert "read-only" in refused.output


def test_engine_caches_answers_of_the_immutable_store() -> None:
    from kg.sparql import EngineBusyError

    graph = load_knowledge_graph()
    query = check_query("SELECT ?s WHERE { ?s a <https://w3id.org/mgkg/vocab#ClinicalFinding> }")

    async def scenario() -> tuple[bytes, bytes, bytes, bool]:
        engine = await SparqlEngine.from_dataset(
            graph.dataset, EngineOptions(workers=1, timeout_s=1.0, cache_bytes=1_000_000)
        )
        try:
            first = await engine.run(query, "text/csv")
            other_format = await engine.run(query, "text/tab-separated-values")
            # the only worker is held by a runaway query: an answer that is not cached has to wait for it,
            # a cached one does not need a worker at all
            runaway = asyncio.ensure_future(engine.run(check_query(RUNAWAY), "text/csv"))
            await asyncio.sleep(0.1)
            second = await engine.run(query, "text/csv")
            served_while_busy = not runaway.done()
            with pytest.raises(EngineBusyError):
                await engine.run(
                    query, "application/sparql-results+json", RunOptions(deadline=time.monotonic() + 0.2)
                )
            with pytest.raises(QueryTimeoutError):
                await runaway
            return first.body, second.body, other_format.body, served_while_busy
        finally:
            await engine.close()

    first, second, other_format, served_while_busy = asyncio.run(scenario())
    assert first == second
    assert other_format != first  # the format is part of the key
    assert served_while_busy  # answered from the cache, not by the busy worker
