"""Small helpers the benchmark scripts share (imported as a sibling module: run them as scripts)."""

from __future__ import annotations

import math


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
