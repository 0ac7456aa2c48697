"""Bisection over arrival rate for the highest rate whose replay still meets the target.

Pure: `evaluate(rate)` is any function returning whether that rate meets (a replay in the sweep, a
table in the tests). Attainment falls as rate rises, but a replay is one seeded sample, not a
smooth curve: the search reports the highest rate it *saw* meet below the lowest it saw fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Bracket:
    """`meets` met, `fails` failed (None: never seen), after `evaluations` calls."""

    meets: float | None
    fails: float | None
    evaluations: int


def highest_rate(
    evaluate: Callable[[float], bool], start: float, *, rel_tol: float = 0.05,
    max_evaluations: int = 12, floor: float = 1e-3,
) -> Bracket:  # fmt: skip
    """Double (or halve) from `start` until a meet/fail pair brackets the edge, then bisect until
    the pair is within `rel_tol` of each other. Rates below `floor` are not tried."""
    if start <= 0 or rel_tol <= 0:
        raise ValueError("start and rel_tol must be positive")
    ok: float | None = None
    bad: float | None = None
    count = 0
    rate = start
    while count < max_evaluations:
        count += 1
        if evaluate(rate):
            ok = rate
        else:
            bad = rate
        if ok is None:
            if rate / 2 < floor:
                break
            rate /= 2
        elif bad is None:
            rate *= 2
        elif bad - ok <= rel_tol * ok:
            break
        else:
            rate = (ok + bad) / 2
    return Bracket(meets=ok, fails=bad, evaluations=count)
