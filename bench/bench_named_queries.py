"""Print, for each named query, whether the guard's fast screen passes it and what checking it costs.

The screen is a speed path (no parse); a named query it cannot pass still works, through a parse in a
parser process. This is a performance property, so it is printed here rather than asserted in a test.

    PYTHONPATH=. python bench/bench_named_queries.py [--rounds N]
"""

from __future__ import annotations

import argparse
import time

from kg.sparql.guard import screen_query
from kg.sparql.named_queries import load_named_queries


def main() -> None:
    """Print one line per named query: screened or parsed, and the screen's cost per call."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2_000, help="screen calls per query (default 2000)")
    args = parser.parse_args()
    queries = load_named_queries()
    passed = 0
    for name, named in sorted(queries.items()):
        started = time.perf_counter()
        for _ in range(args.rounds):
            verdict = screen_query(named.text)
        per_call = (time.perf_counter() - started) / args.rounds * 1e6
        passed += verdict is not None
        way = "screened" if verdict is not None else "needs a parse"
        print(f"{name:32s} {way:14s} screen {per_call:7.1f} us/call")
    print(f"{passed} of {len(queries)} named queries pass the fast screen")


if __name__ == "__main__":
    main()
