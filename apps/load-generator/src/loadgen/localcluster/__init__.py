"""The embedded local stack: the real Dynamo frontend and mocker pools, Prometheus, pool control."""

from loadgen.localcluster.cluster import LocalCluster
from loadgen.localcluster.errors import LocalClusterError
from loadgen.localcluster.settings import LAYOUTS, LocalClusterSettings

__all__ = ["LAYOUTS", "LocalCluster", "LocalClusterError", "LocalClusterSettings"]
