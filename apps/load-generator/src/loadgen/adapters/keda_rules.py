"""KEDA + HPA scaling rules as pure functions: the replica count a ScaledObject's HPA would set.

Facts from upstream (kedacore/keda v2.20 `apis/keda/v1alpha1`, `pkg/scalers/prometheus_scaler.go`,
`config/crd/bases/keda.sh_scaledobjects.yaml`; kubernetes `pkg/controller/podautoscaler`):
- KEDA hands a Prometheus trigger's value to an HPA as an external metric. metricType
  AverageValue (KEDA's default): desired = ceil(value / threshold); Value:
  desired = ceil(ready pods x value / threshold). Either way no change while the usage ratio is
  within the tolerance (10 % by default, per direction under `behavior.*.tolerance`).
- The HPA then applies `behavior`: stabilization windows (scale-up 0 s, scale-down 300 s by
  default: the lowest/highest recommendation within the window wins) and rate policies
  (scale-up by default max(+100 %, +4 pods) per 15 s, scale-down 100 % per 15 s), then clamps to
  [minReplicaCount, maxReplicaCount]. Above max / below min the HPA goes straight to the bound.
- activationThreshold only gates 0 <-> 1 (KEDA's operator); pools here never go below 1, so the
  activity is reported, not acted on. pollingInterval is KEDA's own query cadence (30 s default);
  the HPA asks for the metric every sync period (15 s) and gets a fresh query unless the trigger
  sets useCachedMetrics, in which case it gets the value of the last poll.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from demo_common.gpu_budget import MIN_POOL_REPLICAS
from loadgen.clock import NS_PER_S

HPA_SYNC_PERIOD_S = 15  # kube-controller-manager --horizontal-pod-autoscaler-sync-period
DEFAULT_TOLERANCE = 0.1  # kube-controller-manager --horizontal-pod-autoscaler-tolerance
KEDA_DEFAULT_POLLING_INTERVAL_S = 30
KEDA_DEFAULT_MAX_REPLICAS = 100

SelectPolicy = Literal["Max", "Min", "Disabled"]


class _Upstream(BaseModel):
    """Upstream's field names (camelCase); unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ScalingPolicy(_Upstream):
    type: Literal["Pods", "Percent"]
    value: int = Field(gt=0)
    period_seconds: int = Field(alias="periodSeconds", gt=0, le=1800)


class ScalingRules(_Upstream):
    stabilization_window_seconds: int | None = Field(
        default=None, alias="stabilizationWindowSeconds", ge=0, le=3600
    )
    select_policy: SelectPolicy | None = Field(default=None, alias="selectPolicy")
    policies: tuple[ScalingPolicy, ...] | None = None
    tolerance: float | None = Field(default=None, ge=0)

    @field_validator("tolerance", mode="before")
    @classmethod
    def _quantity(cls, value: object) -> object:
        # A Kubernetes quantity: "0.05", "50m" (milli) or a number.
        if isinstance(value, str) and value.endswith("m"):
            return float(value[:-1]) / 1000
        return value


class Behavior(_Upstream):
    scale_up: ScalingRules | None = Field(default=None, alias="scaleUp")
    scale_down: ScalingRules | None = Field(default=None, alias="scaleDown")


class HpaConfig(_Upstream):
    name: str | None = None
    behavior: Behavior | None = None


class Advanced(_Upstream):
    restore_to_original_replica_count: bool = Field(
        default=False, alias="restoreToOriginalReplicaCount"
    )
    horizontal_pod_autoscaler_config: HpaConfig | None = Field(
        default=None, alias="horizontalPodAutoscalerConfig"
    )


class PrometheusMetadata(_Upstream):
    server_address: str = Field(alias="serverAddress")
    query: str = Field(min_length=1)
    threshold: float = Field(gt=0)
    activation_threshold: float = Field(default=0.0, alias="activationThreshold")
    ignore_null_values: bool = Field(default=True, alias="ignoreNullValues")
    namespace: str | None = None


class PrometheusTrigger(_Upstream):
    type: Literal["prometheus"]
    name: str | None = None
    metric_type: Literal["AverageValue", "Value"] = Field(
        default="AverageValue", alias="metricType"
    )
    use_cached_metrics: bool = Field(default=False, alias="useCachedMetrics")
    metadata: PrometheusMetadata


class ScaleTargetRef(_Upstream):
    api_version: str | None = Field(default=None, alias="apiVersion")
    kind: str | None = None
    name: str = Field(min_length=1)


class ScaledObjectSpec(_Upstream):
    scale_target_ref: ScaleTargetRef = Field(alias="scaleTargetRef")
    min_replica_count: int | None = Field(default=None, alias="minReplicaCount", ge=0)
    max_replica_count: int | None = Field(default=None, alias="maxReplicaCount", ge=1)
    polling_interval: int | None = Field(default=None, alias="pollingInterval", gt=0)
    cooldown_period: int | None = Field(default=None, alias="cooldownPeriod", ge=0)
    advanced: Advanced | None = None
    # One trigger: several would make the HPA take the highest of several metrics, which the
    # kit's ScaledObjects do not use; a second trigger is rejected rather than half-emulated.
    triggers: tuple[PrometheusTrigger] = Field(min_length=1, max_length=1)


