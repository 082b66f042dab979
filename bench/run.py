"""The benchmark suite: load, reasoning, warm start, /why and SPARQL latency, memory, at three graph sizes.

    python bench/run.py                 # shipped graph, ~100k and ~2M triples; prints a table
    python bench/run.py --sizes shipped,100k --budget 20

Each size runs in its own subprocess (so peak memory is that size's own) and writes its figures to
bench/results/<timestamp>.json. Measured in-process: explain() (the work behind /why) and SPARQL on the
on-disk pyoxigraph store, each at 1, 20 and 100 concurrent callers (threads), beside a reference of the
same harness (a trivial call / an empty ASK query); loading into the on-disk store beside rdflib's parser;
the fast inference engine beside owlrl (run within a time budget, else "n/a"). Over HTTP (bench/over_http.py):
`mgkg load --store oxigraph:PATH` of the same files, a real `mgkg serve --store oxigraph:PATH` with its
answer caches off, and wrk on /why, /sparql and the /health reference at 1, 20 and 100 connections, with
the server's peak memory. Request counts and time per measurement are bounded, so the whole suite takes
about ten minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, Final, cast

HERE: Final = Path(__file__).resolve().parent
SIZES: Final = {"shipped": 0, "100k": 100_000, "2M": 2_000_000}
LEVELS: Final = (1, 20, 100)
TARGETS: Final = {"load_rate": 200_000.0, "reasoning_s": 120.0, "why_p99_ms": 100.0, "peak_mib": 4096.0}
FINDINGS: Final = ("hypocalcemia", "hypokalemia", "tetany", "seizure", "tremor", "muscle_weakness")
ROUTE_KEYS: Final = ("http_health", "http_why", "http_sparql")
SPARQL: Final = """PREFIX mgkg: <https://w3id.org/mgkg/vocab#>
SELECT ?x WHERE { ?x mgkg:causallyUpstreamOf <https://w3id.org/mgkg/id/%s> } LIMIT 100"""


def latency(
    call: Callable[[int], object], concurrency: int, requests: int, budget: float
) -> dict[str, float]:
    """Run ``call(i)`` ``requests`` times on ``concurrency`` threads (stopping after ``budget`` s)."""
    times: list[float] = []
    deadline = time.perf_counter() + budget

    def one(i: int) -> None:
        if time.perf_counter() > deadline:
            return
        started = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests)))
    wall = time.perf_counter() - started
    times.sort()
    return {
        "n": len(times),
        "p50_ms": 1000 * statistics.median(times),
        "p99_ms": 1000 * times[min(len(times) - 1, int(0.99 * len(times)))],
        "rps": len(times) / wall,
    }


def to_ox(term: Any) -> Any:
    """An rdflib term as a pyoxigraph term."""
    import pyoxigraph as ox
    from rdflib import BNode, URIRef

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(
        str(term), datatype=ox.NamedNode(str(term.datatype or "http://www.w3.org/2001/XMLSchema#string"))
    )


def owlrl_reference(files: list[Path], budget: float) -> str | float:
    """owlrl's time on the same graph in a subprocess killed after ``budget`` seconds."""
    code = (
        "import sys,time; from rdflib import Graph; from kg.graph.reasoning import materialize\n"
        "g=Graph()\n[g.parse(f) for f in sys.argv[1:]]\nt=time.perf_counter(); materialize(g,'owlrl')\n"
        "print(time.perf_counter()-t)"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *map(str, files)],
            capture_output=True,
            text=True,
            timeout=budget,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return f"n/a (too slow: >{budget:.0f} s)"
    return float(done.stdout.strip().splitlines()[-1])


