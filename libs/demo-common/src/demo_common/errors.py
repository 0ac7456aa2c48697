"""Root exception of demo_common and its contextual subclasses."""

from __future__ import annotations


class DemoCommonError(Exception):
    """Anything demo_common raises on purpose derives from this."""


class ObjectStoreError(DemoCommonError):
    """An object store (local folder or S3/Spaces bucket) could not be read or written."""


class ObjectNotFoundError(ObjectStoreError):
    """The object store has no object under the requested key."""

    def __init__(self, location: str) -> None:
        super().__init__(f"{location}: not found")
        self.location = location


class CorpusError(DemoCommonError):
    """The corpus is missing, incomplete or malformed; the message names the file (and line)."""


class ToolNotFoundError(DemoCommonError):
    """A command-line tool the kit runs (kubectl, uv, aiperf) is not configured or installed."""
