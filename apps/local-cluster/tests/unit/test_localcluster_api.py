"""Control API contract (in-process ASGI, no sockets) and the generated Prometheus config."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from demo_testing.openapi import NON_FINITE, numeric_inputs
from localcluster.control_api import (
    ClusterStatus,
    GpuSlots,
    PoolStatus,
    WorkerInfo,
    create_control_app,
)
from localcluster.errors import ScaleRequestError
from localcluster.prometheus import prometheus_config, write_worker_targets
from localcluster.settings import LocalClusterSettings, PoolName


class RecordingController:
    """A PoolController that keeps desired counts in a dict and enforces a slot budget."""

    def __init__(self, slots: int = 8) -> None:
        self.slots = slots
        self.desired: dict[PoolName, int] = {"prefill": 2, "decode": 3}
        self.calls: list[tuple[PoolName, int]] = []

    def status(self) -> ClusterStatus:
        used = sum(self.desired.values())
        return ClusterStatus(
            pools={
                p: PoolStatus(desired=n, pending=0, starting=0, ready=n, stopping=0, replacements=0)
                for p, n in self.desired.items()
            },
            gpu_slots=GpuSlots(total=self.slots, used=used, free=self.slots - used),
        )

    def workers(self) -> list[WorkerInfo]:
        return []

    def scale(self, pool: PoolName, replicas: int) -> ClusterStatus:
        other = sum(n for p, n in self.desired.items() if p != pool)
        if replicas + other > self.slots:
            raise ScaleRequestError(f"{pool}={replicas} exceeds the slots")
        self.calls.append((pool, replicas))
        self.desired[pool] = replicas
        return self.status()

    def kill_worker(self, pool: PoolName, index: int) -> bool:
        return False


@pytest.fixture
def api() -> tuple[TestClient, RecordingController]:
    controller = RecordingController()
    return TestClient(create_control_app(controller)), controller


def test_scale_changes_the_desired_count(api: tuple[TestClient, RecordingController]) -> None:
    client, controller = api
    resp = client.put("/pools/prefill", json={"replicas": 4})
    assert resp.status_code == 200
    assert resp.json()["pools"]["prefill"]["desired"] == 4
    assert resp.json()["gpu_slots"] == {"total": 8, "used": 7, "free": 1}
    assert controller.calls == [("prefill", 4)]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/pools/decode", {"replicas": 7}, "replicas"),
        ("/pools/decode", {"replicas": -2}, "replicas"),
        ("/pools/decode", {"replicas": 2.5}, "replicas"),
        ("/pools/decode", {"replicas": None}, "replicas"),
        ("/pools/gpu", {"replicas": 1}, "pool"),
    ],
)
def test_bad_requests_get_one_line_422_and_change_nothing(
    api: tuple[TestClient, RecordingController], path: str, body: object, field: str
) -> None:
    client, controller = api
    resp = client.put(path, json=body)
    assert resp.status_code == 422
    assert resp.json()["field"] == field
    assert "\n" not in resp.json()["detail"]
    assert controller.calls == []
    assert controller.desired == {"prefill": 2, "decode": 3}


def test_pool_gauges_are_exported(api: tuple[TestClient, RecordingController]) -> None:
    client, _ = api
    text = client.get("/metrics").text
    assert 'localcluster_pool_replicas{pool="decode",state="ready"} 3.0' in text
    assert 'localcluster_gpu_slots{state="used"} 5.0' in text


def test_unknown_worker_kill_is_404(api: tuple[TestClient, RecordingController]) -> None:
    client, _ = api
    assert client.post("/workers/decode/42/kill").status_code == 404


def test_prometheus_config_scrapes_frontend_workers_and_loadgen(tmp_path: Path) -> None:
    config = prometheus_config(
        frontend="127.0.0.1:8000",
        control_api="127.0.0.1:8090",
        extra_targets=["127.0.0.1:3000"],
        targets_dir=tmp_path,
        scrape_interval_s=2.0,
    )
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}  # type: ignore[attr-defined]
    assert set(jobs) == {"dynamo-frontend", "dynamo-workers", "local-cluster", "loadgen"}
    assert jobs["loadgen"]["static_configs"] == [{"targets": ["127.0.0.1:3000"]}]
    assert config["global"] == {"scrape_interval": "2000ms", "evaluation_interval": "2000ms"}

    write_worker_targets(tmp_path, [("127.0.0.1:21001", "decode", "decode-0")])
    sd_file = jobs["dynamo-workers"]["file_sd_configs"][0]["files"][0]
    assert Path(sd_file).read_text().count("decode-0") == 1


def test_settings_reject_bad_values_and_scale_delays() -> None:
    with pytest.raises(ValueError, match="speed"):
        LocalClusterSettings(speed=-1)
    settings = LocalClusterSettings(env="dev", speed=10)
    assert settings.scaled(208.0) == pytest.approx(20.8)
    assert LocalClusterSettings(speed=0).scaled(208.0) == 0.0
    assert settings.initial_replicas("prefill") == 1
    assert LocalClusterSettings().layout.gpu_slots == 8


def test_aggregated_layout_puts_every_gpu_in_the_decode_pool() -> None:
    prod = LocalClusterSettings(serving="aggregated")
    assert (prod.initial_replicas("prefill"), prod.initial_replicas("decode")) == (0, 5)
    two = LocalClusterSettings(serving="aggregated", initial_decode=2, initial_prefill=3)
    assert (two.initial_replicas("prefill"), two.initial_replicas("decode")) == (0, 2)


def test_every_numeric_input_refuses_nan_and_infinity_naming_the_field(
    api: tuple[TestClient, RecordingController],
) -> None:
    """Each numeric input of the pool API (from its OpenAPI document, so a new one is covered
    without editing this test) answers 422 naming it for NaN and ±Infinity, and changes nothing."""
    client, controller = api
    inputs = numeric_inputs(client.get("/openapi.json").json())
    assert {i.field for i in inputs} >= {("replicas",), ("index",)}
    failures = []
    for numeric in inputs:
        for value in NON_FINITE:
            response = client.request(
                numeric.method,
                numeric.url(value, {"pool": "decode"}),
                content=numeric.body(value),
                headers={"Content-Type": "application/json"},
            )
            if response.status_code != 422 or response.json().get("field") != ".".join(
                numeric.field
            ):
                failures.append(f"{numeric.id}={value}: {response.status_code} {response.text}")
    assert failures == []
    assert controller.calls == []
