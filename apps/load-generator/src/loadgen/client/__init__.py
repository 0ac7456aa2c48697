"""Streaming OpenAI client: SSE parsing, per-event timestamps, one measured record per request."""

from loadgen.client.http import StreamingHttpTransport
from loadgen.client.stream import StreamingClient
from loadgen.client.transport import AiohttpTransport, PushResponse, StreamResponse, Transport
from loadgen.records import WORKLOADS, ChatRequest, RequestRecord, Workload

__all__ = [
    "WORKLOADS",
    "AiohttpTransport",
    "ChatRequest",
    "PushResponse",
    "RequestRecord",
    "StreamResponse",
    "StreamingClient",
    "StreamingHttpTransport",
    "Transport",
    "Workload",
]
