"""Cluster adapter of the ClusterScaler port: DGD scaling adapters' scale subresource + KEDA pause.

Thin on purpose. The pools are scaled only through the DynamoGraphDeploymentScalingAdapters'
scale subresource (a webhook rejects replica edits on the DGD while adapters are on), KEDA is
paused/resumed by merge-patching `autoscaling.keda.sh/paused` on the two ScaledObjects, and pool
sizes come from the adapters' own objects at one explicit API version (`dgdsa_version`): Dynamo
1.6.x serves v1beta1 as preferred, and asking without a version gets whichever is preferred.
The official client is synchronous; each call runs in a worker thread with a request timeout.
Retries with exponential backoff on 409, 429, 5xx and transport errors; every call is
idempotent (read first, write only what differs), so a retry after a lost answer is harmless.
A 409 Conflict on a scale means the object changed under us: the scale starts over from a fresh
read (guard re-checked, nothing written if the size is already right) instead of resending.
`retries` counts the attempts that failed and were retried (the fault suite reports it).
RBAC (k8s/load-generator/base/rbac.yaml) allows exactly: get DGDSA, get/patch DGDSA/scale,
get/patch the two ScaledObjects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from pydantic import BaseModel, ConfigDict, Field

from loadgen.adapters.retry import RetryPolicy
from loadgen.adapters.scale_check import check_scale
from loadgen.controller.ports import POOL_NAMES, ClusterState, PoolName, PoolState
from loadgen.errors import ScaleRejected, ScalerError, ScalerUnavailable
from loadgen.settings import Settings

log = logging.getLogger(__name__)

DGDSA_GROUP = "nvidia.com"
DGDSA_PLURAL = "dynamographdeploymentscalingadapters"
KEDA_GROUP = "keda.sh"
KEDA_VERSION = "v1alpha1"
SCALEDOBJECT_PLURAL = "scaledobjects"
PAUSED_ANNOTATION = "autoscaling.keda.sh/paused"
# KEDA also pauses while this one exists (at a fixed count); resuming removes it too.
PAUSED_REPLICAS_ANNOTATION = "autoscaling.keda.sh/paused-replicas"
RETRYABLE_STATUS = frozenset({409, 429, 500, 502, 503, 504})
DgdsaVersion = Literal["v1alpha1", "v1beta1"]


class KubernetesTargets(BaseModel):
    """What the adapter touches: names are contracts with k8s/dynamo, k8s/keda and the RBAC."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = Field(min_length=1)
    scaling_adapters: dict[PoolName, str]
    scaled_objects: dict[PoolName, str]
    dgdsa_version: DgdsaVersion = "v1alpha1"
    budget_gpus: int = Field(ge=2)


def parse_bool_annotation(value: str | None) -> bool:
    """KEDA's reading of a boolean annotation: absent = false, not a Go bool = true."""
    if value is None:
        return False
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    return value not in ("0", "f", "F", "FALSE", "false", "False")


def api_client(host: str | None = None, token: str | None = None) -> k8s.ApiClient:
    """In-cluster config when running in a pod, else the kubeconfig; or an explicit host+token."""
    configuration = k8s.Configuration()
    if host is not None:
        configuration.host = host
        if token is not None:
            configuration.api_key = {"authorization": token}
            configuration.api_key_prefix = {"authorization": "Bearer"}
    else:
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)
        except ConfigException:
            k8s_config.load_kube_config(client_configuration=configuration)
    # Retries are ours (with backoff and a reason); urllib3's would hide them.
    configuration.retries = 0
    return k8s.ApiClient(configuration)


