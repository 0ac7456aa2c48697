"""The one percentile of the kit: every record (client benchmark, rehearsal, comparison,
sizing replay, disaggregation benchmark, soak) takes its percentiles here, so they compare.

Convention: q in 0..100 (p95 is `percentile(xs, 95)`), linear interpolation between the order
statistics at rank q/100 * (n - 1). It is numpy's default (`np.percentile`, method "linear",
Hyndman & Fan type 7), which AIPerf and vLLM's and SGLang's benchmark scripts use for the TTFT/ITL
percentiles they publish, so our numbers read the way the field's do. Nearest rank would jump by
whole samples on the small counts a booth phase has.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (q in 0..100) of `values`, linearly interpolated; None when empty.

    A q outside 0..100 is a caller's bug (a 0..1 fraction passed by habit would read p0.95 as
    the minimum): refused with ValueError rather than answered."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in 0..100, got {q}")
    if not values:
        return None
    ordered = sorted(float(v) for v in values)
    pos = q / 100 * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
