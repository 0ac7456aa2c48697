"""The engine as the scenario controller's LoadDriver port."""

from __future__ import annotations

from collections.abc import Callable

from loadgen.demo_script.load import LoadConfig
from loadgen.engine import Engine


class EngineLoadDriver:
    """Applies configs to the engine and starts/stops it; both idempotent."""

    def __init__(
        self, engine: Engine, on_apply: Callable[[LoadConfig], None] | None = None
    ) -> None:
        self._engine = engine
        self._on_apply = on_apply

    async def apply(self, config: LoadConfig) -> None:
        self._engine.configure(config)
        if self._on_apply is not None:
            self._on_apply(config)

    async def start(self) -> None:
        if self._engine.state == "idle":
            await self._engine.start()

    async def stop(self) -> None:
        if self._engine.state == "running":
            await self._engine.stop()

    def running(self) -> bool:
        return self._engine.state == "running"
