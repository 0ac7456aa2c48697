"""Names of the cluster objects the deploy kit reads and writes, and the one rule for which
components a scaling adapter owns (shared by redeploy, preflight, profiling and the kubectl
adapters, so none of them imports another for a constant)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Explicit API versions: a bare `kubectl get dgd` returns the preferred version, which is
# v1beta1 in Dynamo 1.6.x but may change; the kit parses exactly the shape it asks for.
DGD_RESOURCE = "dynamographdeployments.v1beta1.nvidia.com"
DGDSA_RESOURCE = "dynamographdeploymentscalingadapters.v1beta1.nvidia.com"
KAI_QUEUE_RESOURCE = "queues.v2.scheduling.run.ai"
KAI_QUEUE_ANNOTATION = "nvidia.com/kai-scheduler-queue"
GROVE_ANNOTATION = "nvidia.com/enable-grove"
PAUSE_ANNOTATION = "autoscaling.keda.sh/paused"
ENGINE_CONFIGMAP = "gtc-demo-engine-configs"


def adapter_owns_replicas(component: Mapping[str, Any]) -> bool:
    """Whether a DGD component's replicas belong to its scaling adapter. Dynamo 1.6.1's
    v1beta1 type is `scalingAdapter: {enabled: bool}`; newer operators made it a marker struct
    (`scalingAdapter: {}` turns the adapter on, and `enabled` is no longer a field). So: present,
    and not explicitly disabled."""
    if "scalingAdapter" not in component:
        return False
    adapter = component["scalingAdapter"] or {}
    return adapter.get("enabled", True) is not False