def run_size(
    name: str, triples: int, work: Path, budget: float, owlrl_budget: float, http_seconds: float
) -> dict[str, Any]:
    """Measure one graph size; return its figures."""
    import gc

    import pyoxigraph as ox
    from rdflib import Graph

    from kg.causal.network import build_network
    from kg.causal.why import explain
    from kg.graph.rules import infer, oxigraph_source
    from kg.model.resources import default_sources
    from kg.model.vocab import INFERRED_GRAPH

    sys.path.insert(0, str(HERE))
    import generate
    import over_http

    result: dict[str, Any] = {"size": name}
    files = [Path(p) for p in default_sources()]
    if triples:
        data = work / f"generated-{name}.nt"
        started = time.perf_counter()
        generate.write(data, triples)
        result["generate_s"] = time.perf_counter() - started
        files.append(data)
    # load: pyoxigraph bulk load into an on-disk store, beside rdflib's parser (on at most 200k triples)
    location = work / f"store-{name}"
    shutil.rmtree(location, ignore_errors=True)
    started = time.perf_counter()
    store = ox.Store(str(location))
    for path in files:
        store.bulk_load(
            path=str(path), format=ox.RdfFormat.N_TRIPLES if path.suffix == ".nt" else ox.RdfFormat.TURTLE
        )
    store.optimize()
    load_s = time.perf_counter() - started
    result["triples"] = len(store)
    result["load_s"] = load_s
    result["load_rate"] = len(store) / load_s
    sample = Graph()
    started = time.perf_counter()
    for path in files[:-1] if triples else files:
        sample.parse(path)
    if triples:
        with data.open(encoding="utf-8") as handle:
            sample.parse(data="".join(islice(handle, 200_000)), format="nt")
    result["rdflib_rate"] = len(sample) / (time.perf_counter() - started)
    del sample
    # reasoning: the fast engine (read from the store, write the inferred graph back), owlrl as reference
    started = time.perf_counter()
    new, stats = infer(oxigraph_source(store))
    result["infer_s"] = time.perf_counter() - started
    graph_name = ox.NamedNode(str(INFERRED_GRAPH))
    store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), graph_name) for s, p, o in new)
    result["reasoning_s"] = time.perf_counter() - started
    result["inferred"] = len(new)
    result["closure_pairs"] = sum(stats.closure.values())
    del new
    result["owlrl_s"] = owlrl_reference(files, owlrl_budget)
    store.flush()
    del store
    # warm start: reopen the store, read the causal part into the network, answer the first /why
    started = time.perf_counter()
    store = ox.Store(str(location))
    skip = {f"{ns}" for _, ns, _ in generate.PLAIN_EDGES}
    predicates = [row["p"].value for row in cast(Any, store.query("SELECT DISTINCT ?p { ?s ?p ?o }"))]
    causal = Graph()
    source = oxigraph_source(store, ox.DefaultGraph())
    from rdflib import URIRef

    for predicate in predicates:
        if predicate not in skip:
            for triple in source(URIRef(predicate)):
                causal.add(triple)
    network = build_network(causal)
    network.signed_index()  # as mgkg serve does at start-up
    first = explain(network, FINDINGS[0])
    result["warm_start_s"] = time.perf_counter() - started
    result["why_paths_first"] = len(first.paths)
    result["network_edges"] = network.graph.number_of_edges() if hasattr(network, "graph") else None
    gc.collect()
    gc.freeze()  # as mgkg serve does after start-up: the graph's objects never become garbage
    # latency at 1, 20, 100 concurrent callers
    result["why"], result["why_ref"], result["sparql"], result["sparql_ref"] = {}, {}, {}, {}
    for level in LEVELS:
        requests = 200 if level == 1 else 600
        result["why"][str(level)] = latency(
            lambda i: explain(network, FINDINGS[i % len(FINDINGS)]), level, requests, budget
        )
        result["why_ref"][str(level)] = latency(
            lambda i: network.resolve(FINDINGS[i % len(FINDINGS)]), level, requests, budget
        )
        result["sparql"][str(level)] = latency(
            lambda i: list(
                cast(Any, store.query(SPARQL % FINDINGS[i % len(FINDINGS)], use_default_graph_as_union=True))
            ),
            level,
            requests,
            budget,
        )
        result["sparql_ref"][str(level)] = latency(
            lambda i: bool(store.query("ASK {}")), level, requests, budget
        )
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # over HTTP: mgkg load into a fresh on-disk store, mgkg serve on it, wrk
    external = files[len(default_sources()) :]  # mgkg load writes the mgkg graphs itself
    result.update(over_http.load_store(external, work / f"http-store-{name}", work / "cache"))
    sparql = SPARQL.replace("<https://w3id.org/mgkg/id/%s>", "mgkgid:%s").replace(
        "PREFIX mgkg:", "PREFIX mgkgid: <https://w3id.org/mgkg/id/>\nPREFIX mgkg:"
    )
    result.update(
        over_http.measure(work / f"http-store-{name}", FINDINGS, sparql, LEVELS, http_seconds, work)
    )
    shutil.rmtree(work / f"http-store-{name}", ignore_errors=True)
    shutil.rmtree(location, ignore_errors=True)
    return result


def verdict(value: float, target: float, higher_is_better: bool) -> str:
    """MET or NOT MET with the gap."""
    met = value >= target if higher_is_better else value <= target
    gap = (target - value) if higher_is_better else (value - target)
    return "MET" if met else f"NOT MET (gap {gap:,.1f})"


def _cell(key: str, level: str) -> Callable[[dict[str, Any]], str]:
    def cell(r: dict[str, Any]) -> str:
        figures = r[key][level]
        return f"{figures['p50_ms']:.1f}/{figures['p99_ms']:.1f}, {figures['rps']:.0f}"

    return cell


