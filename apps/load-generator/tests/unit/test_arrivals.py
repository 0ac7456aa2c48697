"""Poisson arrivals on an absolute schedule: rate, determinism, live rate change without burst."""

from __future__ import annotations

import itertools
import statistics

import pytest

from loadgen.engine.arrivals import PoissonArrivals

S = 1_000_000_000


def take_until(arrivals: PoissonArrivals, end_ns: int) -> list[int]:
    out = []
    while arrivals.next_ns is not None and arrivals.next_ns < end_ns:
        out.append(arrivals.pop())
    return out


def test_mean_rate_and_exponential_gaps() -> None:
    arrivals = PoissonArrivals(seed=7, rate_per_s=20.0, start_ns=0)
    times = take_until(arrivals, 500 * S)
    assert len(times) == pytest.approx(20 * 500, rel=0.03)
    gaps = [(b - a) / S for a, b in itertools.pairwise(times)]
    # exponential: mean == std == 1/rate
    assert statistics.fmean(gaps) == pytest.approx(0.05, rel=0.03)
    assert statistics.pstdev(gaps) == pytest.approx(0.05, rel=0.05)


def test_schedule_is_absolute_and_deterministic() -> None:
    a = take_until(PoissonArrivals("s", 5.0, start_ns=10 * S), 20 * S)
    b = take_until(PoissonArrivals("s", 5.0, start_ns=10 * S), 20 * S)
    assert a == b
    assert all(t > 10 * S for t in a)
    assert a == sorted(a)


def test_rate_change_takes_effect_from_the_change_without_burst() -> None:
    arrivals = PoissonArrivals(seed=3, rate_per_s=1.0, start_ns=0)
    before = take_until(arrivals, 100 * S)
    arrivals.set_rate(50.0, now_ns=100 * S)
    assert arrivals.next_ns is not None
    assert arrivals.next_ns > 100 * S
    after = take_until(arrivals, 200 * S)
    assert len(before) == pytest.approx(100, rel=0.25)
    assert len(after) == pytest.approx(5000, rel=0.05)
    # No burst at the switch: the first second after it holds about 50, not a backlog.
    assert sum(1 for t in after if t < 101 * S) < 80


def test_rate_zero_pauses_and_resumes() -> None:
    arrivals = PoissonArrivals(seed=1, rate_per_s=0.0, start_ns=0)
    assert arrivals.next_ns is None
    with pytest.raises(ValueError, match="rate 0"):
        arrivals.pop()
    arrivals.set_rate(10.0, now_ns=5 * S)
    assert arrivals.next_ns is not None
    assert arrivals.next_ns > 5 * S
    arrivals.set_rate(0.0, now_ns=6 * S)
    assert arrivals.next_ns is None


def test_same_rate_keeps_the_pending_arrival() -> None:
    arrivals = PoissonArrivals(seed=1, rate_per_s=2.0, start_ns=0)
    pending = arrivals.next_ns
    arrivals.set_rate(2.0, now_ns=1)
    assert arrivals.next_ns == pending


def test_negative_rate_rejected() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        PoissonArrivals(seed=1, rate_per_s=-1.0, start_ns=0)
