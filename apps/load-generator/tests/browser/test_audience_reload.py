"""A reloaded audience screen draws the last minutes at once (the app's own history), with the
scaling markers and the router's KV hit rate, against the real local stack under load."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import AppProcess, Console, screenshot, wait_until

pytestmark = pytest.mark.browser

CHARTS = ("ttft", "itl", "turns", "kv", "throughput", "pools")
HISTORY_S = 20  # seconds of history with chat latencies before the reload


def chart_attr(page: Page, chart: str, name: str) -> str:
    canvas = page.get_by_test_id(f"chart-{chart}").locator(".chart-canvas")
    return canvas.get_attribute(name) or ""


def with_chat_ttft(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in points if p["workloads"]["chat"]["ttft_p95_ms"] is not None]


def presenter_scale(app: AppProcess) -> tuple[str, int, int]:
    """One scale the GPU budget allows (a marked event): (pool, before, after)."""
    pools = app.api("GET", "/api/pools")
    if pools["free_gpus"] >= 1:
        pool = "decode"
        before = pools["pools"][pool]["desired"]
        after = before + 1
    else:
        pool = next(p for p, v in pools["pools"].items() if v["desired"] > v["min"])
        before = pools["pools"][pool]["desired"]
        after = before - 1
    app.api("PUT", f"/api/pools/{pool}", {"replicas": after})
    return pool, before, after


def test_a_reloaded_audience_page_draws_the_history(
    page: Page, app: AppProcess, console: Console, running: None
) -> None:
    wait_until(
        lambda: len(with_chat_ttft(app.api("GET", "/api/history")["points"])) >= HISTORY_S,
        120,
        f"{HISTORY_S} s of history with chat TTFT",
    )
    pool, before, _ = presenter_scale(app)
    try:
        page.goto(app.url + "/audience")
        expect(page.get_by_test_id("audience")).to_be_visible()
        wait_until(lambda: int(chart_attr(page, "ttft", "data-points") or 0) > 0, 30, "a chart")

        kept = app.api("GET", "/api/history")["points"]
        reload_s = time.time()
        page.reload()
        expect(page.get_by_test_id("audience")).to_be_visible()
        # Drawn from before the reload: the first sample of every chart is older than it.
        for chart in CHARTS:
            wait_until(
                lambda c=chart: (f := chart_attr(page, c, "data-from")) and float(f) < reload_s,
                30,
                f"the {chart} chart's samples from before the reload",
            )
        # As many TTFT values as the app kept from the last minutes (new ones only add).
        recent = [p for p in with_chat_ttft(kept) if p["t_s"] > reload_s - 240]
        wait_until(
            lambda: int(chart_attr(page, "ttft", "data-points") or 0) >= 2 * len(recent),
            30,
            f"at least {2 * len(recent)} chat TTFT values (p50 + p95) on the reloaded chart",
        )
        # The scale is marked, and the KV tile reads the router's rate (Prometheus, live).
        wait_until(lambda: chart_attr(page, "ttft", "data-markers") not in ("", "0"), 30, "marks")
        kv_title = page.get_by_test_id("chart-kv").locator(".chart-title")
        expect(kv_title).to_have_text(re.compile(r"^KV cache hit rate: \d+ %$"), timeout=30_000)
        wait_until(lambda: int(chart_attr(page, "kv", "data-points") or 0) > 0, 30, "KV points")
        screenshot(page, "audience-reloaded")
    finally:
        if app.api("GET", "/api/pools")["pools"][pool]["desired"] != before:
            app.api("PUT", f"/api/pools/{pool}", {"replicas": before})
    assert console.errors == []
