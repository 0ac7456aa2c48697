"""Exceptions of the deploy kit: one root, with a subclass per concern."""


class DeployKitError(Exception):
    """Root of every error the deploy kit raises on purpose."""


class RenderError(DeployKitError):
    """kubectl kustomize failed, or a kustomization to compose is malformed."""


class ToolMissingError(DeployKitError):
    """A CLI tool the kit needs (kubectl, terraform) is not installed: `make tools` installs it."""


class ClusterError(DeployKitError):
    """A call to the cluster (kubectl, Prometheus through the API server) failed."""


class ProfileError(DeployKitError):
    """Profiler output that cannot be turned into a mocker profile."""
