"""Exceptions of the performance-model package (all derive from the local stack's root)."""

from __future__ import annotations

from localcluster.errors import LocalClusterError


class PerfModelError(LocalClusterError):
    """Anything `localcluster.perfmodel` raises on purpose derives from this."""


class UnknownProfileError(PerfModelError):
    """A hardware profile name that does not exist; the message lists the valid names."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown hardware profile {name!r}; choose one of: {', '.join(known)}")
        self.name = name


class ProfileFitError(PerfModelError):
    """The least-squares fit of the roofline parameters did not converge."""