class KubernetesScaler:
    """ClusterScaler over the Kubernetes API (official client)."""

    def __init__(
        self,
        api: k8s.CustomObjectsApi,
        targets: KubernetesTargets,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._api = api
        self._targets = targets
        self._retry = retry or RetryPolicy()
        self.retries = 0

    async def state(self) -> ClusterState:
        pools = {}
        for pool in POOL_NAMES:
            obj = await self._get_adapter(pool)
            desired = int(obj.get("spec", {}).get("replicas", 0))
            # status.replicas: the DGD service's replicas as the operator last synced them.
            # The DGDSA status has no readiness; until it is synced the change counts as starting.
            current = int((obj.get("status") or {}).get("replicas", 0))
            ready = min(current, desired)
            pools[pool] = PoolState(desired=desired, ready=ready, starting=desired - ready)
        return ClusterState(pools=pools, budget_gpus=self._targets.budget_gpus)

    async def scale(self, pool: PoolName, replicas: int) -> None:
        retry = self._retry
        for attempt in range(retry.attempts):
            if attempt:
                self.retries += 1
                await asyncio.sleep(retry.backoff_s(attempt - 1))
            state = await self.state()
            desired = {name: s.desired for name, s in state.pools.items()}
            name = check_scale(pool, replicas, desired, self._targets.budget_gpus)
            if desired[name] == replicas:
                return
            adapter = self._targets.scaling_adapters[name]
            try:
                answer = await self._call(
                    f"scale {adapter} to {replicas}",
                    self._api.patch_namespaced_custom_object_scale,
                    DGDSA_GROUP,
                    self._targets.dgdsa_version,
                    self._targets.namespace,
                    DGDSA_PLURAL,
                    adapter,
                    {"spec": {"replicas": replicas}},
                    conflict_retried=False,
                )
            except _Conflict as exc:
                log.warning("scale %s: %s; reading it again", adapter, exc)
                continue
            break
        else:
            raise ScalerUnavailable(
                f"scale {pool} to {replicas}: still conflicting after {retry.attempts} attempts"
            )
        got = (answer or {}).get("spec", {}).get("replicas")
        if got != replicas:
            raise ScalerError(f"scale {adapter}: the API answered spec.replicas={got!r}")
        log.info("scaled %s to %d replicas", adapter, replicas)

    async def set_autoscaling_paused(self, paused: bool) -> None:
        for pool in POOL_NAMES:
            name = self._targets.scaled_objects[pool]
            annotations = await self._scaled_object_annotations(name)
            patch: dict[str, str | None] = {}
            if paused != parse_bool_annotation(annotations.get(PAUSED_ANNOTATION)):
                patch[PAUSED_ANNOTATION] = "true" if paused else "false"
            if not paused and PAUSED_REPLICAS_ANNOTATION in annotations:
                patch[PAUSED_REPLICAS_ANNOTATION] = None  # merge patch: null deletes
            if not patch:
                continue
            await self._call(
                f"{'pause' if paused else 'resume'} KEDA on {name}",
                self._api.patch_namespaced_custom_object,
                KEDA_GROUP,
                KEDA_VERSION,
                self._targets.namespace,
                SCALEDOBJECT_PLURAL,
                name,
                {"metadata": {"annotations": patch}},
            )
            log.info("KEDA %s on ScaledObject %s", "paused" if paused else "resumed", name)

    async def autoscaling_paused(self) -> bool:
        for pool in POOL_NAMES:
            annotations = await self._scaled_object_annotations(self._targets.scaled_objects[pool])
            if PAUSED_REPLICAS_ANNOTATION in annotations or parse_bool_annotation(
                annotations.get(PAUSED_ANNOTATION)
            ):
                return True
        return False

    async def _get_adapter(self, pool: PoolName) -> Mapping[str, Any]:
        name = self._targets.scaling_adapters[pool]
        obj = await self._call(
            f"read {name}",
            self._api.get_namespaced_custom_object,
            DGDSA_GROUP,
            self._targets.dgdsa_version,
            self._targets.namespace,
            DGDSA_PLURAL,
            name,
        )
        if not isinstance(obj, Mapping):
            raise ScalerError(f"read {name}: not an object")
        return obj

    async def _scaled_object_annotations(self, name: str) -> Mapping[str, str]:
        obj = await self._call(
            f"read ScaledObject {name}",
            self._api.get_namespaced_custom_object,
            KEDA_GROUP,
            KEDA_VERSION,
            self._targets.namespace,
            SCALEDOBJECT_PLURAL,
            name,
        )
        metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
        return dict((metadata or {}).get("annotations") or {})

    async def _call(
        self, what: str, method: Callable[..., Any], *args: Any, conflict_retried: bool = True
    ) -> Any:
        retry = self._retry
        last = "no attempt"
        for attempt in range(retry.attempts):
            if attempt:
                self.retries += 1
                await asyncio.sleep(retry.backoff_s(attempt - 1))
            try:
                return await asyncio.to_thread(
                    method, *args, _request_timeout=retry.request_timeout_s
                )
            except ApiException as exc:
                status = int(exc.status or 0)
                if status == 409 and not conflict_retried:
                    raise _Conflict(f"{what}: HTTP 409 {_message(exc)}") from exc
                if status not in RETRYABLE_STATUS:
                    raise ScaleRejected(f"{what}: HTTP {status} {_message(exc)}") from exc
                last = f"HTTP {status} {_message(exc)}"
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            log.warning("%s: attempt %d/%d failed: %s", what, attempt + 1, retry.attempts, last)
        raise ScalerUnavailable(f"{what}: gave up after {retry.attempts} attempts ({last})")


class _Conflict(ScalerError):
    """409: the object changed since it was read; the caller reads it again."""


def _message(exc: ApiException) -> str:
    """The `message` of the API's Status body, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(exc.reason or "")


def targets_from_settings(settings: Settings, budget_gpus: int) -> KubernetesTargets:
    """The adapter's targets from the app's settings (LOADGEN_K8S_*, LOADGEN_*_SCAL*)."""
    return KubernetesTargets(
        namespace=settings.k8s_namespace,
        scaling_adapters={
            "prefill": settings.prefill_scaling_adapter,
            "decode": settings.decode_scaling_adapter,
        },
        scaled_objects={
            "prefill": settings.prefill_scaledobject,
            "decode": settings.decode_scaledobject,
        },
        dgdsa_version=settings.dgdsa_api_version,
        budget_gpus=budget_gpus,
    )
