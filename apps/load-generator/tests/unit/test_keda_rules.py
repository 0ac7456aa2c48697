"""KEDA + HPA rules: metric maths, tolerance, stabilization windows, rate policies, defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from loadgen.adapters.keda_rules import (
    DEFAULT_SCALE_DOWN,
    DEFAULT_SCALE_UP,
    HpaMemory,
    PoolRules,
    ScaledObject,
    evaluate,
    longest_period_s,
    record_scale,
)
from loadgen.clock import NS_PER_S


def scaled_object(**spec: object) -> ScaledObject:
    trigger = {
        "type": "prometheus",
        "metadata": {"serverAddress": "http://p:9090", "query": "q", "threshold": "100"},
    }
    base: dict[str, object] = {
        "scaleTargetRef": {"name": "gtc-demo-trtllmdecodeworker"},
        "triggers": [trigger],
    }
    base.update(spec)
    return ScaledObject.model_validate(
        {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "so"}}
        | {"spec": base}
    )


def rules(**spec: object) -> PoolRules:
    return PoolRules.from_scaled_object(scaled_object(**spec))


class Hpa:
    """Drives evaluate() like the HPA controller: one sync every 15 s, scales what it decides."""

    def __init__(self, pool_rules: PoolRules, replicas: int) -> None:
        self.rules = pool_rules
        self.replicas = replicas
        self.memory = HpaMemory()
        self.t_s = 0

    def sync(self, value: float, ready: int | None = None, dt_s: int = 15) -> int:
        now_ns = self.t_s * NS_PER_S
        result = evaluate(
            self.rules,
            self.memory,
            now_ns=now_ns,
            value=value,
            current=self.replicas,
            ready=self.replicas if ready is None else ready,
        )
        self.memory = result.memory
        if result.desired != self.replicas:
            self.memory = record_scale(
                self.memory, now_ns, self.replicas, result.desired, longest_period_s(self.rules)
            )
            self.replicas = result.desired
        self.t_s += dt_s
        return self.replicas


def test_defaults_are_keda_and_kubernetes_defaults() -> None:
    r = rules()
    assert r.metric_type == "AverageValue"
    assert r.polling_interval_s == 30
    assert (r.min_replicas, r.max_replicas) == (1, 100)  # KEDA min 0 -> a pool keeps one
    assert r.scale_up == DEFAULT_SCALE_UP
    assert r.scale_down == DEFAULT_SCALE_DOWN
    assert r.scale_down.window_s == 300
    assert r.scale_up.window_s == 0
    assert r.activation_threshold == 0
    assert r.threshold == 100


def test_partial_behavior_fills_each_missing_field_with_its_default() -> None:
    r = rules(
        advanced={
            "horizontalPodAutoscalerConfig": {
                "behavior": {
                    "scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}
                }
            }
        }
    )
    assert r.scale_down.window_s == 300
    assert r.scale_down.select == "Max"
    assert [(p.type, p.value) for p in r.scale_down.policies] == [("Pods", 1)]
    assert r.scale_up == DEFAULT_SCALE_UP


def test_average_value_asks_for_ceil_of_value_over_threshold_clamped_to_max() -> None:
    hpa = Hpa(rules(maxReplicaCount=3), replicas=1)
    assert hpa.sync(250) == 3  # ceil(2.5)
    assert Hpa(rules(maxReplicaCount=3), replicas=1).sync(1000) == 3


def test_ten_percent_tolerance_is_a_dead_band() -> None:
    # AverageValue: ratio = value / (threshold x replicas) = 215 / 200 = 1.075 -> no change.
    assert Hpa(rules(), replicas=2).sync(215) == 2
    assert Hpa(rules(), replicas=2).sync(225) == 3  # 1.125: ceil(2.25)
    tight = rules(
        advanced={"horizontalPodAutoscalerConfig": {"behavior": {"scaleUp": {"tolerance": "50m"}}}}
    )
    assert tight.scale_up.tolerance == pytest.approx(0.05)
    assert Hpa(tight, replicas=2).sync(215) == 3


def test_value_metric_multiplies_the_ratio_by_ready_pods() -> None:
    value = rules(
        triggers=[
            {
                "type": "prometheus",
                "metricType": "Value",
                "metadata": {"serverAddress": "http://p", "query": "q", "threshold": "0.8"},
            }
        ]
    )
    # ratio 1.5 / 0.8 = 1.875 with 2 ready -> ceil(3.75) = 4
    assert Hpa(value, replicas=2).sync(1.5) == 4
    # Same breach while one of the two is still loading: ceil(1.875 x 1) = 2 -> no new pod.
    assert Hpa(value, replicas=2).sync(1.5, ready=1) == 2


def test_default_scale_up_is_max_of_double_or_four_pods_per_15_s() -> None:
    hpa = Hpa(rules(), replicas=1)
    assert hpa.sync(10_000) == 5  # max(1 + 4, 1 x 2)
    assert hpa.sync(10_000) == 10  # the first event left the 15 s period: max(5 + 4, 5 x 2)
    assert hpa.sync(10_000) == 20


def test_default_scale_down_waits_out_300_s_of_recommendations() -> None:
    hpa = Hpa(rules(), replicas=1)
    assert hpa.sync(400) == 4
    downs = [hpa.sync(50) for _ in range(20)]  # one every 15 s
    # The 400 recommendation made at t=0 holds the size until it is older than 300 s.
    assert downs[:19] == [4] * 19
    assert downs[19] == 1  # t = 300 s: the window is empty of it; default policy removes all


def test_project_behavior_scale_up_window_and_pod_policy() -> None:
    kit = rules(
        minReplicaCount=1,
        maxReplicaCount=3,
        advanced={
            "horizontalPodAutoscalerConfig": {
                "behavior": {
                    "scaleUp": {
                        "stabilizationWindowSeconds": 30,
                        "selectPolicy": "Max",
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 240}],
                    }
                }
            }
        },
    )
    hpa = Hpa(kit, replicas=1)
    assert hpa.sync(50) == 1  # t=0 calm: recommendation 1 recorded
    assert hpa.sync(300) == 1  # t=15 breach (asks 3); the calm t=0 one is inside the 30 s window
    assert hpa.sync(300) == 2  # t=30: t=0 left the window (strictly after the cutoff); +1 pod
    held = [hpa.sync(300) for _ in range(15)]  # t=45..255: one pod per 240 s
    assert held == [2] * 15
    assert hpa.sync(300) == 3  # t=270: the t=30 event left the 240 s period


def test_select_policy_disabled_blocks_the_direction() -> None:
    frozen = rules(
        advanced={
            "horizontalPodAutoscalerConfig": {"behavior": {"scaleUp": {"selectPolicy": "Disabled"}}}
        }
    )
    assert Hpa(frozen, replicas=2).sync(10_000) == 2


def test_outside_bounds_goes_straight_to_the_bound() -> None:
    r = rules(minReplicaCount=2, maxReplicaCount=4)
    result = evaluate(r, HpaMemory(), now_ns=0, value=0, current=6, ready=6)
    assert (result.desired, result.reason) == (4, "above maxReplicaCount")
    result = evaluate(r, HpaMemory(), now_ns=0, value=10_000, current=1, ready=1)
    assert (result.desired, result.reason) == (2, "below minReplicaCount")


def test_activation_is_reported_and_zero_replicas_disable_the_hpa() -> None:
    r = rules(
        triggers=[
            {
                "type": "prometheus",
                "metadata": {
                    "serverAddress": "http://p",
                    "query": "q",
                    "threshold": "10",
                    "activationThreshold": "5",
                },
            }
        ]
    )
    assert evaluate(r, HpaMemory(), now_ns=0, value=5, current=1, ready=1).active is False
    assert evaluate(r, HpaMemory(), now_ns=0, value=6, current=1, ready=1).active is True
    idle = evaluate(r, HpaMemory(), now_ns=0, value=1000, current=0, ready=0)
    assert idle.desired == 0
    assert "disabled" in idle.reason


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"fallback": {"failureThreshold": 3, "replicas": 2}}, "fallback"),
        ({"triggers": [{"type": "cpu", "metadata": {}}]}, "type"),
        ({"advanced": {"scalingModifiers": {"formula": "a"}}}, "scalingModifiers"),
        ({"pollingInterval": 0}, "pollingInterval"),
    ],
)
def test_unsupported_or_invalid_fields_are_rejected_by_name(
    spec: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        scaled_object(**spec)


def test_value_metric_with_no_ready_pods_asks_for_zero_like_the_real_hpa() -> None:
    # ceil(ratio x 0 ready) = 0: a fresh HPA (e.g. right after KEDA is resumed) whose pods all
    # still load scales down by its policy; with history, the 300 s window holds the size.
    kit = PoolRules.from_scaled_object(
        scaled_object(
            minReplicaCount=1,
            triggers=[
                {
                    "type": "prometheus",
                    "metricType": "Value",
                    "metadata": {"serverAddress": "http://p", "query": "q", "threshold": "0.8"},
                }
            ],
            advanced={
                "horizontalPodAutoscalerConfig": {
                    "behavior": {
                        "scaleDown": {
                            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]
                        }
                    }
                }
            },
        )
    )
    fresh = evaluate(kit, HpaMemory(), now_ns=0, value=2.0, current=3, ready=0)
    assert (fresh.recommended, fresh.desired) == (0, 2)
    hpa = Hpa(kit, replicas=3)
    assert hpa.sync(0.8, ready=3) == 3  # on target: a recommendation of 3 is remembered
    assert hpa.sync(2.0, ready=0) == 3  # asks for 0, held by the 300 s scale-down window
