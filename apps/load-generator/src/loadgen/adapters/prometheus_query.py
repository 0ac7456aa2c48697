"""MetricsReader adapter: an instant query against the Prometheus HTTP API (/api/v1/query).

Both back ends use it: the local Prometheus and the cluster's. An empty answer is "no data"
(None); so is NaN/±Inf (a quantile of no traffic). More than one series is an error, as in
KEDA's Prometheus scaler: a scaling query must reduce to one number.
"""

from __future__ import annotations

import math
from typing import Any

import aiohttp

from loadgen.errors import MetricsUnavailable


def parse_instant(answer: Any, promql: str) -> float | None:
    """The single value of an instant-query answer (the API's JSON), None when there is none."""
    if not isinstance(answer, dict) or answer.get("status") != "success":
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise MetricsUnavailable(f"query {promql!r} failed: {error}")
    data = answer.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    sample: Any
    if kind == "scalar":
        sample = result
    elif kind == "vector":
        if not result:
            return None
        if len(result) > 1:
            raise MetricsUnavailable(f"query {promql!r} returned {len(result)} series, not one")
        sample = result[0].get("value")
    else:
        raise MetricsUnavailable(f"query {promql!r}: unknown result type {kind!r}")
    try:
        value = float(sample[1])
    except (TypeError, ValueError, IndexError) as exc:
        raise MetricsUnavailable(f"query {promql!r}: malformed sample {sample!r}") from exc
    return value if math.isfinite(value) else None


class PrometheusReader:
    """Instant queries over HTTP; close with `aclose()`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session = session
        self._owns_session = session is None

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def instant(self, promql: str) -> float | None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.get(
                f"{self._base}/api/v1/query", params={"query": promql}, timeout=self._timeout
            ) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise MetricsUnavailable(f"Prometheus at {self._base}: {exc!r}") from exc
        return parse_instant(answer, promql)
