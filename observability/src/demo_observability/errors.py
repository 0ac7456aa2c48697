"""The package's one root exception."""

from __future__ import annotations


class ObservabilityError(Exception):
    """A dashboard, rule or query problem, with a message fit for one CLI line."""
