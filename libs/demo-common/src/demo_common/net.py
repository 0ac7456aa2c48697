"""Port helpers shared by the local stack, the tests and the benchmarks."""

from __future__ import annotations

import random
import socket

# Dynamo 1.6.1 parses DYN_SYSTEM_PORT as an i16, so every port we hand out stays below 32768.
PORT_RANGE = (20000, 32767)


class NoFreePortError(RuntimeError):
    """No port in PORT_RANGE could be bound."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port in PORT_RANGE that is free right now (random, so parallel callers rarely collide)."""
    for _ in range(200):
        port = random.randint(*PORT_RANGE)
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise NoFreePortError(f"no free port in {PORT_RANGE[0]}-{PORT_RANGE[1]} on {host}")
