"""Measure explain() latency (median and p99 over repeated calls) for every finding hypomagnesemia reaches.

Run from a checkout: ``python bench/bench_explain.py [--repeat N] [--context mild|severe]``. The causal
network is built once from the asserted graph (no reasoning is needed for explanations); its build time is
printed on its own, then one line per finding, with the size of its JSON answer (each node, step and
citation said once, kg.render.document) beside the size the same answer had in the old shape, where every step
repeated its full nodes and citations (the Explanation model dumped as it is).
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchstats import percentile

from kg.causal.network import build_network
from kg.causal.why import explain
from kg.graph.asserted import load_asserted
from kg.model.types import Severity
from kg.render.document import compact


def main() -> None:
    """Time explain() per reachable finding and print a table in milliseconds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200, help="calls per finding (default 200)")
    parser.add_argument("--context", choices=["mild", "severe"], default=None)
    args = parser.parse_args()
    context: Severity | None = (
        "mild" if args.context == "mild" else "severe" if args.context == "severe" else None
    )

    started = time.perf_counter()
    network = build_network(load_asserted().graph)
    print(f"load + build_network: {(time.perf_counter() - started) * 1000:.1f} ms")
    print(
        f"{'finding':<50} {'paths':>5} {'contra':>6} {'median ms':>10} {'p99 ms':>8}"
        f" {'JSON bytes':>10} {'old shape':>10}"
    )
    for finding in network.findings():
        samples = []
        answer = explain(network, finding.iri, context=context)
        for _ in range(args.repeat):
            begin = time.perf_counter()
            explain(network, finding.iri, context=context)
            samples.append((time.perf_counter() - begin) * 1000)
        print(
            f"{finding.label[:50]:<50} {len(answer.paths):>5} {len(answer.contradicting):>6}"
            f" {statistics.median(samples):>10.2f} {percentile(samples, 0.99):>8.2f}"
            f" {len(compact(answer).model_dump_json()):>10} {len(answer.model_dump_json()):>10}"
        )


if __name__ == "__main__":
    main()
