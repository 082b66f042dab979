"""Print what the SPARQL guard costs: normalise + screen, a parse in a parser process, a slow parse's
effect on other requests, and a parser process's memory (issue 11 §2: the guard's parse is bounded).

    PYTHONPATH=. python bench/bench_guard.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from kg.sparql import guard_query
from kg.sparql.guard import screen_query
from kg.sparql.parsers import PARSERS
from kg.sparql.text import normalize_query

SIMPLE = (
    "PREFIX mgkg: <https://w3id.org/mgkg/vocab#> SELECT ?x WHERE { ?x mgkg:causallyUpstreamOf ?y } LIMIT 5"
)
WITH_FROM = "SELECT ?s FROM <https://w3id.org/mgkg/graph/asserted> WHERE { ?s ?p ?o } LIMIT 1"
NAMED_FROM = (
    "PREFIX graph: <https://w3id.org/mgkg/graph/> SELECT ?g ?s FROM NAMED graph:asserted "
    "WHERE { GRAPH ?g { ?s ?p <<( ?a ?b ?c )>> } } LIMIT 1"
)
UNSCREENED = "SELECT ?s WHERE { ?s ?p ?caf\u00e9 } LIMIT 1"
"""Non-ASCII code: the screen leaves it to rdflib's parse, which these figures measure."""
SLOW = "SELECT ?\u00e9 WHERE { BIND(" + "+".join(["1"] * 6_000) + " AS ?\u00e9) }"


def per_call_us(function: object, text: str, rounds: int = 20_000) -> float:
    assert callable(function)
    started = time.perf_counter()
    for _ in range(rounds):
        function(text)
    return (time.perf_counter() - started) / rounds * 1e6


async def parse_figures() -> None:
    started = time.perf_counter()
    await guard_query(UNSCREENED + " # first", None, timeout_s=60)
    print(f"first unscreened text (starts a parser process): {time.perf_counter() - started:.2f} s")
    times = []
    for n in range(50):
        started = time.perf_counter()
        await guard_query(f"{UNSCREENED} # {n}", None, timeout_s=60)
        times.append(time.perf_counter() - started)
    print(f"parse in a parser process, uncached: median {statistics.median(times) * 1e3:.1f} ms")
    started = time.perf_counter()
    await guard_query(SLOW, None, timeout_s=60)
    print(f"12 kB BIND(1+1+...) with non-ASCII code, parsed: {time.perf_counter() - started:.1f} s")
    for parser in PARSERS._idle:  # a bench may look inside
        status = Path(f"/proc/{parser.process.pid}/status").read_text()
        rss = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        print(f"parser process resident memory: {int(rss) / 1024:.0f} MiB")


def concurrency_figures() -> None:
    settings = Settings(sparql_timeout_s=10.0, sparql_max_query_chars=20_000, sparql_cache_bytes=0)
    with TestClient(create_app(settings)) as client, ThreadPoolExecutor(max_workers=4) as pool:
        idle = []
        for _ in range(50):
            started = time.perf_counter()
            client.get("/health")
            idle.append(time.perf_counter() - started)
        slow = [pool.submit(client.post, "/sparql", data={"query": f"{SLOW}{n}"}) for n in range(4)]
        busy = []
        while not all(future.done() for future in slow):
            started = time.perf_counter()
            client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
            busy.append(time.perf_counter() - started)
        statuses = [future.result().status_code for future in slow]
    print(f"/health idle: median {statistics.median(idle) * 1e3:.1f} ms")
    print(
        f"screened ASK while 4 slow guard parses run: median {statistics.median(busy) * 1e3:.1f} ms, "
        f"worst {max(busy) * 1e3:.0f} ms over {len(busy)} requests; slow ones answered {statuses}"
    )


if __name__ == "__main__":
    screen_us = per_call_us(lambda text: screen_query(normalize_query(text)), SIMPLE)
    print(f"normalise + screen, simple query: {screen_us:.1f} µs")
    for label, text in (("FROM <iri>", WITH_FROM), ("FROM NAMED prefix:name, SPARQL 1.2", NAMED_FROM)):
        from_us = per_call_us(lambda text: screen_query(normalize_query(text)), text, rounds=5_000)
        print(f"normalise + screen, {label} (read, not parsed): {from_us:.1f} µs")
    asyncio.run(parse_figures())
    PARSERS.close()
    concurrency_figures()