def table(results: list[dict[str, Any]]) -> str:
    """The results as a plain-text table, then the targets at the largest size."""
    rows = [("figure", *[r["size"] for r in results])]

    def add(label: str, get: Callable[[dict[str, Any]], object]) -> None:
        rows.append((label, *[str(get(r)) for r in results]))

    add("triples in store", lambda r: f"{r['triples']:,}")
    add("load, on-disk store (triples/s)", lambda r: f"{r['load_rate']:,.0f}")
    add("  ref: rdflib parser (triples/s)", lambda r: f"{r['rdflib_rate']:,.0f}")
    add("reasoning, fast engine (s)", lambda r: f"{r['reasoning_s']:.2f} ({r['inferred']:,} inferred)")
    add("  transitive closure pairs", lambda r: f"{r['closure_pairs']:,}")
    add(
        "  ref: owlrl (s)", lambda r: r["owlrl_s"] if isinstance(r["owlrl_s"], str) else f"{r['owlrl_s']:.2f}"
    )
    add("warm start: reopen + network + 1st why (s)", lambda r: f"{r['warm_start_s']:.2f}")
    for key, label in (
        ("why", "why"),
        ("why_ref", "  ref: trivial call"),
        ("sparql", "SPARQL"),
        ("sparql_ref", "  ref: ASK {}"),
    ):
        for level in LEVELS:
            add(f"{label} c={level} p50/p99 ms, req/s", _cell(key, str(level)))
    add("peak memory, in-process (MiB)", lambda r: f"{r['peak_mib']:,.0f}")
    add(
        "mgkg load, on-disk store (triples/s)",
        lambda r: f"{r['cli_load_rate']:,.0f} ({r['cli_load_s']:.1f} s)",
    )
    add("mgkg serve: start to /health 200 (s)", lambda r: f"{r['http_ready_s']:.1f}")
    for route, label in (("health", "HTTP /health (ref)"), ("why", "HTTP /why"), ("sparql", "HTTP /sparql")):
        for level in LEVELS:
            add(f"{label} c={level} p50/p99 ms, req/s", _cell(f"http_{route}", str(level)))
    add(
        "HTTP errors (non-2xx, socket)",
        lambda r: f"{sum(v['errors'] for k in ROUTE_KEYS for v in r[k].values()):.0f}",
    )
    add(
        "mgkg serve peak memory (MiB)",
        lambda r: (
            f"{r['http_server_peak_mib']:,.0f} (+ workers: {r['http_total_peak_mib']:,.0f}, "
            f"{r['http_processes']} processes)"
        ),
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    largest = results[-1]
    lines += [
        "",
        f"targets at {largest['size']}:",
        f"  load >= 200k triples/s: {largest['load_rate']:,.0f} "
        + verdict(largest["load_rate"], TARGETS["load_rate"], True),
        f"  reasoning < 120 s: {largest['reasoning_s']:.1f} s "
        + verdict(largest["reasoning_s"], TARGETS["reasoning_s"], False),
    ]
    for level in LEVELS:
        p99 = largest["http_why"][str(level)]["p99_ms"]
        lines.append(
            f"  why p99 < 100 ms over HTTP (c={level}): {p99:.1f} ms "
            + verdict(p99, TARGETS["why_p99_ms"], False)
        )
    p99 = largest["why"]["1"]["p99_ms"]
    lines.append(
        f"  why p99 < 100 ms in-process (c=1): {p99:.1f} ms " + verdict(p99, TARGETS["why_p99_ms"], False)
    )
    peak = max(largest["peak_mib"], largest["http_total_peak_mib"])
    lines.append(
        f"  peak memory < 4096 MiB (largest process group): {peak:,.0f} MiB "
        + verdict(peak, TARGETS["peak_mib"], False)
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every size in a subprocess, print the table, write the JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="shipped,100k,2M", help=f"comma-separated, of: {', '.join(SIZES)}")
    parser.add_argument("--budget", type=float, default=15.0, help="seconds per latency measurement, at most")
    parser.add_argument("--owlrl-budget", type=float, default=45.0, help="seconds owlrl may take per size")
    parser.add_argument("--http-seconds", type=float, default=4.0, help="seconds per wrk run")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [name for name in args.sizes.split(",") if name not in SIZES]
    if unknown:
        parser.error(f"unknown size {', '.join(unknown)}; the sizes are {', '.join(SIZES)}")
    if args.one:
        figures = run_size(
            args.one, SIZES[args.one], args.work, args.budget, args.owlrl_budget, args.http_seconds
        )
        print(json.dumps(figures))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="mgkg-bench-") as work:
        for name in args.sizes.split(","):
            print(f"running {name} ...", file=sys.stderr, flush=True)
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    name,
                    "--work",
                    work,
                    "--budget",
                    str(args.budget),
                    "--owlrl-budget",
                    str(args.owlrl_budget),
                    "--http-seconds",
                    str(args.http_seconds),
                ],
                stdout=subprocess.PIPE,
                text=True,
                timeout=900,
                check=True,
            )
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    machine = {
        "nproc": os.cpu_count(),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
    }
    print(f"machine: {machine}")
    print(table(results))
    out = HERE / "results" / time.strftime("bench-%Y%m%dT%H%M%S.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
