"""Errors of the embedded local stack, each with a one-line message that says the fix."""


class LocalClusterError(Exception):
    """Root of the local stack's errors."""


class PortInUseError(LocalClusterError):
    """A port the stack must listen on is taken."""


class MissingBinaryError(LocalClusterError):
    """A program the stack runs is not installed."""


class StartupError(LocalClusterError):
    """A component did not come up in time."""


class ScaleRequestError(LocalClusterError):
    """A pool scale request that cannot be honoured (unknown pool, over the GPU budget)."""
