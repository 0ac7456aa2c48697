"""free_port: ports promised but not yet bound are not handed out again."""

from __future__ import annotations

import random
import socket

import pytest

from demo_common import net


def offer_first(monkeypatch: pytest.MonkeyPatch, ports: list[int]) -> list[int]:
    """Make free_port draw `ports` first, then real random picks (any fixed port after them
    could be taken by another process on a shared machine). Returns the draws as they happen."""
    draws: list[int] = []
    real_randint = net._RANDOM.randint

    def randint(a: int, b: int) -> int:
        draws.append(ports[len(draws)] if len(draws) < len(ports) else real_randint(a, b))
        return draws[-1]

    monkeypatch.setattr(net._RANDOM, "randint", randint)
    return draws


def test_excluded_ports_are_never_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    promised = net.PORT_RANGE[0] + 7
    draws = offer_first(monkeypatch, [promised, promised])
    port = net.free_port(exclude={promised})
    assert draws[:2] == [promised, promised]
    assert port != promised
    assert port == draws[-1]


def test_a_bound_port_is_not_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        draws = offer_first(monkeypatch, [busy])
        port = net.free_port()
        assert draws[0] == busy
        assert port != busy
        assert net.PORT_RANGE[0] <= port <= net.PORT_RANGE[1]


def test_seeding_the_random_module_does_not_replay_ports() -> None:
    # hypothesis seeds `random` for each example; two callers must still not get one sequence.
    random.seed(1234)
    first = [net.free_port() for _ in range(5)]
    random.seed(1234)
    second = [net.free_port() for _ in range(5)]
    assert first != second


def test_a_held_port_is_never_handed_out_until_released() -> None:
    hold = net.held_port()
    port = hold.getsockname()[1]
    assert net.PORT_RANGE[0] <= port <= net.PORT_RANGE[1]
    # A worker asking for a free port meanwhile cannot get it, nor bind it.
    assert all(net.free_port() != port for _ in range(300))
    with socket.socket() as other, pytest.raises(OSError, match="in use"):
        other.bind(("127.0.0.1", port))
    hold.close()
    with socket.socket() as owner:  # its real owner binds it once released
        owner.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        owner.bind(("127.0.0.1", port))
