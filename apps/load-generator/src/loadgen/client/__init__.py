"""Streaming OpenAI client: SSE parsing, per-event timestamps, one measured record per request."""

from loadgen.client.stream import StreamingClient
from loadgen.client.transport import AiohttpTransport, StreamResponse, Transport
from loadgen.records import WORKLOADS, ChatRequest, RequestRecord, Workload

__all__ = [
    "WORKLOADS",
    "AiohttpTransport",
    "ChatRequest",
    "RequestRecord",
    "StreamResponse",
    "StreamingClient",
    "Transport",
    "Workload",
]
