"""The embedded local stack: the real Dynamo frontend and mocker pools, Prometheus, pool control."""

from localcluster.cluster import LocalCluster
from localcluster.errors import LocalClusterError
from localcluster.settings import LAYOUTS, LocalClusterSettings

__all__ = ["LAYOUTS", "LocalCluster", "LocalClusterError", "LocalClusterSettings"]
