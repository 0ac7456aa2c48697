"""Downloads: retry and backoff logic (httpx mock transport), then the real client against a
real local HTTP server serving Gutenberg-style books."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from corpus_curator.cli import main
from corpus_curator.errors import FetchError
from corpus_curator.fetch import HttpFetcher
from demo_common.corpus import load_corpus


def _fetcher(
    handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float], cache: Path | None
) -> HttpFetcher:
    return HttpFetcher(
        timeout_s=5,
        attempts=4,
        backoff_s=0.5,
        cache_dir=cache,
        sleep=sleeps.append,
        transport=httpx.MockTransport(handler),
    )


def test_transient_failures_are_retried_with_doubling_backoff() -> None:
    answers = iter([httpx.Response(503), httpx.Response(429), httpx.Response(200, text="book")])
    sleeps: list[float] = []
    with _fetcher(lambda _: next(answers), sleeps, None) as fetcher:
        assert fetcher.fetch("https://books.test/1.txt").content == b"book"
    assert sleeps == [0.5, 1.0]


def test_connection_errors_are_retried_then_reported() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sleeps: list[float] = []
    with (
        _fetcher(refuse, sleeps, None) as fetcher,
        pytest.raises(FetchError, match=r"1\.txt: ConnectError.*gave up after 4 attempts"),
    ):
        fetcher.fetch("https://books.test/1.txt")
    assert sleeps == [0.5, 1.0, 2.0]


def test_client_errors_are_not_retried() -> None:
    sleeps: list[float] = []
    with (
        _fetcher(lambda _: httpx.Response(404), sleeps, None) as fetcher,
        pytest.raises(FetchError, match=r"https://books\.test/9\.txt: HTTP 404$"),
    ):
        fetcher.fetch("https://books.test/9.txt")
    assert sleeps == []


def test_successes_are_cached_on_disk(tmp_path: Path) -> None:
    calls: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, text="body", headers={"content-type": "text/plain"})

    for _ in range(2):
        with _fetcher(serve, [], tmp_path) as fetcher:
            download = fetcher.fetch("https://books.test/1.txt")
        assert (download.content, download.content_type) == (b"body", "text/plain")
    assert calls == ["https://books.test/1.txt"]


def _gutenberg_config(tmp_path: Path, mirror: str, ids: list[int], cache: bool = True) -> Path:
    path = tmp_path / "gutenberg.yaml"
    cache_dir = tmp_path / "cache" if cache else "null"
    path.write_text(
        f"seed: 5\nsources:\n  - kind: gutenberg\n    ids: {ids}\n    mirror: {mirror}\n"
        "documents: {buckets: [800, 1500], per_bucket: 2, tolerance: 0.05}\n"
        "passages: {count: 3, target_tokens: 500, tolerance: 0.1}\n"
        "prompts: {count: 5}\n"
        f"http: {{attempts: 3, backoff_s: 0, cache_dir: {cache_dir}}}\n"
    )
    return path


@pytest.mark.integration
def test_gutenberg_books_over_real_http(
    tmp_path: Path,
    http_site: tuple[str, Any],
    make_book: Callable[..., bytes],
    make_prose: Callable[..., str],
) -> None:
    base, site = http_site
    site.routes["/cache/epub/11/pg11.txt"] = [
        (503, b"busy", "text/plain"),
        (200, make_book(11, "Harbour Tales", "A. Writer", make_prose(120, 1)), "text/plain"),
    ]
    site.routes["/cache/epub/12/pg12.txt"] = [
        (200, make_book(12, "Winter Letters", "B. Writer", make_prose(120, 2)), "text/plain")
    ]
    config = _gutenberg_config(tmp_path, base, [11, 12])
    out = tmp_path / "corpus"
    argv = ["build", "--config", str(config), "--output", str(out), "--no-progress"]
    assert main(argv, {}) == 0
    corpus = load_corpus(out)
    titles = {p.topic for p in corpus.passages} | {
        d.title.split(" (part")[0] for d in corpus.documents
    }
    assert titles <= {"Harbour Tales, by A. Writer", "Winter Letters, by B. Writer"}
    assert all(d.source.startswith("gutenberg:1") for d in corpus.documents)
    everything = "".join(r.text for r in (*corpus.documents, *corpus.passages))
    assert "GUTENBERG" not in everything
    assert "\r" not in everything
    assert site.requests.count("/cache/epub/11/pg11.txt") == 2

    # a rebuild comes from the cache: the server is not asked again
    assert main(argv, {}) == 0
    assert len(site.requests) == 3


@pytest.mark.integration
def test_unreachable_book_is_one_clear_line(
    tmp_path: Path, http_site: tuple[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    base, site = http_site
    site.routes["/cache/epub/7/pg7.txt"] = [(503, b"busy", "text/plain")]
    config = _gutenberg_config(tmp_path, base, [7], cache=False)
    code = main(["build", "--config", str(config), "--output", str(tmp_path / "c")], {})
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert err.startswith("corpus-curator: error: http://127.0.0.1:")
    assert err.endswith("pg7.txt: HTTP 503 (gave up after 3 attempts)")
    assert site.requests == ["/cache/epub/7/pg7.txt"] * 3
