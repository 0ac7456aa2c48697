"""Secrets configured through the environment are used but never shown: not in the app's
logs, /api/status, /metrics, the session summary or the request log."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import pytest

from demo_common.net import free_port
from demo_testing.app_server import wait_healthy
from demo_testing.bad_openai import bad_openai_server
from demo_testing.doubles import write_tiny_corpus

pytestmark = pytest.mark.integration
SECRETS = {
    "PRESENTER_TOKEN": "pt-7f3c9a1e5b2d8c4f6a0e",
    "LOADGEN_ENDPOINT_API_KEY": "ek-91d2c7b4e6f8a3c5d0b1",
    "GRADIENT_API_KEY": "gk-c4e8a2f6b0d9e7c3a5f1",
}


async def test_configured_keys_are_used_and_never_shown(tmp_path: Path) -> None:
    corpus = write_tiny_corpus(tmp_path / "corpus")
    port = free_port()
    log_path = tmp_path / "app.log"
    async with bad_openai_server(("ok", "http_500", "garbage")) as server:
        env = {
            **os.environ,
            **SECRETS,
            # The follow-up source fails (500), so its error path is exercised too.
            "FOLLOWUP_BASE_URL": f"{server.url}/http_500/v1",
            "FOLLOWUP_MODEL": "small",
        }
        argv = [
            sys.executable, "-m", "loadgen", "serve", "--port", str(port),
            "--endpoint", f"{server.url}/cycle", "--corpus", str(corpus),
            "--summary-dir", str(tmp_path / "sessions"), "--request-log",
            str(tmp_path / "requests.jsonl"), "--ui-dir", str(tmp_path / "no-ui"),
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                *argv, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
            )
            try:
                texts = await drive(f"http://127.0.0.1:{port}")
            finally:
                process.terminate()
                await asyncio.wait_for(process.wait(), 30)
    texts["log"] = log_path.read_text()
    texts["summary"] = "".join(p.read_text() for p in (tmp_path / "sessions").glob("*.json"))
    texts["request log"] = (tmp_path / "requests.jsonl").read_text()
    assert texts["summary"]
    assert texts["request log"]
    assert texts["log"]
    # The keys were really configured and used.
    sent = set(server.authorizations)
    assert f"Bearer {SECRETS['LOADGEN_ENDPOINT_API_KEY']}" in sent
    assert f"Bearer {SECRETS['GRADIENT_API_KEY']}" in sent
    for where, text in texts.items():
        for name, value in SECRETS.items():
            assert value not in text, f"{name} appears in {where}"


async def drive(url: str) -> dict[str, str]:
    token = SECRETS["PRESENTER_TOKEN"]
    auth = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        await wait_healthy(http, url)
        config = {"rps": 6, "mix": {"chat": 3, "summarization": 1, "reasoning": 1}}
        assert (await http.put(f"{url}/api/workload/config", json=config, headers=auth)).ok
        assert (await http.post(f"{url}/api/workload/start", headers=auth)).ok
        await http.post(f"{url}/api/workload/start", headers={"Authorization": "Bearer guess"})
        await asyncio.sleep(4)
        texts = {"status (running)": await (await http.get(f"{url}/api/status")).text()}
        stop = await http.post(f"{url}/api/workload/stop", headers=auth)
        texts["stop response"] = await stop.text()
        texts["status"] = await (await http.get(f"{url}/api/status")).text()
        texts["metrics"] = await (await http.get(f"{url}/metrics")).text()
        texts["conversations"] = await (await http.get(f"{url}/api/conversations")).text()
        texts["openapi"] = await (await http.get(f"{url}/openapi.json")).text()
    return texts
