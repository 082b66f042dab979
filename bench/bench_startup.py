"""Measure start-up (cold: parse + OWL 2 RL reasoning; warm: cache hit), graph sizes and explain() latency.

Run from a checkout: ``python bench/bench_startup.py [--repeat N]``. Each run uses a fresh temporary
cache folder, so neither the user's cache nor $MGKG_CACHE_DIR is read or written. explain() is timed per
reachable finding after the causal network has been built once (its build time is printed on its own).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from kg.causal.network import network_of
from kg.causal.why import explain
from kg.graph.asserted import load_asserted
from kg.graph.knowledge import KnowledgeGraph, load_knowledge_graph
from kg.graph.reasoning import load_or_materialize


def _timed_load(cache_dir: Path) -> tuple[KnowledgeGraph, float, float]:
    """Load the shipped graph; return it, the parse time and the inference (or cache read) time."""
    started = time.perf_counter()
    asserted = load_asserted()
    parsed = time.perf_counter()
    inferred, cache = load_or_materialize(asserted, cache_dir)
    inferred_at = time.perf_counter()
    return KnowledgeGraph(asserted, inferred, cache), parsed - started, inferred_at - parsed


def main() -> None:
    """Print cold and warm start-up times (median of --repeat runs) and the sizes of the graphs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (default 3)")
    args = parser.parse_args()
    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    full_warm: list[float] = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="mgkg-bench-") as folder:
            cache_dir = Path(folder)
            graph, parse, infer = _timed_load(cache_dir)
            assert not graph.cache.hit, "a fresh cache folder must miss"
            cold.append((parse, infer))
            graph, parse, infer = _timed_load(cache_dir)
            assert graph.cache.hit, "the second load must hit the cache"
            warm.append((parse, infer))
            started = time.perf_counter()
            load_knowledge_graph(cache_dir=cache_dir)  # the facade, including building the Dataset
            full_warm.append(time.perf_counter() - started)
    for name, runs in (("cold (no cache)", cold), ("warm (cache hit)", warm)):
        parse = statistics.median(run[0] for run in runs)
        infer = statistics.median(run[1] for run in runs)
        step = "reason + write cache" if name.startswith("cold") else "read cache"
        print(f"{name:18} parse {parse:7.3f} s  {step:20} {infer:7.3f} s  total {parse + infer:7.3f} s")
    print(f"{'warm facade':18} load_knowledge_graph (with Dataset) {statistics.median(full_warm):7.3f} s")
    print(
        f"graph sizes: asserted {len(graph.asserted.graph)} triples, inferred {len(graph.inferred)} triples, "
        f"{len(graph.asserted.files)} source files; cache file "
        f"{graph.cache.path.name[:24] + '...' if graph.cache.path else 'none'}"
    )
    _bench_explain(graph, args.repeat)


def _bench_explain(graph: KnowledgeGraph, repeat: int) -> None:
    """Print the network build time and the median explain() latency for every reachable finding."""
    started = time.perf_counter()
    network = network_of(graph)
    print(f"causal network built in {time.perf_counter() - started:.3f} s (once, on first use)")
    timings: list[float] = []
    for finding in network.findings():
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            answer = explain(network, finding.iri)
            runs.append(time.perf_counter() - started)
        timings.append(statistics.median(runs))
        print(f"  explain {finding.label[:40]:40} {timings[-1] * 1000:8.1f} ms  {len(answer.paths)} path(s)")
    if timings:
        print(
            f"explain over {len(timings)} findings: median {statistics.median(timings) * 1000:.1f} ms, "
            f"max {max(timings) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
