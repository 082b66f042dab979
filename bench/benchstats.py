"""Small helpers the benchmark scripts share (imported as a sibling module: run them as scripts)."""

from __future__ import annotations

import math
import shutil
import socket
import sys


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of the samples.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.0
    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.99)
    4.0
    """
    ordered = sorted(samples)
    rank = min(max(math.ceil(fraction * len(ordered)), 1), len(ordered))
    return ordered[rank - 1]


def mgkg_command() -> list[str]:
    """The command line that runs ``mgkg``: the installed script, else ``python -m api.cli``."""
    mgkg = shutil.which("mgkg")
    return [mgkg] if mgkg else [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, for a server a benchmark starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
