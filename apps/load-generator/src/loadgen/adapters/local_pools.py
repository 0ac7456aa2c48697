"""Local adapter of the ClusterScaler port: the local stack's pool control API over HTTP.

The control API (`localcluster`, :8090) is the local stand-in for the DGDSA scale subresource:
GET /pools, PUT /pools/{pool} {"replicas": n} (422 beyond the GPU slots). KEDA's pause
annotation has no object to live on locally: the pause state is the local KEDA's own
(`KedaPauseState`), which its poll loop honours. Reaches the stack only over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from loadgen.adapters.local_keda import KedaPauseState
from loadgen.adapters.retry import RetryPolicy
from loadgen.adapters.scale_check import check_scale
from loadgen.controller.ports import POOL_NAMES, ClusterState, PoolName, PoolState
from loadgen.errors import ScaleRejected, ScalerError, ScalerUnavailable

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({409, 429, 500, 502, 503, 504})


class LocalPoolsScaler:
    """ClusterScaler over the local stack's control API; close with `aclose()`."""

    def __init__(
        self,
        control_url: str,
        pause: KedaPauseState,
        *,
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._base = control_url.rstrip("/")
        self._pause = pause
        self._session = session
        self._owns_session = session is None
        self._retry = retry or RetryPolicy(attempts=3, first_backoff_s=0.1)

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def state(self) -> ClusterState:
        body = await self._request("GET", "/pools", None, "read the pools")
        try:
            pools = {
                pool: PoolState(
                    desired=int(body["pools"][pool]["desired"]),
                    ready=int(body["pools"][pool]["ready"]),
                    # Scheduled (waiting out the modelled load time) or launched, not ready.
                    starting=int(body["pools"][pool]["pending"])
                    + int(body["pools"][pool]["starting"]),
                )
                for pool in POOL_NAMES
            }
            budget = int(body["gpu_slots"]["total"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ScalerError(f"read the pools: unexpected answer {body!r}") from exc
        return ClusterState(pools=pools, budget_gpus=budget)

    async def scale(self, pool: PoolName, replicas: int) -> None:
        state = await self.state()
        desired = {name: s.desired for name, s in state.pools.items()}
        name = check_scale(pool, replicas, desired, state.budget_gpus)
        if desired[name] == replicas:
            return
        await self._request(
            "PUT", f"/pools/{name}", {"replicas": replicas}, f"scale {name} to {replicas}"
        )
        log.info("scaled local pool %s to %d", name, replicas)

    async def set_autoscaling_paused(self, paused: bool) -> None:
        self._pause.set_all(paused)

    async def autoscaling_paused(self) -> bool:
        return self._pause.any_paused()

    async def _request(self, method: str, path: str, body: Any, what: str) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        retry = self._retry
        timeout = aiohttp.ClientTimeout(total=retry.request_timeout_s)
        last = "no attempt"
        for attempt in range(retry.attempts):
            if attempt:
                await asyncio.sleep(retry.backoff_s(attempt - 1))
            try:
                async with self._session.request(
                    method, self._base + path, json=body, timeout=timeout
                ) as response:
                    answer = await response.json(content_type=None)
                    if response.status < 300:
                        return answer
                    detail = answer.get("detail") if isinstance(answer, dict) else answer
                    if response.status not in RETRYABLE_STATUS:
                        raise ScaleRejected(f"{what}: HTTP {response.status} {detail}")
                    last = f"HTTP {response.status} {detail}"
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            log.warning("%s: attempt %d/%d failed: %s", what, attempt + 1, retry.attempts, last)
        raise ScalerUnavailable(f"{what}: gave up after {retry.attempts} attempts ({last})")
