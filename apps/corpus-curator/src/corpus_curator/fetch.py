"""HTTP adapter for the `Fetcher` port: httpx with retries, backoff and an on-disk cache."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from corpus_curator.errors import FetchError
from corpus_curator.ports import Download

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = "gtc-demo-corpus-curator/0.1"


class HttpFetcher:
    """GET with `attempts` tries; delays `backoff_s`, doubled each retry; caches successes."""

    def __init__(
        self,
        *,
        timeout_s: float,
        attempts: int,
        backoff_s: float,
        cache_dir: Path | None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._cache_dir = cache_dir
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=timeout_s,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _cache_paths(self, url: str) -> tuple[Path, Path] | None:
        if self._cache_dir is None:
            return None
        key = hashlib.sha256(url.encode()).hexdigest()[:32]
        return self._cache_dir / f"{key}.body", self._cache_dir / f"{key}.json"

    def _cached(self, url: str) -> Download | None:
        paths = self._cache_paths(url)
        if paths is None or not paths[0].is_file() or not paths[1].is_file():
            return None
        try:
            meta = json.loads(paths[1].read_text())
            return Download(url=url, content=paths[0].read_bytes(), content_type=meta["type"])
        except (OSError, ValueError, KeyError):
            return None  # a damaged cache entry is fetched again

    def _store(self, download: Download) -> None:
        paths = self._cache_paths(download.url)
        if paths is None:
            return
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        paths[0].write_bytes(download.content)
        # metadata last: an entry counts only when both files exist
        paths[1].write_text(json.dumps({"url": download.url, "type": download.content_type}))

    def fetch(self, url: str) -> Download:
        cached = self._cached(url)
        if cached is not None:
            return cached
        problem = ""
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._backoff_s * 2 ** (attempt - 1))
            try:
                response = self._client.get(url)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            if response.status_code in RETRY_STATUSES:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                raise FetchError(f"{url}: HTTP {response.status_code}")
            download = Download(
                url=url,
                content=response.content,
                content_type=response.headers.get("content-type", ""),
            )
            self._store(download)
            return download
        raise FetchError(f"{url}: {problem} (gave up after {self._attempts} attempts)")
