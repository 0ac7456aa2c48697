"""Prompts for KV-cache tests: a chat-formatted token count in whole KV blocks."""

from __future__ import annotations

from demo_common.tokenizer import count_chat_tokens


def prompt_of_exact_length(seed: str, approx_words: int, block_size: int) -> tuple[str, int]:
    """A prompt whose chat-formatted token count is a multiple of the KV block size.

    The router counts cached prefixes in whole blocks: with a partial last block a full-prefix
    hit reads (ISL - ISL mod B) / ISL, just under 1; whole blocks make a repeat read exactly 1.
    """
    words = [f"{seed}"] + [f"w{i % 97} apple{i % 13}" for i in range(approx_words)]
    for _ in range(4 * block_size):
        text = " ".join(words)
        tokens = count_chat_tokens([{"role": "user", "content": text}])
        if tokens % block_size == 0:
            return text, tokens
        words.append("x")
    raise AssertionError("could not reach a whole number of KV blocks")
