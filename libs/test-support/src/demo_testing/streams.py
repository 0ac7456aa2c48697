"""Long streamed chat completions run in threads, for tests that act while streams are open."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class LongStream:
    """One streamed completion of exactly `tokens` tokens (min_tokens + ignore_eos)."""

    frontend_url: str
    model: str
    tokens: int
    content_events: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    first_event: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> LongStream:
        threading.Thread(target=self._run, name="long-stream", daemon=True).start()
        return self

    def _run(self) -> None:
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": "Tell a very long story."}],
            "max_tokens": self.tokens,
            "min_tokens": self.tokens,
            "ignore_eos": True,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        url = f"{self.frontend_url}/v1/chat/completions"
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(10, read=60)) as http,
                http.stream("POST", url, json=body) as response,
            ):
                if response.status_code != 200:
                    self.error = f"HTTP {response.status_code}: {response.read()[:200]!r}"
                    return
                for line in response.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    chunk = json.loads(line[6:])
                    if "error" in chunk:
                        self.error = str(chunk["error"])[:200]
                    if chunk.get("usage"):
                        self.usage = chunk["usage"]
                    if any(c.get("delta", {}).get("content") for c in chunk.get("choices", [])):
                        self.content_events += 1
                        self.first_event.set()
        except httpx.HTTPError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.first_event.set()
            self.done.set()

    @property
    def complete(self) -> bool:
        """Every requested token arrived and nothing failed."""
        return self.error is None and self.usage.get("completion_tokens") == self.tokens
