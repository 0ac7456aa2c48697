"""The one place the CLIs handle SIGINT/SIGTERM: they set an event the main task waits on."""

from __future__ import annotations

import asyncio
import signal


def install_shutdown_signals() -> asyncio.Event:
    """SIGINT/SIGTERM set the returned event (call from inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop
