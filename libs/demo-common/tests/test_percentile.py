"""The kit's one percentile: q in 0..100, numpy's default linear interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from demo_common.percentile import percentile


@pytest.mark.parametrize("q", [0, 1, 25, 50, 90, 95, 99, 99.9, 100])
@pytest.mark.parametrize(
    "values",
    [[3.0], [2.0, 1.0], [float(v) for v in range(1, 101)], [5.0, 1.0, 9.0, 9.0, 2.5, 7.25, 0.1]],
)
def test_matches_numpys_default_method(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_interpolates_between_order_statistics() -> None:
    # rank 0.95 * 3 = 2.85: 30 + 0.85 * (40 - 30)
    assert percentile([40.0, 10.0, 30.0, 20.0], 95) == pytest.approx(38.5)
    assert percentile([1.0, 2.0], 50) == pytest.approx(1.5)


def test_ends_are_min_and_max_and_empty_is_none() -> None:
    values = [4.0, -1.0, 8.0]
    assert percentile(values, 0) == -1.0
    assert percentile(values, 100) == 8.0
    assert percentile([], 50) is None


@pytest.mark.parametrize("q", [-1, 100.5, 150])
def test_q_outside_0_to_100_is_refused(q: float) -> None:
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0, 2.0], q)
