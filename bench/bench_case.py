"""Measure explain_case() latency (median and p99) for a case of 20 findings and labs on the shipped graph.

Run from a checkout: ``python bench/bench_case.py [--repeat N] [--cache-dir DIR]``. The network and the
recommendations are built once; each call then reads the case, asks every observed finding as /why does,
finds the causes of the deciding urine finding and the what-if paths. Then the whole answer POST /case
computes (with a proof per explained finding, on the reasoned graph) and the JSON it serves. Prints
figures; asserts nothing (issue 14 asks under 100 ms for such a case).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from benchstats import percentile

from kg.causal.case import explain_case
from kg.causal.case_model import Case
from kg.causal.network import build_network
from kg.causal.recommend import load_recommendations
from kg.graph.asserted import load_asserted

CASE = Case.model_validate(
    {
        "findings": [
            "refractory hypokalemia",
            "cramps",
            "tetany",
            "tremor",
            "seizure",
            "tingling",
            "numbness",
            "muscle weakness",
            "muscle twitching",
            "neuromuscular irritability",
            "renal potassium wasting",
        ],
        "absent": ["alkalosis"],
        "labs": {
            "serum_mg": "low",
            "urinary_mg": "high",
            "fe_mg_percent": 6,
            "pth": "normal",
            "serum_ca": "low",
            "serum_k": "low",
        },
        "exposures": ["cisplatin"],
        "treatments": [
            {"intervention": "calcium infusion", "response": "no_response"},
            {"intervention": "potassium replacement", "response": "no_response"},
        ],
    }
)
"""21 observations: 11 findings, 1 absent, 6 labs, 1 exposure and 2 treatments tried."""


def _timed(label: str, call: Callable[[], object], repeat: int) -> object:
    """Call once to warm up, then ``repeat`` times; print the median and p99 in milliseconds."""
    result = call()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
    print(f"{label}: median {statistics.median(times):.1f} ms, p99 {percentile(times, 0.99):.1f} ms")
    return result


def main() -> None:
    """Time explain_case() on the 21-observation case, then the whole POST /case answer; print ms."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50, help="calls (default 50)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="inference cache folder")
    args = parser.parse_args()
    start = time.perf_counter()
    graph = load_asserted().graph
    network = build_network(graph)
    advice = load_recommendations(graph, network)
    print(f"load and build: {(time.perf_counter() - start) * 1000:.0f} ms")
    explain_case(network, CASE, advice)  # the signed indexes are built on first use
    times = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        answer = explain_case(network, CASE, advice)
        times.append((time.perf_counter() - began) * 1000)
    size = len(answer.model_dump_json())
    print(
        f"explain_case, {len(answer.explained)} explained, {len(answer.not_explained)} not:"
        f" median {statistics.median(times):.1f} ms, p99 {percentile(times, 0.99):.1f} ms,"
        f" JSON {size / 1024:.0f} KiB"
    )
    from api.routes.case import answer_case  # the route's own computation: explanation and proofs
    from kg.graph.knowledge import load_knowledge_graph

    knowledge = load_knowledge_graph(cache_dir=args.cache_dir)
    _timed("POST /case answer (with proofs)", lambda: answer_case(knowledge, CASE), args.repeat)
    _timed(
        "POST /case answer and its JSON",
        lambda: answer_case(knowledge, CASE).model_dump_json(),
        args.repeat,
    )


if __name__ == "__main__":
    main()
