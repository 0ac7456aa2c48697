"""free_port: ports promised but not yet bound are not handed out again."""

from __future__ import annotations

import random
import socket

import pytest

from demo_common import net


def test_excluded_ports_are_never_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    candidates = iter([net.PORT_RANGE[0] + 7, net.PORT_RANGE[0] + 7, net.PORT_RANGE[0] + 9])
    monkeypatch.setattr(net._RANDOM, "randint", lambda a, b: next(candidates))
    assert net.free_port(exclude={net.PORT_RANGE[0] + 7}) == net.PORT_RANGE[0] + 9


def test_a_bound_port_is_not_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        candidates = iter([busy, busy + 1 if busy < net.PORT_RANGE[1] else busy - 1])
        monkeypatch.setattr(net._RANDOM, "randint", lambda a, b: next(candidates))
        assert net.free_port() != busy


def test_seeding_the_random_module_does_not_replay_ports() -> None:
    # hypothesis seeds `random` for each example; two callers must still not get one sequence.
    random.seed(1234)
    first = [net.free_port() for _ in range(5)]
    random.seed(1234)
    second = [net.free_port() for _ in range(5)]
    assert first != second
