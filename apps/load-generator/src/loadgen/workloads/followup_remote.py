"""Adapter: follow-up questions from a small model on an OpenAI-compatible endpoint.

Production: DigitalOcean Serverless Inference (base URL such as https://inference.do-ai.run/v1,
key from GRADIENT_API_KEY). Any OpenAI-compatible server works, the local Dynamo frontend too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aiohttp

from loadgen.errors import FollowupError
from loadgen.records import Message

_INSTRUCTION = (
    "You write the next question a curious visitor asks in a conversation about a topic. "
    "Reply with one short question only: no preamble, no quotes, no answer."
)
_EXCERPT_CHARS = 1500
MAX_QUESTION_CHARS = 400


class OpenAIQuestionSource:
    """Asks `model` at `base_url` (…/v1) for a follow-up question, non-streaming."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout_s: float = 5.0,
        max_tokens: int = 64,
    ) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_tokens = max_tokens

    @property
    def description(self) -> str:
        return f"{self._model} at {self._url}"

    def body(self, topic: str, history: Sequence[Message]) -> dict[str, Any]:
        last_question = next((m["content"] for m in reversed(history) if m["role"] == "user"), "")
        last_answer = next(
            (m["content"] for m in reversed(history) if m["role"] == "assistant"), ""
        )
        prompt = (
            f"Topic: {topic}\n\nLast question: {last_question}\n\n"
            f"Last answer (excerpt): {last_answer[:_EXCERPT_CHARS]}\n\nNext question:"
        )
        return {
            "model": self._model,
            "messages": [
                {"role": "system", "content": _INSTRUCTION},
                {"role": "user", "content": prompt},
            ],
            "max_tokens": self._max_tokens,
            "temperature": 0.8,
            "stream": False,
        }

    async def next_question(self, topic: str, history: Sequence[Message]) -> str:
        payload = json.dumps(self.body(topic, history))
        try:
            async with self._session.post(
                self._url, data=payload, headers=self._headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                if response.status != 200:
                    detail = raw[:300].decode("utf-8", errors="replace")
                    raise FollowupError(f"http_{response.status}", detail)
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise FollowupError("timeout", f"{self._url}: no answer in time") from exc
        except aiohttp.ClientConnectorError as exc:
            raise FollowupError("connect", f"{self._url}: {exc}") from exc
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise FollowupError("transport", f"{self._url}: {type(exc).__name__}: {exc}") from exc
        return _extract_question(raw)


def _extract_question(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise FollowupError("bad_response", f"unexpected body: {raw[:200]!r}") from exc
    if not isinstance(content, str):
        raise FollowupError("bad_response", "message content is not text")
    lines = [line.strip().strip('"') for line in content.strip().splitlines() if line.strip()]
    if not lines:
        raise FollowupError("empty", "the model returned no question")
    return lines[0][:MAX_QUESTION_CHARS]
