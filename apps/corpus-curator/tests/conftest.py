"""Fixtures for the curator's tests: small configurations, a Gutenberg-style book, and real
servers for the integration tests (moto S3 in its own process, an HTTP server in a thread)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from corpus_curator.config import CuratorConfig, parse_config

GUTENBERG_HEADER = """\ufeffThe Project Gutenberg eBook of {title}

This ebook is for the use of anyone anywhere in the United States and
most other parts of the world at no cost and with almost no restrictions
whatsoever.

Title: {title}

Author: {author}

Release date: January 1, 2000 [eBook #{id}]

*** START OF THE PROJECT GUTENBERG EBOOK {upper} ***
"""
GUTENBERG_FOOTER = """
*** END OF THE PROJECT GUTENBERG EBOOK {upper} ***

Updated editions will replace the previous one--the old editions will
be renamed. START: FULL LICENSE
"""


def prose(paragraphs: int, seed: int = 0) -> str:
    """Hard-wrapped English prose, deterministic and free of repeated paragraphs."""
    import random

    rng = random.Random(seed)
    subjects = ["The captain", "A clerk", "My neighbour", "The old judge", "Her brother", "Nobody"]
    verbs = ["considered", "described", "ignored", "praised", "questioned", "remembered"]
    objects = [
        "the harbour at dawn",
        "a letter from Bath",
        "the price of wheat",
        "his promise",
        "the long winter",
        "an unfinished map",
        "the quiet garden",
        "the last ship",
    ]
    out = []
    for p in range(paragraphs):
        sentences = [
            f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} on day {p}-{i}."
            for i in range(rng.randint(4, 9))
        ]
        words = " ".join(sentences).split(" ")
        lines, line = [], ""
        for word in words:
            if len(line) + len(word) > 70:
                lines.append(line)
                line = ""
            line = f"{line} {word}".strip()
        lines.append(line)
        out.append("\r\n".join(lines))
    return "\r\n\r\n".join(out)


def gutenberg_book(book_id: int, title: str, author: str, body: str) -> bytes:
    """A file laid out like gutenberg.org's plain-text books (CRLF, BOM, licence around it)."""
    fields = {"id": book_id, "title": title, "author": author, "upper": title.upper()}
    text = GUTENBERG_HEADER.format(**fields) + "\n\n" + body + GUTENBERG_FOOTER.format(**fields)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


@pytest.fixture(scope="session")
def small_config() -> Callable[..., CuratorConfig]:
    """A configuration for small, fast builds; keyword arguments override top-level fields."""

    def make(**overrides: Any) -> CuratorConfig:
        data: dict[str, Any] = {
            "seed": 11,
            "sources": [{"kind": "offline", "include_docstrings": False}],
            "documents": {"buckets": [1000, 2000], "per_bucket": 3, "tolerance": 0.05},
            "passages": {"count": 4, "target_tokens": 600, "tolerance": 0.1},
            "prompts": {"count": 10},
            "http": {"cache_dir": None, "backoff_s": 0},
        }
        data.update(overrides)
        return parse_config(data, "test config")

    return make


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    """A fresh, empty bucket on the moto server."""
    import boto3

    name = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=name)
    return name


class Site:
    """What the test HTTP server serves: path -> list of (status, body) responses, the last
    one repeating; it records every request path."""

    def __init__(self) -> None:
        self.routes: dict[str, list[tuple[int, bytes, str]]] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def respond(self, path: str) -> tuple[int, bytes, str]:
        with self.lock:
            self.requests.append(path)
            queue = self.routes.get(path)
            if not queue:
                return HTTPStatus.NOT_FOUND, b"not found", "text/plain"
            return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def http_site() -> Iterator[tuple[str, Site]]:
    """A real HTTP server on a free loopback port, in a thread; yields (base URL, site)."""
    site = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body, content_type = site.respond(self.path)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def make_book() -> Callable[..., bytes]:
    """`gutenberg_book(id, title, author, body)`; `prose(paragraphs, seed)` gives a body."""
    return gutenberg_book


@pytest.fixture(scope="session")
def make_prose() -> Callable[..., str]:
    """Deterministic hard-wrapped prose."""
    return prose
