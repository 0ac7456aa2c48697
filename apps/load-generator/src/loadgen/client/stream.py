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
from typing import Any, Literal

import orjson

from loadgen.client import scan
from loadgen.client.sse import SSEFormatError, SSEParser
from loadgen.client.transport import PushResponse, Transport
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
# "fast": byte checks after the first content event (loadgen.client.scan); "full": every
# event through SSEParser and orjson, the path before 2026-12-07 (the benchmark's baseline).
EventParsing = Literal["fast", "full"]


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
        event_parsing: EventParsing = "fast",
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
        self._fast = event_parsing == "fast"

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
        stream = _StreamState(record, self._count_tokens, request.keep_text, self._fast)
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
            clock = self._clock.now_ns
            if stream.fast:
                framer = scan.EventFramer(stream.on_event)

                def on_chunk(chunk: bytes) -> bool:
                    return framer.feed(chunk, clock())
            else:
                parser = SSEParser()  # the baseline: every event parsed in full

                def on_chunk(chunk: bytes) -> bool:
                    for event in parser.feed(chunk, clock()):
                        if stream.on_event(event.event, event.data, event.first_byte_ns):
                            return True
                    return False

            if isinstance(response, PushResponse):  # calls back per read, no task switch
                if await response.pump(on_chunk):
                    return
            else:
                async for chunk in response.chunks():
                    if on_chunk(chunk):
                        return
            if not stream.events:  # e.g. a JSON or HTML body: not a broken stream, not SSE
                raise _Malformed("the response held no SSE event (not text/event-stream?)")
            raise TransportDisconnected("stream ended before [DONE]")


class _StreamState:
    """Accumulates one stream's events into its record.

    Per content event only its instant and the cumulative token count are appended; the
    record's gaps, token instants and text are built once, in `finish`.
    """

    def __init__(
        self, record: RequestRecord, count_tokens: TokenCounter, keep_text: bool, fast: bool
    ) -> None:
        self.record = record
        self.fast = fast
        self.events = 0
        self._count_tokens = count_tokens
        self._keep_text = keep_text
        self._text: list[str | bytes] = []  # bytes: a raw event whose text is read at the end
        self._times: list[int] = []  # instant of each content event
        self._counts: list[int] = []  # tokens carried up to and including each content event
        self._cum_tokens = 0  # cumulative completion tokens reported so far
        self._pending_tokens = 0  # tokens reported by events without visible content
        self._tokenizer_tokens = 0
        self._used_tokenizer = False
        self._usage: Mapping[str, Any] | bytes | None = None  # bytes: a raw event, read at the end
        self._trusted = False  # the byte checks read this stream right (first content event)
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
        self.events += 1
        if self._trusted and name == "message" and scan.plain_chunk(data):
            completion = scan.completion_tokens(data)
            if completion is not None:
                self._plain(data, at_ns, completion)
                return False
        if data == b"[DONE]" or data.strip() == b"[DONE]":
            self._done = True
            return True
        return self._parsed(name, data, at_ns)

    def _plain(self, data: bytes, at_ns: int, completion: int) -> None:
        """A compact chunk with a token count, read by byte checks (see loadgen.client.scan)."""
        reported = completion - self._cum_tokens
        self._cum_tokens = completion
        self._usage = data
        if (reason := scan.finish_reason(data)) is not None:
            self.record.finish_reason = reason
        if not scan.carries_text(data):
            self._pending_tokens += reported
            return
        tokens = reported + self._pending_tokens
        self._pending_tokens = 0
        self._content_event(at_ns, tokens, data)

    def _parsed(self, name: str, data: bytes, at_ns: int) -> bool:
        chunk = _object_of(data)
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
        piece = _text_of(choices)  # also checks the shape
        assert isinstance(choices, list)
        for choice in choices:
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
        if self.fast and not self._times:
            self._trusted = _reads_right(data, self._cum_tokens, len(choices))
        self._content_event(at_ns, tokens, piece)
        return False

    def _content_event(self, at_ns: int, tokens: int, piece: str | bytes) -> None:
        self._times.append(at_ns)
        self._counts.append(tokens)
        if self._keep_text:
            self._text.append(piece)

    def _settle_raw(self) -> Mapping[str, Any]:
        """Parse what the byte checks left raw: the last usage and, for chat, the text."""
        usage = self._usage
        if isinstance(usage, bytes):
            usage = _object_of(usage).get("usage")
        if self._keep_text:
            pieces = (p if isinstance(p, str) else _text_of(_object_of(p).get("choices"))
                      for p in self._text)  # fmt: skip
            self.record.text = "".join(pieces)
        return usage if isinstance(usage, dict) else {}

    def finish(self) -> None:
        """Settle times, token counts and the final status once the stream is over."""
        record = self.record
        times = self._times
        if times:
            record.content_events = len(times)
            record.first_token_ns, record.last_token_ns = times[0], times[-1]
            if len(times) > 1:
                record.second_token_ns = times[1]
                pairs = zip(times[1:], self._counts[1:], strict=True)
                record.gaps = [(at - prev, n) for prev, (at, n) in zip(times, pairs, strict=False)]
        try:
            usage = self._settle_raw()
        except _Malformed as exc:
            self.fail(REASON_MALFORMED, str(exc))
            usage = {}
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
        record.measure_stalls()
        if self._failed:
            return
        if self._done and record.content_events:
            record.status = "ok"
            record.reason = REASON_OK
        elif self._done:
            self.fail(REASON_EMPTY, "stream finished without content")


def _text_of(choices: Any) -> str:
    """The content and reasoning text of a chunk's choices; _Malformed if not chunk-shaped."""
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
    return piece


def _object_of(data: bytes) -> dict[str, Any]:
    """An event's JSON object (_Malformed if it is none)."""
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _Malformed(f"event is not JSON: {data[:120]!r}") from exc
    if not isinstance(chunk, dict):
        raise _Malformed(f"event is not a JSON object: {data[:120]!r}")
    return chunk


def _reads_right(data: bytes, cumulative: int, choices: int) -> bool:
    """Whether the byte checks agree with the full parse of the first content event: one
    choice, text seen, the same token count (a server writing spaced JSON fails this and
    keeps the full parse for the whole stream)."""
    return (
        choices == 1
        and scan.plain_chunk(data)
        and scan.carries_text(data)
        and scan.completion_tokens(data) == cumulative
    )
