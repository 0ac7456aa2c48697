"""The app over real HTTP against the local stack: auth, validation, live stream, follow-ups."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from demo_common.corpus import Corpus, load_corpus
from demo_common.net import free_port
from demo_testing.app_server import app_serving
from demo_testing.doubles import FakeClock, write_tiny_corpus
from loadgen.api import create_app
from loadgen.demo_script import load_demo_script
from loadgen.settings import Settings
from loadgen.workloads.followup import FollowupQuestions
from loadgen.workloads.followup_remote import OpenAIQuestionSource
from localcluster import LocalCluster

pytestmark = pytest.mark.integration
TOKEN = "integration-presenter-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return load_corpus(write_tiny_corpus(tmp_path_factory.mktemp("corpus")))


@asynccontextmanager
async def served_app(settings: Settings, corpus: Corpus) -> AsyncIterator[str]:
    app = create_app(settings, script=load_demo_script(), corpus=corpus, presenter_token=TOKEN)
    async with app_serving(app, settings.port) as url:
        yield url


async def read_events(session: aiohttp.ClientSession, url: str, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with session.get(url) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.content:
            if line.startswith(b"data: "):
                events.append(json.loads(line[6:]))
                if len(events) == count:
                    break
    return events


async def test_app_end_to_end(local_stack: LocalCluster, corpus: Corpus, tmp_path: Any) -> None:
    settings = Settings(
        endpoint_url=local_stack.frontend_url,
        model=local_stack.model_name,
        port=free_port(),
        preset="kv-cache",
        ui_dir=tmp_path / "none",
        summary_dir=tmp_path / "sessions",
        request_log=tmp_path / "requests.jsonl",
        # The stack's own frontend doubles as the OpenAI-compatible follow-up model.
        followup_base_url=f"{local_stack.frontend_url}/v1",
        followup_model=local_stack.model_name,
    )
    async with served_app(settings, corpus) as base, aiohttp.ClientSession(base) as http:
        assert (await (await http.get("/healthz")).json())["status"] == "ok"
        assert (await http.post("/api/workload/start")).status == 401
        bad = await http.put("/api/workload/config", json={"rps": -3}, headers=AUTH)
        assert bad.status == 422
        assert (await bad.json())["detail"][0]["loc"] == ["body", "rps"]
        zero = await http.put("/api/workload/config", json={"mix": {"chat": 0}}, headers=AUTH)
        assert zero.status == 422
        assert (await zero.json())["detail"][0]["loc"] == ["body", "mix"]
        ok = await http.put("/api/workload/config", json={"rps": 2}, headers=AUTH)
        assert (await ok.json())["config"]["rps"] == 2
        assert (await http.post("/api/workload/start", headers=AUTH)).status == 200
        events = await read_events(http, "/api/events", count=4)
        await asyncio.sleep(3)
        conversations = await (await http.get("/api/conversations")).json()
        detail = await (await http.get(f"/api/conversations/{conversations[-1]['id']}")).json()
        missing = await http.get("/api/conversations/nope")
        stop = await http.post("/api/workload/stop", headers=AUTH)
        summary = (await stop.json())["summary"]
        status = await (await http.get("/api/status")).json()
        metrics = await (await http.get("/metrics")).text()

    assert [e["state"] for e in events[1:]] == ["running"] * 3
    assert events[-1]["workloads"]["chat"]["target_rps"] == 2
    assert conversations
    assert detail["turns"][0]["question_source"] == "opening"
    assert detail["turns"][0]["answer"]
    if len(detail["turns"]) > 1:
        assert detail["turns"][1]["question_source"] == "remote"
    assert missing.status == 404
    chat = summary["workloads"]["chat"]
    assert chat["ok"] > 0
    assert chat["errors"] == 0
    assert summary["chat_turns"]["2"]["cache_hit_ratio"] > 0.5
    assert status["state"] == "idle"
    assert status["followup"]["mode"] == "remote"
    assert status["followup"]["counts"].get("remote/ok", 0) > 0
    assert 'loadgen_followup_questions_total{reason="ok",source="remote"}' in metrics
    assert 'loadgen_requests_total{reason="none",status="ok",workload="chat"}' in metrics
    lines = (tmp_path / "requests.jsonl").read_text().splitlines()
    assert len(lines) == chat["ok"] + chat["errors"] + chat["dropped"]
    # Stalls and goodput: one count, the same in the summary, /metrics and the request log.
    logged = [json.loads(line) for line in lines]
    assert sum(1 for r in logged if r["within_slo"]) == chat["within_slo"]
    assert sum(1 for r in logged if r["frozen_ms"]) == chat["frozen_streams"]
    assert chat["max_gap_ms"]["count"] == sum(1 for r in logged if r["max_gap_ms"] is not None)
    assert chat["max_gap_ms"]["count"] > 0
    assert (
        f'loadgen_requests_within_slo_total{{workload="chat"}} {chat["within_slo"]:.1f}' in metrics
    )
    assert (
        f'loadgen_frozen_streams_total{{workload="chat"}} {chat["frozen_streams"]:.1f}' in metrics
    )
    count = f'loadgen_max_gap_seconds_count{{workload="chat"}} {chat["max_gap_ms"]["count"]:.1f}'
    assert count in metrics
    assert 'loadgen_max_gap_seconds_bucket{le="0.25",workload="chat"}' in metrics
    assert 'loadgen_frozen_seconds_total{workload="chat"}' in metrics
    assert 'loadgen_slo_max_gap_seconds{workload="chat"} 0.5' in metrics
    assert (tmp_path / "sessions").is_dir()


async def test_followup_source_failures_are_counted(local_stack: LocalCluster) -> None:
    counted: list[tuple[str, str]] = []
    history = [{"role": "user", "content": "Tell me about rivers."},
               {"role": "assistant", "content": "Rivers flow to the sea."}]  # fmt: skip
    async with aiohttp.ClientSession() as session:
        for base_url, model, reason in (
            (f"http://127.0.0.1:{free_port()}/v1", local_stack.model_name, "connect"),
            (f"{local_stack.frontend_url}/v1", "no-such-model", "http_404"),
            (f"{local_stack.frontend_url}/v1", local_stack.model_name, "ok"),
        ):
            source = OpenAIQuestionSource(session, base_url=base_url, model=model, api_key="k")
            questions = FollowupQuestions(
                source, ["bank"], random.Random(1), FakeClock(),
                on_question=lambda s, r: counted.append((s, r)),
            )  # fmt: skip
            question = await questions.next("rivers", history)
            assert question.reason == reason
            assert question.text
            assert question.source == ("remote" if reason == "ok" else "fallback")
    assert counted == [("fallback", "connect"), ("fallback", "http_404"), ("remote", "ok")]
