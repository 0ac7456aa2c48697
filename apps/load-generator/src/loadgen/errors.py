"""Root exception of the load generator and its contextual subclasses."""

from __future__ import annotations


class LoadgenError(Exception):
    """Anything the load generator raises on purpose derives from this."""


class ConfigError(LoadgenError):
    """Settings, the demo script or a config change are invalid; the message names the field."""


class DemoScriptError(ConfigError):
    """The demo-script file is missing or malformed; the message names the file and field."""


class WorkloadDataError(LoadgenError):
    """The corpus cannot feed a workload (missing or empty record set)."""


class EngineStateError(LoadgenError):
    """An engine operation does not fit its current state (e.g. stop while stopped)."""


class TransportError(LoadgenError):
    """The HTTP transport failed before or while streaming a response."""


class TransportConnectError(TransportError):
    """The connection could not be opened (refused, DNS, TLS)."""


class TransportTimeout(TransportError):
    """No response (or no further bytes) within the configured time."""


class TransportDisconnected(TransportError):
    """The server closed or reset the connection while the response was streaming."""


class FollowupError(LoadgenError):
    """The follow-up question endpoint failed; `reason` is a low-cardinality label value."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class ScalerError(LoadgenError):
    """A cluster scaler call (pool control API, Kubernetes API) failed."""


class ScalerUnavailable(ScalerError):
    """The scaler did not answer: timeouts, connection errors or 5xx after the retries."""


class ScaleRejected(ScalerError):
    """The scaler refused the request (4xx): bad pool, replicas out of bounds, forbidden."""


class ScenarioModeError(LoadgenError):
    """The scenario controller's current mode forbids the action (HTTP 409); the message says
    why. (Not about the demo-script file: that is DemoScriptError.)"""


class ScaleGuardError(LoadgenError):
    """A scaling request would break the GPU budget or take a pool below 1 (HTTP 409)."""


class MetricsUnavailable(LoadgenError):
    """A metrics query failed (Prometheus unreachable, 5xx, malformed or ambiguous answer)."""
