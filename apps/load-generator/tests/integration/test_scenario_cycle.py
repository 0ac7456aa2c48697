"""One accelerated auto cycle against the real local stack: phases run, pools really scale.

A short two-phase script on the dev layout (3 GPUs) at speed 10, driven through the app's own
API with the local backend (pool control API + local KEDA + Prometheus), as the booth runs it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from demo_common.corpus import load_corpus
from demo_testing.doubles import write_tiny_corpus
from demo_testing.stack import TEST_SPEED, stack_settings
from loadgen.api import create_app
from loadgen.controller_wiring import open_backend_ports
from loadgen.demo_script import default_script_path, load_demo_script
from loadgen.settings import Settings
from localcluster import LocalCluster
from localcluster.background import BackgroundCluster

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
TOKEN = "presenter-secret-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CYCLE = """
layout:
  budget_gpus: 3
  initial: {prefill: 1, decode: 1}
phases:
  - id: warm
    name: Warm
    caption: "a second prefill worker arrives"
    duration: 200s
    load: {rps: 1.0, mix: {chat: 1, reasoning: 1}, max_in_flight: 8}
    scale:
      - {at: +5s, pool: prefill, replicas: 2, reason: "a worker takes seconds to start"}
  - id: surge
    name: Surge
    caption: "prefill gives its GPU to decode"
    duration: 200s
    load: {rps: 1.5, mix: {chat: 1, reasoning: 2}, max_in_flight: 8}
    scale:
      - {at: +0s, pool: prefill, replicas: 1}
      - {at: +5s, pool: decode, replicas: 2}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A stack of its own: this test changes pool sizes the shared one must keep."""
    with BackgroundCluster(stack_settings(tmp_path_factory.mktemp("cycle-stack"))) as cluster:
        yield cluster


def test_one_accelerated_auto_cycle(stack: LocalCluster, tmp_path: Path) -> None:
    text = default_script_path().read_text()
    script_path = tmp_path / "cycle.yaml"
    script_path.write_text(text[: text.index("\nlayout:")] + "\n" + CYCLE)
    settings = Settings(
        endpoint_url=stack.frontend_url,
        model=stack.model_name,
        control_url=stack.control_url,
        prometheus_url=stack.prometheus_url,
        env="dev",
        keda_dir=REPO / "k8s/keda",
        speed=TEST_SPEED,
        script=script_path,
        scenario_state_file=tmp_path / "scenario.json",
        ui_dir=tmp_path / "no-ui",
    )
    app = create_app(
        settings,
        script=load_demo_script(script_path),
        corpus=load_corpus(write_tiny_corpus(tmp_path / "corpus")),
        presenter_token=TOKEN,
        scenario_ports=functools.partial(open_backend_ports, settings),
    )
    max_ready = {"prefill": 0, "decode": 0}
    paused_in_auto: list[bool] = []
    with TestClient(app) as client:
        assert client.get("/api/scenario").json()["mode"] == "manual"
        assert client.post("/api/scenario/auto", headers=AUTH).status_code == 200
        # A cycle is 400 demo s = 40 s at speed 10: each phase leaves a new worker ~20 s of wall
        # time to start (readiness delay + the mocker's own start-up on a loaded machine).
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            state = client.get("/api/scenario").json()
            paused_in_auto.append(state["keda"]["paused"])
            for pool, view in client.get("/api/pools").json()["pools"].items():
                max_ready[pool] = max(max_ready[pool], view["ready"])
            if state["cycle"] >= 1 and state["phase"]["elapsed_s"] > 10:
                break
            time.sleep(0.2)
        stopped = client.post("/api/scenario/stop", headers=AUTH).json()
        metrics = client.get("/metrics").text
    timeline = state["timeline"]
    assert state["cycle"] >= 1, timeline
    assert [e["phase"] for e in timeline if e["kind"] == "phase" and e["phase"]][:3] == [
        "warm", "surge", "warm"
    ]  # fmt: skip
    scaled = [
        (e["pool"], e["from_replicas"], e["to_replicas"])
        for e in timeline
        if e["kind"] == "scale" and e["source"] == "script"
    ]
    assert scaled[:5] == [
        ("prefill", 1, 2),
        ("prefill", 2, 1),
        ("decode", 1, 2),
        ("decode", 2, 1),  # the cycle's reset
        ("prefill", 1, 2),
    ]
    assert [e for e in timeline if e["kind"] == "error"] == []
    assert max_ready == {"prefill": 2, "decode": 2}  # the new workers really got ready
    assert all(paused_in_auto)
    assert stopped["mode"] == "stopped"
    assert stopped["keda"]["paused"] is False
    ok = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("loadgen_requests_total{") and 'status="ok"' in line
    ]
    assert sum(ok) > 0
    assert 'loadgen_scenario_scale_events_total{direction="out",pool="decode",source="script"}' in (
        metrics
    )
