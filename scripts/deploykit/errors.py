"""Exceptions of the deploy kit: one root, with a subclass per concern."""


class DeployKitError(Exception):
    """Root of every error the deploy kit raises on purpose."""


class RenderError(DeployKitError):
    """A kustomization uses something the renderer does not support, or is malformed."""


class ClusterError(DeployKitError):
    """A call to the cluster (kubectl, Prometheus through the API server) failed."""
