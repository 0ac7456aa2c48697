"""The sweep: per preset, the highest arrival rate with >= 90 % attainment on each layout.

Named layouts (N aggregated, the demo's P+D) are bisected from the preset's own rate. The best
split of N GPUs is then found without bisecting every split: a split is bisected only if it meets
just above the best disaggregated rate seen so far (one replay rules the others out).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from demo_bench.capacity.attainment import Point
from demo_bench.capacity.replay import Layout, Setup, disagg_splits, replay_point
from demo_bench.capacity.search import Bracket, highest_rate

REL_TOL = 0.1  # bisection stops when the meet/fail pair is this close (relative)


@dataclass
class Search:
    preset: str
    layout: Layout
    bracket: Bracket
    points: list[Point] = field(default_factory=list)

    @property
    def capacity_rps(self) -> float:
        return self.bracket.meets or 0.0

    @property
    def per_gpu(self) -> float:
        return self.capacity_rps / self.layout.gpus


def search(setup: Setup, preset: str, layout: Layout, start: float, probe: bool) -> Search:
    """Bisect one layout; with `probe`, give up after the first replay if `start` fails."""
    points: list[Point] = []

    def evaluate(rate: float) -> bool:
        point = replay_point(setup, preset, layout, rate)
        points.append(point)
        return point.meets

    if probe and not evaluate(start):
        return Search(preset, layout, Bracket(meets=None, fails=start, evaluations=1), points)
    bracket = highest_rate(evaluate, start, rel_tol=REL_TOL)
    extra = 1 if probe else 0
    return Search(preset, layout, Bracket(bracket.meets, bracket.fails,
                                          bracket.evaluations + extra), points)  # fmt: skip


def named_layouts(gpu_counts: Iterable[int], named_splits: dict[int, Layout]) -> list[Layout]:
    out: list[Layout] = []
    for n in gpu_counts:
        out += [Layout(aggregated=n), named_splits[n]]
    return out


def sweep_preset(
    setup: Setup, preset: str, start: float, gpu_counts: Sequence[int],
    named_splits: dict[int, Layout], pool: Executor, *, best_split: bool = True,
) -> list[Search]:  # fmt: skip
    """Every search of one preset; best-split probes only where they can beat the named split."""
    named = named_layouts(gpu_counts, named_splits)
    n = len(named)
    found = list(pool.map(search, [setup] * n, [preset] * n, named, [start] * n, [False] * n))
    if not best_split:
        return found
    probes: list[tuple[Layout, float]] = []
    for gpus in gpu_counts:
        best = next(s for s in found if s.layout == named_splits[gpus])
        edge = max(best.capacity_rps, start / 8) * (1 + 2 * REL_TOL)
        probes += [(lay, edge) for lay in disagg_splits(gpus) if lay != named_splits[gpus]]
    m = len(probes)
    found += pool.map(search, [setup] * m, [preset] * m, [p[0] for p in probes],
                      [p[1] for p in probes], [True] * m)  # fmt: skip
    return found


def best_of(searches: Sequence[Search], gpus: int) -> Search | None:
    """The disaggregated split of `gpus` with the highest capacity (None: none met anywhere)."""
    split = [s for s in searches if s.layout.gpus == gpus and not s.layout.aggregated]
    best = max(split, key=lambda s: s.capacity_rps, default=None)
    return best if best is not None and best.capacity_rps > 0 else None
