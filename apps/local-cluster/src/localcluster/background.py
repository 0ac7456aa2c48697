"""Runs a LocalCluster on its own event loop in a thread, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from localcluster.cluster import LocalCluster
from localcluster.settings import LocalClusterSettings

T = TypeVar("T")


class BackgroundCluster:
    """`with BackgroundCluster(settings) as cluster:`; the stack stops when the block ends."""

    def __init__(self, settings: LocalClusterSettings) -> None:
        self.cluster = LocalCluster(settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._up = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="local-cluster", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with self.cluster:
                self._up.set()
                await self._stop.wait()
        except BaseException as exc:  # handed to the caller's thread by start()
            self._error = exc
        finally:
            self._up.set()

    def start(self) -> LocalCluster:
        self._thread.start()
        self._up.wait()
        if self._error is not None:
            self._thread.join()
            error, self._error = self._error, None
            raise error
        return self.cluster

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
        """Run a coroutine on the cluster's loop (e.g. to reach its pools) and return its result."""
        assert self._loop is not None, "call() before start()"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def stop(self) -> None:
        """Stop the stack; an error while it stopped is raised here, never swallowed."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
