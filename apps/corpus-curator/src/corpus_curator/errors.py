"""Root exception of the curator and its contextual subclasses."""

from __future__ import annotations


class CuratorError(Exception):
    """Anything the curator raises on purpose; the CLI prints it as one line, exit code 2."""


class ConfigError(CuratorError):
    """The configuration file or a command-line value is invalid."""


class SourceError(CuratorError):
    """A source (Gutenberg book, URL, local file, offline docs) could not be read."""


class FetchError(SourceError):
    """An HTTP download failed after its retries."""


class BuildError(CuratorError):
    """The sources cannot yield the corpus the configuration asks for."""


class UploadError(CuratorError):
    """Uploading to the object store failed."""