class ObjectMeta(BaseModel):
    """Kubernetes metadata is open-ended; only these fields are read."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class ScaledObject(_Upstream):
    api_version: Literal["keda.sh/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["ScaledObject"]
    metadata: ObjectMeta
    spec: ScaledObjectSpec


@dataclass(frozen=True)
class Rules:
    """One direction's HPA scaling rules with the Kubernetes defaults filled in."""

    window_s: int
    select: SelectPolicy
    policies: tuple[ScalingPolicy, ...]
    tolerance: float


DEFAULT_SCALE_UP = Rules(
    window_s=0,
    select="Max",
    policies=(
        ScalingPolicy(type="Pods", value=4, periodSeconds=15),
        ScalingPolicy(type="Percent", value=100, periodSeconds=15),
    ),
    tolerance=DEFAULT_TOLERANCE,
)
DEFAULT_SCALE_DOWN = Rules(
    window_s=300,
    select="Max",
    policies=(ScalingPolicy(type="Percent", value=100, periodSeconds=15),),
    tolerance=DEFAULT_TOLERANCE,
)


def _resolve(given: ScalingRules | None, default: Rules) -> Rules:
    # Kubernetes fills each missing field separately (GenerateHPAScale{Up,Down}Rules).
    if given is None:
        return default
    return Rules(
        window_s=default.window_s
        if given.stabilization_window_seconds is None
        else given.stabilization_window_seconds,
        select=given.select_policy or default.select,
        policies=default.policies if given.policies is None else given.policies,
        tolerance=default.tolerance if given.tolerance is None else given.tolerance,
    )


@dataclass(frozen=True)
class PoolRules:
    """Everything the HPA maths needs about one ScaledObject, defaults resolved."""

    name: str
    query: str
    metric_type: Literal["AverageValue", "Value"]
    threshold: float
    activation_threshold: float
    min_replicas: int
    max_replicas: int
    polling_interval_s: int
    use_cached_metrics: bool
    scale_up: Rules
    scale_down: Rules

    @classmethod
    def from_scaled_object(cls, obj: ScaledObject) -> PoolRules:
        spec = obj.spec
        trigger = spec.triggers[0]
        hpa = spec.advanced.horizontal_pod_autoscaler_config if spec.advanced else None
        behavior = hpa.behavior if hpa and hpa.behavior else Behavior()
        max_replicas = spec.max_replica_count or KEDA_DEFAULT_MAX_REPLICAS
        return cls(
            name=obj.metadata.name,
            query=trigger.metadata.query,
            metric_type=trigger.metric_type,
            threshold=trigger.metadata.threshold,
            activation_threshold=trigger.metadata.activation_threshold,
            # KEDA's 0 (its default) would mean scale-to-zero; a pool keeps one worker.
            min_replicas=max(spec.min_replica_count or 0, MIN_POOL_REPLICAS),
            max_replicas=max_replicas,
            polling_interval_s=spec.polling_interval or KEDA_DEFAULT_POLLING_INTERVAL_S,
            use_cached_metrics=trigger.use_cached_metrics,
            scale_up=_resolve(behavior.scale_up, DEFAULT_SCALE_UP),
            scale_down=_resolve(behavior.scale_down, DEFAULT_SCALE_DOWN),
        )


@dataclass(frozen=True)
class Stamped:
    """A replica count (a recommendation, or the size of a scale event) at an instant."""

    at_ns: int
    replicas: int


