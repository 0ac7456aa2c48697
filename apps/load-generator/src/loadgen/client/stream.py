"""OpenAI chat-completions streaming client: one request in, one measured RequestRecord out.

Measurement conventions (docs/measurement-conventions.md): TTFT is the first byte of the first
SSE event carrying content (or reasoning) minus the send instant; TTST the second such event
minus the first; ITL per token is each later inter-event gap divided by the tokens that event
carries (from cumulative `usage` when the server streams it, else the shared tokenizer); E2E the
last content event minus the send instant. A bad stream becomes an error record, never an
exception.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from loadgen.client.sse import SSEFormatError, SSEParser
from loadgen.client.transport import Transport
from loadgen.clock import Clock, MonotonicClock
from loadgen.errors import TransportConnectError, TransportDisconnected, TransportTimeout
from loadgen.records import (
    REASON_CONNECT,
    REASON_DISCONNECT,
    REASON_EMPTY,
    REASON_MALFORMED,
    REASON_OK,
    REASON_STREAM_ERROR,
    REASON_TIMEOUT,
    ChatRequest,
    RequestRecord,
)

TokenCounter = Callable[[str], int]
ERROR_BODY_LIMIT = 2048


class _Malformed(Exception):
    """Internal: an event that is not a chat-completion chunk."""


class _StreamFailed(Exception):
    """Internal: the server reported an error inside the stream."""


class StreamingClient:
    """Sends chat requests to an OpenAI-compatible endpoint and measures each stream."""

    def __init__(
        self,
        transport: Transport,
        *,
        base_url: str,
        model: str,
        count_tokens: TokenCounter,
        count_chat_tokens: Callable[[list[dict[str, str]]], int] | None = None,
        clock: Clock | None = None,
        request_timeout_s: float = 300.0,
        api_key: str | None = None,
        id_prefix: str = "req",
    ) -> None:
        self._transport = transport
        self._url = base_url.rstrip("/") + "/v1/chat/completions"
        self._model = model
        self._count_tokens = count_tokens
        self._count_chat_tokens = count_chat_tokens
        self._clock = clock or MonotonicClock()
        self._timeout_s = request_timeout_s
        self._headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._ids = itertools.count(1)
        self._id_prefix = id_prefix

    @property
    def model(self) -> str:
        return self._model

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body sent for `request` (min_tokens/ignore_eos at the root: Dynamo 1.6.1
        accepts them there and rejects them inside `nvext`)."""
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [dict(m) for m in request.messages],
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True, "continuous_usage_stats": True},
        }
        if request.min_tokens is not None:
            body["min_tokens"] = request.min_tokens
        if request.ignore_eos:
            body["ignore_eos"] = True
        body.update(request.extra_body)
        return body

    async def send(self, request: ChatRequest, *, intended_ns: int | None = None) -> RequestRecord:
        """Send `request`, stream the answer, return its record (status ok or error)."""
        payload = json.dumps(self.body(request)).encode()
        now = self._clock.now_ns()
        record = RequestRecord(
            request_id=f"{self._id_prefix}-{next(self._ids)}",
            workload=request.workload,
            turn=request.turn,
            conversation_id=request.conversation_id,
            status="error",
            reason=REASON_EMPTY,
            intended_ns=now if intended_ns is None else intended_ns,
            requested_output_tokens=request.max_tokens,
        )
        stream = _StreamState(record, self._count_tokens, request.keep_text)
        try:
            async with asyncio.timeout(self._timeout_s):
                record.send_ns = self._clock.now_ns()
                await self._exchange(payload, stream)
        except TimeoutError:
            stream.fail(REASON_TIMEOUT, f"no complete answer within {self._timeout_s:g} s")
        except TransportTimeout as exc:
            stream.fail(REASON_TIMEOUT, str(exc))
        except TransportConnectError as exc:
            stream.fail(REASON_CONNECT, str(exc))
        except TransportDisconnected as exc:
            stream.fail(REASON_DISCONNECT, str(exc))
        except (_Malformed, SSEFormatError) as exc:
            stream.fail(REASON_MALFORMED, str(exc))
        except _StreamFailed as exc:
            stream.fail(REASON_STREAM_ERROR, str(exc))
        record.end_ns = self._clock.now_ns()
        stream.finish()
        # Tokenizer fallback only for answers (a 20k-token prompt costs ~15 ms of loop time).
        if record.ok and record.input_tokens is None and self._count_chat_tokens is not None:
            record.input_tokens = self._count_chat_tokens([dict(m) for m in request.messages])
        return record

    async def _exchange(self, payload: bytes, stream: _StreamState) -> None:
        record = stream.record
        async with self._transport.post_stream(self._url, payload, self._headers) as response:
            record.http_status = response.status
            if response.status != 200:
                body = await response.read_body(ERROR_BODY_LIMIT)
                stream.fail(f"http_{response.status}", body.decode("utf-8", errors="replace"))
                return
            parser = SSEParser()
            events = 0
            async for chunk in response.chunks():
                now = self._clock.now_ns()
                for event in parser.feed(chunk, now):
                    events += 1
                    if stream.on_event(event.event, event.data, event.first_byte_ns):
                        return
            if not events:  # e.g. a JSON or HTML body: not a broken stream, not SSE at all
                raise _Malformed("the response held no SSE event (not text/event-stream?)")
            raise TransportDisconnected("stream ended before [DONE]")


