"""Streaming OpenAI client: SSE parsing, per-event timestamps, one measured record per request."""

from loadgen.client.records import WORKLOADS, ChatRequest, RequestRecord, Workload
from loadgen.client.stream import StreamingClient
from loadgen.client.transport import AiohttpTransport, StreamResponse, Transport

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
