"""Percentiles: one definition for every latency figure the benchmark prints.

Nearest-rank on the sorted samples (the value below which q of the samples fall, always a
measured sample): no interpolation, so a p99 of 200 samples is the second largest, and a
reader can check a figure against the raw results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank q-quantile (0 < q <= 1) of `samples`; ValueError when empty."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 < q <= 1:
        raise ValueError(f"quantile {q} outside (0, 1]")
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