@dataclass(frozen=True)
class HpaMemory:
    """What an HPA remembers between syncs: recent recommendations and scale events."""

    recommendations: tuple[Stamped, ...] = ()
    scale_ups: tuple[Stamped, ...] = ()
    scale_downs: tuple[Stamped, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    """One HPA sync: the replicas to set, the metric's own recommendation, and why."""

    desired: int
    recommended: int | None
    active: bool
    reason: str
    memory: HpaMemory = field(repr=False)


def metric_recommendation(
    rules: PoolRules, value: float, current: int, ready: int
) -> tuple[int, float, bool]:
    """Replicas the metric alone asks for, the usage ratio (1.0 = on target), within tolerance."""
    if rules.metric_type == "AverageValue":
        ratio = value / (rules.threshold * current) if current else math.inf
        wanted = math.ceil(value / rules.threshold)
    else:
        ratio = value / rules.threshold
        # The HPA multiplies by READY pods: a pool whose new workers still load is not grown
        # again on the same breach.
        wanted = math.ceil(ratio * ready) if current else math.ceil(ratio)
    within = 1 - rules.scale_down.tolerance <= ratio <= 1 + rules.scale_up.tolerance
    return (current if within else wanted), ratio, within


def _changed_within(events: Sequence[Stamped], period_s: int, now_ns: int) -> int:
    cutoff_ns = now_ns - period_s * NS_PER_S
    return sum(e.replicas for e in events if e.at_ns > cutoff_ns)


def _rate_limit(
    rules: PoolRules, memory: HpaMemory, now_ns: int, current: int, wanted: int
) -> tuple[int, str]:
    if wanted > current:
        if rules.scale_up.select == "Disabled":
            return current, "scale-up disabled by selectPolicy"
        proposals = []
        for policy in rules.scale_up.policies:
            start = (
                current
                - _changed_within(memory.scale_ups, policy.period_seconds, now_ns)
                + _changed_within(memory.scale_downs, policy.period_seconds, now_ns)
            )
            if policy.type == "Pods":
                proposals.append(start + policy.value)
            else:
                proposals.append(math.ceil(start * (1 + policy.value / 100)))
        limit = max(proposals) if rules.scale_up.select == "Max" else min(proposals)
        allowed = min(rules.max_replicas, max(limit, current))
        if wanted > allowed:
            why = "maxReplicaCount" if allowed == rules.max_replicas else "scale-up policy"
            return allowed, f"scale-up limited by {why}"
        return wanted, "scale up"
    if wanted < current:
        if rules.scale_down.select == "Disabled":
            return current, "scale-down disabled by selectPolicy"
        proposals = []
        for policy in rules.scale_down.policies:
            start = (
                current
                - _changed_within(memory.scale_ups, policy.period_seconds, now_ns)
                + _changed_within(memory.scale_downs, policy.period_seconds, now_ns)
            )
            if policy.type == "Pods":
                proposals.append(start - policy.value)
            else:
                proposals.append(int(start * (1 - policy.value / 100)))
        limit = min(proposals) if rules.scale_down.select == "Max" else max(proposals)
        allowed = max(rules.min_replicas, min(limit, current))
        if wanted < allowed:
            why = "minReplicaCount" if allowed == rules.min_replicas else "scale-down policy"
            return allowed, f"scale-down limited by {why}"
        return wanted, "scale down"
    return wanted, "steady"


def _stabilize(
    rules: PoolRules, memory: HpaMemory, now_ns: int, current: int, wanted: int
) -> tuple[int, HpaMemory]:
    up_cutoff_ns = now_ns - rules.scale_up.window_s * NS_PER_S
    down_cutoff_ns = now_ns - rules.scale_down.window_s * NS_PER_S
    up_floor = wanted
    down_ceiling = wanted
    for rec in memory.recommendations:
        if rec.at_ns > up_cutoff_ns:
            up_floor = min(up_floor, rec.replicas)
        if rec.at_ns > down_cutoff_ns:
            down_ceiling = max(down_ceiling, rec.replicas)
    stabilized = min(max(current, up_floor), down_ceiling)
    oldest_kept_ns = min(up_cutoff_ns, down_cutoff_ns)
    kept = tuple(r for r in memory.recommendations if r.at_ns > oldest_kept_ns)
    return stabilized, replace(memory, recommendations=(*kept, Stamped(now_ns, wanted)))


def evaluate(
    rules: PoolRules,
    memory: HpaMemory,
    *,
    now_ns: int,
    value: float,
    current: int,
    ready: int,
) -> Evaluation:
    """One HPA sync for a pool whose target has `current` replicas (`ready` of them ready)."""
    active = value > rules.activation_threshold
    if current == 0:
        return Evaluation(0, None, active, "target has 0 replicas: HPA disabled", memory)
    if current > rules.max_replicas:
        return Evaluation(rules.max_replicas, None, active, "above maxReplicaCount", memory)
    if current < rules.min_replicas:
        return Evaluation(rules.min_replicas, None, active, "below minReplicaCount", memory)
    wanted, ratio, within = metric_recommendation(rules, value, current, ready)
    stabilized, memory = _stabilize(rules, memory, now_ns, current, wanted)
    desired, reason = _rate_limit(rules, memory, now_ns, current, stabilized)
    if within:
        reason = f"usage ratio {ratio:.2f} within tolerance"
    elif wanted == current:
        reason = f"usage ratio {ratio:.2f} still asks for {current}"
    elif stabilized == current:
        reason = f"held by the stabilization window (metric asks for {wanted})"
    return Evaluation(desired, wanted, active, reason, memory)


def record_scale(memory: HpaMemory, now_ns: int, before: int, after: int, keep_s: int) -> HpaMemory:
    """Remember a scale that happened (policies count replicas changed per period)."""
    cutoff_ns = now_ns - keep_s * NS_PER_S
    ups = tuple(e for e in memory.scale_ups if e.at_ns > cutoff_ns)
    downs = tuple(e for e in memory.scale_downs if e.at_ns > cutoff_ns)
    if after > before:
        ups = (*ups, Stamped(now_ns, after - before))
    elif after < before:
        downs = (*downs, Stamped(now_ns, before - after))
    return replace(memory, scale_ups=ups, scale_downs=downs)


def longest_period_s(rules: PoolRules) -> int:
    """How long scale events matter to the rate policies."""
    periods = [p.period_seconds for p in (*rules.scale_up.policies, *rules.scale_down.policies)]
    return max(periods, default=0)
