"""Measure `import kg` (and `import api.app`) in fresh interpreters beside `python -c pass`; target < 0.2 s.

Run from a checkout: ``python bench/bench_import.py [--repeat N]``. Each sample is a new process, so nothing
is cached in ``sys.modules``; the figure printed is the median wall time of the process, and the import's
own share is that median minus the median of ``python -c pass`` (the interpreter's start-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 0.2
PROGRAMS = {
    "python -c pass": "pass",
    "import kg": "import kg",
    "import kg; kg.explain (first public name)": "import kg; kg.explain",
    "import api.app": "import api.app",
}


def _sample(code: str) -> float:
    """Wall time of one fresh interpreter that runs the code, with this checkout first on sys.path."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)
    return time.perf_counter() - started


def main() -> None:
    """Print the median time of each program over --repeat fresh processes, and whether kg meets it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15, help="fresh processes per program (default 15)")
    args = parser.parse_args()
    for code in PROGRAMS.values():
        _sample(code)  # one unmeasured run each, so the file cache is warm for every program alike
    samples: dict[str, list[float]] = {label: [] for label in PROGRAMS}
    for _ in range(args.repeat):  # round-robin, so a busy moment on a shared machine hits every program
        for label, code in PROGRAMS.items():
            samples[label].append(_sample(code))
    medians = {label: statistics.median(times) for label, times in samples.items()}
    baseline = medians["python -c pass"]
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, median of {args.repeat} fresh processes")
    for label, median in medians.items():
        extra = "" if label == "python -c pass" else f"  ({(median - baseline) * 1000:+.0f} ms over pass)"
        print(f"{label:45s} {median * 1000:8.1f} ms{extra}")
    verdict = "MET" if medians["import kg"] < TARGET_SECONDS else "NOT MET"
    print(f"target: import kg under {TARGET_SECONDS:.1f} s: {verdict}")


if __name__ == "__main__":
    main()
