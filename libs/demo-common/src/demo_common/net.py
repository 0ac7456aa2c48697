"""Port helpers shared by the local stack, the tests and the benchmarks."""

from __future__ import annotations

import random
import socket
from collections.abc import Collection

# Dynamo 1.6.1 parses DYN_SYSTEM_PORT as an i16, so every port we hand out stays below 32768.
PORT_RANGE = (20000, 32767)


class NoFreePortError(RuntimeError):
    """No port in PORT_RANGE could be bound."""


# Its own source of randomness: a test framework that seeds the `random` module (hypothesis
# does) would otherwise replay the same ports to every caller.
_RANDOM = random.SystemRandom()


def _bound_socket(host: str, exclude: Collection[int], listen: bool) -> socket.socket:
    """A socket bound to a random free port in PORT_RANGE, other than `exclude`."""
    for _ in range(200):
        port = _RANDOM.randint(*PORT_RANGE)
        if port in exclude:
            continue
        sock = socket.socket()
        try:
            sock.bind((host, port))
            if listen:
                sock.listen()
        except OSError:
            sock.close()
            continue
        return sock
    raise NoFreePortError(f"no free port in {PORT_RANGE[0]}-{PORT_RANGE[1]} on {host}")


def free_port(host: str = "127.0.0.1", exclude: Collection[int] = ()) -> int:
    """A port in PORT_RANGE that is free right now (random, so parallel callers rarely collide),
    other than `exclude`: ports promised to processes that have not bound them yet."""
    with _bound_socket(host, exclude, listen=False) as sock:
        port: int = sock.getsockname()[1]
        return port


def held_port(host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on a free port in PORT_RANGE. Until it is closed (just before the
    port's real owner binds it) no `free_port` caller can be handed the same port: a port chosen
    before a stack starts its workers is otherwise free for one of them to take meanwhile."""
    return _bound_socket(host, (), listen=True)
