"""The curator's ports: how it reaches the network and object storage (adapters implement them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from demo_common.objectstore import ObjectStore

__all__ = ["Download", "Fetcher", "ObjectStore"]


@dataclass(frozen=True)
class Download:
    """A downloaded resource."""

    url: str
    content: bytes
    content_type: str


class Fetcher(Protocol):
    """Downloads a URL; the adapter retries transient failures and may cache."""

    def fetch(self, url: str) -> Download:
        """The resource; raises FetchError naming the URL once retries are exhausted."""
        ...
