"""Both HTTP APIs fuzzed from their own OpenAPI documents with schemathesis (valid and invalid
inputs): no 5xx, the app keeps serving, and a rejected request changes no state.

- the load generator app (presenter token sent, so validation is reached), with a fast fake
  sender behind it: started sessions really run;
- the real local stack's pool control API (its kill route is left out: killing workers is the
  fault suite's job); an accepted scale is undone at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

from demo_common.corpus import load_corpus
from demo_common.net import free_port
from demo_testing.controller import FakeScaler
from demo_testing.doubles import write_tiny_corpus
from loadgen.adapters.state_store import MemoryStateStore
from loadgen.api import create_app
from loadgen.api.presenter_guard import PresenterGuard
from loadgen.clock import MonotonicClock
from loadgen.controller_wiring import ScenarioPorts
from loadgen.demo_script import load_demo_script
from loadgen.records import ChatRequest, RequestRecord
from loadgen.settings import Settings
from localcluster.cluster import LocalCluster

pytestmark = pytest.mark.integration
TOKEN = "fuzz-presenter-token-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SETTINGS = settings(
    max_examples=120, deadline=None, database=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)  # fmt: skip


class QuickSender:
    """Answers every request after 5 ms: sessions started by the fuzzer finish quickly."""

    def __init__(self, clock: MonotonicClock) -> None:
        self.clock = clock

    async def send(self, request: ChatRequest, *, intended_ns: int | None = None) -> RequestRecord:
        sent = self.clock.now_ns()
        await asyncio.sleep(0.005)
        end = self.clock.now_ns()
        return RequestRecord(
            request_id="q", workload=request.workload, turn=request.turn,
            conversation_id=request.conversation_id, status="ok", reason="none",
            intended_ns=sent if intended_ns is None else intended_ns, send_ns=sent,
            first_token_ns=sent + 1, last_token_ns=end, end_ns=end, content_events=1,
            output_tokens=1, text="fine",
        )  # fmt: skip


@pytest.fixture(scope="module")
def loadgen_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    clock = MonotonicClock()
    port = free_port()
    app = create_app(
        Settings(ui_dir=folder / "no-ui", summary_dir=folder / "sessions", drain_s=0.5),
        script=load_demo_script(),
        corpus=load_corpus(write_tiny_corpus(folder / "corpus")),
        presenter_token=TOKEN,
        sender=QuickSender(clock),
        clock=clock,
        # The scenario controller on a fake scaler: the scenario and pool routes are fuzzed too.
        scenario_ports=ScenarioPorts(scaler=FakeScaler(clock), store=MemoryStateStore()),
    )
    # Invalid inputs include the Authorization header: without a limit the fuzzer would lock
    # itself out (the limit is tested on its own in test_security.py).
    app.state.presenter_guard = PresenterGuard(TOKEN, max_failures=1_000_000)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "the app did not start"
    yield url
    server.should_exit = True
    thread.join(30)


def fuzz(
    url: str,
    state: Callable[[httpx.Client], Any],
    *,
    exclude_path: str | None = None,
    after_accepted: Callable[[httpx.Client, Any], None] | None = None,
) -> dict[str, int]:
    """Run both generation modes over every operation; returns the status codes seen."""
    document = httpx.get(f"{url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    if exclude_path is not None:
        schema = schema.exclude(path_regex=exclude_path)
    strategy = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )
    seen: dict[str, int] = {}
    http = httpx.Client(base_url=url, timeout=30)

    @SETTINGS
    @given(case=strategy)
    def one(case: Case) -> None:
        before = state(http)
        response = case.call(base_url=url, headers=AUTH, timeout=30)
        code = response.status_code
        seen[str(code)] = seen.get(str(code), 0) + 1
        # Not response.text: the comparison's plot route answers a PNG.
        body = response.content[:300].decode("utf-8", "replace")
        where = f"{case.method} {case.formatted_path} -> {code}: {body}"
        assert code < 500, where
        assert http.get("/openapi.json").status_code == 200, "the app stopped serving"
        if code >= 400:
            assert state(http) == before, f"a rejected request changed state: {where}"
        elif after_accepted is not None:
            after_accepted(http, before)

    try:
        one()
    finally:
        http.close()
    return seen


def loadgen_state(http: httpx.Client) -> Any:
    status = http.get("/api/status").json()
    scenario = http.get("/api/scenario").json()
    pools = http.get("/api/pools").json()
    # In auto mode the script itself scales the pools on its schedule: not a request's doing.
    desired = {name: pool["desired"] for name, pool in pools["pools"].items()}
    return (status["state"], status["config"], status["active_preset"], scenario["mode"],
            None if scenario["mode"] == "auto" else desired)  # fmt: skip


def test_fuzz_the_load_generator_api(loadgen_url: str) -> None:
    seen = fuzz(loadgen_url, loadgen_state)
    assert {"200", "422"} <= set(seen), seen
    # It kept working: a valid session can still run and stop.
    with httpx.Client(base_url=loadgen_url, headers=AUTH, timeout=30) as http:
        assert http.post("/api/scenario/manual").status_code == 200  # the fuzzer may leave auto
        if http.get("/api/status").json()["state"] == "running":
            assert http.post("/api/workload/stop").status_code == 200
        assert http.post("/api/workload/start").status_code == 200
        assert http.post("/api/workload/stop").status_code == 200


def pool_state(http: httpx.Client) -> Any:
    pools = http.get("/pools").json()["pools"]
    return {name: pool["desired"] for name, pool in pools.items()}


def restore_pools(http: httpx.Client, before: Any) -> None:
    for pool, desired in before.items():
        assert http.put(f"/pools/{pool}", json={"replicas": desired}).status_code == 200


def test_fuzz_the_local_stack_pool_api(local_stack: LocalCluster, tmp_path: Path) -> None:
    url = local_stack.control_url
    seen = fuzz(url, pool_state, exclude_path="/kill$", after_accepted=restore_pools)
    assert "422" in seen, seen
    with httpx.Client(base_url=url, timeout=30) as http:
        for bad in ("/workers/decode/999/kill", "/workers/gpu/0/kill", "/workers/decode/x/kill"):
            assert http.post(bad).status_code in (404, 422), bad
