"""What the streaming client is asked to send and what it measures: one record per request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

Workload = Literal["chat", "summarization", "reasoning"]
WORKLOADS: tuple[Workload, ...] = ("chat", "summarization", "reasoning")
# "stopped": the presenter's stop cut the stream (or its arrival) — not the system's failure.
Status = Literal["ok", "error", "dropped", "stopped"]

# Error reasons (label values stay few): "http_<code>", plus these.
REASON_OK = "none"
REASON_TIMEOUT = "timeout"
REASON_CONNECT = "connect"
REASON_DISCONNECT = "disconnect"
REASON_MALFORMED = "malformed"
REASON_STREAM_ERROR = "stream_error"
REASON_EMPTY = "empty"
REASON_CANCELLED = "cancelled"
REASON_STOPPED = "stopped"
REASON_IN_FLIGHT_CAP = "in_flight_cap"
REASON_QUEUE_FULL = "queue_full"

Message = Mapping[str, str]

# A visible freeze: a gap between two content events longer than this (demo time). A reader
# fixates a word for ~200-250 ms; a stream that stops for longer than one fixation is seen to
# stop (at the decode speeds shown, 20-40 ms per token, it is 6-12 tokens that do not come).
FREEZE_GAP_NS = 250_000_000


def turn_label(turn: int) -> str:
    """Metric label of a chat turn: "1".."4", then "5+"."""
    return str(turn) if turn < 5 else "5+"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One OpenAI chat-completions request, as a workload builds it."""

    workload: Workload
    messages: tuple[Message, ...]
    max_tokens: int
    min_tokens: int | None = None
    ignore_eos: bool = False
    turn: int = 1
    conversation_id: str | None = None
    keep_text: bool = False  # chat needs the answer to resend the history
    extra_body: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RequestRecord:
    """The measurement of one request; times are perf_counter_ns instants."""

    request_id: str
    workload: Workload
    turn: int
    conversation_id: str | None
    status: Status
    reason: str
    intended_ns: int
    send_ns: int | None = None
    end_ns: int | None = None
    first_token_ns: int | None = None
    second_token_ns: int | None = None
    last_token_ns: int | None = None
    # Inter-event gaps after the first content event: (gap_ns, tokens carried by the event).
    gaps: list[tuple[int, int]] = field(default_factory=list)
    content_events: int = 0
    # Stalls, set once at request end by measure_stalls() (None/0 without two content events).
    max_gap_ns: int | None = None
    frozen_ns: int = 0  # total time in gaps longer than FREEZE_GAP_NS
    # Whether the request met every SLO of its workload (TTFT, mean ITL, longest gap); set by
    # the engine for ok requests, False for errors, None when not judged (dropped, stopped).
    within_slo: bool | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    requested_output_tokens: int | None = None
    token_source: Literal["usage", "tokenizer", "none"] = "none"
    http_status: int | None = None
    finish_reason: str | None = None
    detail: str = ""
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def schedule_lag_ns(self) -> int | None:
        """How late the request left compared with its intended send time."""
        return None if self.send_ns is None else self.send_ns - self.intended_ns

    @property
    def ttft_ns(self) -> int | None:
        if self.first_token_ns is None or self.send_ns is None:
            return None
        return self.first_token_ns - self.send_ns

    @property
    def ttst_ns(self) -> int | None:
        if self.second_token_ns is None or self.first_token_ns is None:
            return None
        return self.second_token_ns - self.first_token_ns

    @property
    def e2e_ns(self) -> int | None:
        if self.last_token_ns is None or self.send_ns is None:
            return None
        return self.last_token_ns - self.send_ns

    @property
    def frozen(self) -> bool:
        return self.frozen_ns > 0

    def measure_stalls(self) -> None:
        """Longest inter-event gap and time spent frozen, from the gaps the stream kept, once at
        request end (nothing per token; the second pass runs only when a gap is a freeze)."""
        if not self.gaps:
            self.max_gap_ns, self.frozen_ns = None, 0
            return
        gaps_ns = list(map(itemgetter(0), self.gaps))
        longest = max(gaps_ns)
        self.max_gap_ns = longest
        self.frozen_ns = (
            sum([g for g in gaps_ns if g > FREEZE_GAP_NS]) if longest > FREEZE_GAP_NS else 0
        )

    @property
    def itl_mean_ns(self) -> float | None:
        """Mean inter-token latency of the request after its first token (TPOT)."""
        tokens = sum(t if t > 1 else 1 for _, t in self.gaps)
        return sum(gap for gap, _ in self.gaps) / tokens if tokens else None

    def itl_per_token_ns(self) -> Iterator[tuple[float, int]]:
        """(inter-token latency in ns, number of tokens it applies to) for each later event."""
        for gap_ns, tokens in self.gaps:
            n = max(tokens, 1)
            yield gap_ns / n, n

    def to_json(self) -> dict[str, Any]:
        """A flat dict for the JSONL log (durations in ms; the text is left out)."""

        def ms(value_ns: int | float | None) -> float | None:
            return None if value_ns is None else round(value_ns / 1e6, 3)

        # Per event, not per token: a 2000-token answer is not expanded (nor sorted) in the loop.
        # (`t if t > 1 else 1` is max(t, 1) without a builtin call per event.)
        itl_max = max((g / t if t > 1 else g for g, t in self.gaps), default=None)
        return {
            "request_id": self.request_id,
            "workload": self.workload,
            "turn": self.turn,
            "conversation_id": self.conversation_id,
            "status": self.status,
            "reason": self.reason,
            "detail": self.detail,
            "http_status": self.http_status,
            "intended_ns": self.intended_ns,
            "send_ns": self.send_ns,
            "schedule_lag_ms": ms(self.schedule_lag_ns),
            "ttft_ms": ms(self.ttft_ns),
            "ttst_ms": ms(self.ttst_ns),
            "e2e_ms": ms(self.e2e_ns),
            "itl_mean_ms": ms(self.itl_mean_ns),
            "itl_max_ms": ms(itl_max),
            "max_gap_ms": ms(self.max_gap_ns),
            "frozen_ms": ms(self.frozen_ns),
            "within_slo": self.within_slo,
            "content_events": self.content_events,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "requested_output_tokens": self.requested_output_tokens,
            "token_source": self.token_source,
            "finish_reason": self.finish_reason,
        }
