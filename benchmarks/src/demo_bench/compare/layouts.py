"""The four layouts the comparison plays the same script against, and how each is started.

1. aggregated: every budget GPU a worker that does prefill and decode (`--serving aggregated`),
   no autoscaler — the baseline without disaggregation;
2. static: disaggregated at the layout's initial split (prod 2 prefill + 3 decode), no scaling;
3. controller: disaggregated, the scenario controller plays the script (auto mode, scripted
   scale-outs issued ahead of the phases);
4. keda: disaggregated, manual mode with the local KEDA on the kit's own ScaledObjects.
The load is the same in all four: the script's phases at their rates, from the same seed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from loadgen.adapters.local_keda import KedaPauseState
from loadgen.adapters.local_pools import LocalPoolsScaler
from loadgen.clock import Clock
from loadgen.controller_wiring import PortsFactory, ScenarioPorts
from loadgen.settings import Settings

LayoutName = Literal["aggregated", "static", "controller", "keda"]
LAYOUTS: tuple[LayoutName, ...] = ("aggregated", "static", "controller", "keda")


@dataclass(frozen=True)
class Layout:
    name: LayoutName
    title: str
    mode: Literal["auto", "manual"]
    autoscaled: bool  # False: the pools keep their start size (no local KEDA loop runs)
    aggregated: bool = False


LAYOUT_INFO: dict[LayoutName, Layout] = {
    "aggregated": Layout("aggregated", "aggregated, all budget GPUs", "manual", False, True),
    "static": Layout("static", "disaggregated, static initial split", "manual", False),
    "controller": Layout("controller", "disaggregated + scenario controller", "auto", True),
    "keda": Layout("keda", "disaggregated + local KEDA", "manual", True),
}


def stack_args(layout: Layout, budget_gpus: int) -> tuple[str, ...]:
    if layout.aggregated:
        return ("--serving", "aggregated", "--initial-decode", str(budget_gpus))
    return ()


def fixed_pools_ports(settings: Settings) -> PortsFactory:
    """The local pool API without the local KEDA: nothing scales the pools during the run."""

    @asynccontextmanager
    async def factory(_clock: Clock) -> AsyncIterator[ScenarioPorts]:
        scaler = LocalPoolsScaler(settings.control_url, KedaPauseState())
        try:
            yield ScenarioPorts(scaler=scaler)
        finally:
            await scaler.aclose()

    return factory


def ports_for(layout: Layout) -> Callable[[Settings], PortsFactory] | None:
    """None = the app's own backend ports (pool API + local KEDA + Prometheus)."""
    return None if layout.autoscaled else fixed_pools_ports