class _StreamState:
    """Accumulates one stream's events into its record."""

    def __init__(self, record: RequestRecord, count_tokens: TokenCounter, keep_text: bool) -> None:
        self.record = record
        self._count_tokens = count_tokens
        self._keep_text = keep_text
        self._text: list[str] = []
        self._prev_ns: int | None = None
        self._cum_tokens = 0  # cumulative completion tokens reported so far
        self._pending_tokens = 0  # tokens reported by events without visible content
        self._tokenizer_tokens = 0
        self._used_tokenizer = False
        self._usage: Mapping[str, Any] | None = None
        self._done = False
        self._failed = False

    def fail(self, reason: str, detail: str) -> None:
        if not self._failed:
            self._failed = True
            self.record.status = "error"
            self.record.reason = reason
            self.record.detail = detail[:500]

    def on_event(self, name: str, data: bytes, at_ns: int) -> bool:
        """Handle one event; True at the end of the stream."""
        if data.strip() == b"[DONE]":
            self._done = True
            return True
        try:
            chunk = orjson.loads(data)  # the per-event parse is a hot spot (client benchmark)
        except orjson.JSONDecodeError as exc:
            raise _Malformed(f"event is not JSON: {data[:120]!r}") from exc
        if not isinstance(chunk, dict):
            raise _Malformed(f"event is not a JSON object: {data[:120]!r}")
        if name == "error" or "error" in chunk:
            raise _StreamFailed(json.dumps(chunk.get("error", chunk))[:400])
        usage = chunk.get("usage")
        reported: int | None = None
        if isinstance(usage, dict):
            self._usage = usage
            completion = usage.get("completion_tokens")
            if isinstance(completion, int):
                reported = completion - self._cum_tokens
                self._cum_tokens = completion
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise _Malformed("chunk has no 'choices' list")
        piece = ""
        for choice in choices:
            if not isinstance(choice, dict):
                raise _Malformed("a choice is not an object")
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                raise _Malformed("'delta' is not an object")
            for key in ("content", "reasoning_content"):
                value = delta.get(key)
                if isinstance(value, str):
                    piece += value
            if choice.get("finish_reason"):
                self.record.finish_reason = str(choice["finish_reason"])
        if not piece:
            self._pending_tokens += reported or 0
            return False
        if reported is None:
            tokens = self._count_tokens(piece)
            self._tokenizer_tokens += tokens
            self._used_tokenizer = True
        else:
            tokens = reported + self._pending_tokens
        self._pending_tokens = 0
        self._content_event(at_ns, tokens, piece)
        return False

    def _content_event(self, at_ns: int, tokens: int, piece: str) -> None:
        record = self.record
        record.content_events += 1
        if record.first_token_ns is None:
            record.first_token_ns = at_ns
        elif record.second_token_ns is None:
            record.second_token_ns = at_ns
        if self._prev_ns is not None:
            record.gaps.append((at_ns - self._prev_ns, tokens))
        self._prev_ns = at_ns
        record.last_token_ns = at_ns
        if self._keep_text:
            self._text.append(piece)

    def finish(self) -> None:
        """Settle token counts and the final status once the stream is over."""
        record = self.record
        usage = self._usage or {}
        prompt = usage.get("prompt_tokens")
        if isinstance(prompt, int):
            record.input_tokens = prompt
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict) and isinstance(details.get("cached_tokens"), int):
            record.cached_tokens = details["cached_tokens"]
        completion = usage.get("completion_tokens")
        if isinstance(completion, int):
            record.output_tokens = completion
            record.token_source = "tokenizer" if self._used_tokenizer else "usage"
        elif record.content_events:
            record.output_tokens = self._tokenizer_tokens
            record.token_source = "tokenizer"
        if self._keep_text:
            record.text = "".join(self._text)
        record.measure_stalls()
        if self._failed:
            return
        if self._done and record.content_events:
            record.status = "ok"
            record.reason = REASON_OK
        elif self._done:
            self.fail(REASON_EMPTY, "stream finished without content")
