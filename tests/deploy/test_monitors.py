"""Monitoring the kit ships: dcgm-exporter's Helm release (a chart version NVIDIA published, a
ServiceMonitor prometheus-operator accepts) and the kit's own monitors. The chart's defaults
come from the published chart (fixture); the rule is prometheus-operator's
(pkg/prometheus/resource_selector.go, validateScrapeIntervalAndTimeout ->
CompareScrapeTimeoutToScrapeInterval: a monitor whose scrapeTimeout exceeds its interval is
rejected, so none of its series are scraped)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_helpers import TERRAFORM, rendered, tf_resources, unquote

CHART = yaml.safe_load(
    (Path(__file__).parent / "fixtures/dcgm-exporter-chart.yaml").read_text(encoding="utf-8")
)
KIT_VALUES = TERRAFORM / "cluster-config/values/dcgm-exporter.yaml"
DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def duration_s(text: str) -> float:
    """A Prometheus duration (e.g. 1m30s) in seconds; anything else is an error."""
    parts = DURATION.findall(text)
    assert "".join(n + u for n, u in parts) == text, f"not a duration: {text!r}"
    assert parts, f"not a duration: {text!r}"
    return sum(int(n) * UNIT_S[u] for n, u in parts)


def scrape_timeout_fits(interval: str, timeout: str | None) -> bool:
    """prometheus-operator's rule for one endpoint (an unset timeout is always accepted)."""
    return timeout is None or duration_s(timeout) <= duration_s(interval)


def merged(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Helm's values merge: maps merge key by key, anything else is replaced."""
    out = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def pinned_version() -> str:
    return str(unquote(tf_resources("cluster-config", "helm_release")["dcgm_exporter"]["version"]))


def test_the_pinned_chart_version_is_published():
    assert pinned_version() in CHART["published_versions"], (
        f"dcgm-exporter chart {pinned_version()} is not in NVIDIA's index"
    )


def test_the_rendered_service_monitor_passes_prometheus_operator():
    defaults = CHART["default_values"][pinned_version()]
    kit = yaml.safe_load(KIT_VALUES.read_text(encoding="utf-8"))
    monitor = merged(defaults["serviceMonitor"], kit.get("serviceMonitor", {}))
    assert monitor["enabled"] is True
    assert scrape_timeout_fits(monitor["interval"], monitor.get("scrapeTimeout")), (
        f"scrapeTimeout {monitor.get('scrapeTimeout')} > interval {monitor['interval']}: "
        "prometheus-operator drops the dcgm-exporter ServiceMonitor"
    )


def test_custom_metrics_land_where_the_kit_points_the_exporter():
    kit = yaml.safe_load(KIT_VALUES.read_text(encoding="utf-8"))
    mount = CHART["default_values"][pinned_version()]["customMetrics_mount"]
    assert kit["arguments"] == ["-f", mount]


@pytest.mark.parametrize("overlay", ["load-generator/overlays/prod", "load-generator/overlays/dev"])
def test_every_monitor_the_kit_ships_passes_prometheus_operator(overlay):
    monitors = [o for o in rendered(overlay) if o["kind"] in ("ServiceMonitor", "PodMonitor")]
    assert monitors
    for monitor in monitors:
        endpoints = monitor["spec"].get("endpoints") or monitor["spec"]["podMetricsEndpoints"]
        for endpoint in endpoints:
            interval, timeout = endpoint.get("interval", "30s"), endpoint.get("scrapeTimeout")
            assert scrape_timeout_fits(interval, timeout), monitor["metadata"]["name"]


def test_the_rule_rejects_what_prometheus_operator_rejects():
    assert not scrape_timeout_fits("5s", "10s")
    assert scrape_timeout_fits("5s", "5s")
    assert scrape_timeout_fits("1m", "30s")
    with pytest.raises(AssertionError):
        duration_s("-1s")


POD_LABELS = yaml.safe_load(
    (Path(__file__).parent / "fixtures/dynamo-worker-pod-labels.yaml").read_text(encoding="utf-8")
)


def relabel(labels: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, str]:
    """Prometheus's `replace` relabeling: join the source labels with the separator, match the
    anchored regex, write the expanded replacement (an empty result deletes the target)."""
    out = dict(labels)
    for rule in rules:
        assert rule.get("action", "replace") == "replace", rule
        value = rule.get("separator", ";").join(out.get(s, "") for s in rule["sourceLabels"])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        if match is None:
            continue
        result = match.expand(rule.get("replacement", "$1").replace("$", "\\"))
        if result:
            out[rule["targetLabel"]] = result
        else:
            out.pop(rule["targetLabel"], None)
    return out


def meta_labels(pod_labels: dict[str, str]) -> dict[str, str]:
    """Kubernetes discovery's pod-label meta labels (non [a-zA-Z0-9_] becomes `_`)."""
    return {
        "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", k): v
        for k, v in pod_labels.items()
    }


@pytest.mark.parametrize("case", POD_LABELS, ids=lambda c: "+".join(c["labels"].values()))
def test_worker_series_get_the_pool_of_their_pod(case):
    (monitor,) = [
        o
        for o in rendered("load-generator/overlays/prod")
        if o["kind"] == "PodMonitor" and o["metadata"]["name"] == "gtc-demo-dynamo-workers"
    ]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert relabel(meta_labels(case["labels"]), endpoint["relabelings"]).get("pool") == case["pool"]


def test_the_relabel_model_follows_prometheus():
    rule = {"sourceLabels": ["a", "b"], "regex": "x;(.*)", "targetLabel": "t"}
    assert relabel({"a": "x", "b": "y"}, [rule])["t"] == "y"
    assert "t" not in relabel({"a": "z", "b": "y"}, [rule]), "no match: no change"
    assert "t" not in relabel({"a": "x", "t": "old"}, [rule]), "empty result deletes"
