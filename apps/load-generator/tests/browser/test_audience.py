"""The audience and conversations views in Chromium, with load running on the real local stack."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import AppProcess, Console, screenshot, wait_until

pytestmark = pytest.mark.browser

CHARTS = ("ttft", "itl", "turns", "kv", "throughput", "pools")


def shown_ms(value: float) -> str:
    """How the UI writes a duration (lib/format.ts `ms`)."""
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def points(page: Page, chart: str) -> int:
    canvas = page.get_by_test_id(f"chart-{chart}").locator(".chart-canvas")
    return int(canvas.get_attribute("data-points") or 0)


def test_audience_draws_charts_with_data(
    page: Page, app: AppProcess, console: Console, running: None
) -> None:
    wait_until(
        lambda: app.api("GET", "/api/status")["live"]["workloads"]["chat"]["ok"] > 0,
        60,
        "a completed chat request",
    )
    page.goto(app.url + "/audience")
    expect(page.get_by_test_id("audience")).to_be_visible()
    # Latency, chat turns and throughput from the live events; the charts gather samples.
    for chart in ("ttft", "itl", "throughput"):
        wait_until(lambda c=chart: points(page, c) >= 6, 30, f"samples on the {chart} chart")
    canvases = page.locator(".chart-canvas canvas")
    expect(canvases).to_have_count(len(CHARTS))
    # Something is drawn: the TTFT canvas has many distinct colours (lines, not just a background).
    distinct = (
        page.get_by_test_id("chart-ttft")
        .locator("canvas")
        .evaluate(
            """c => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const s = new Set();
          for (let i = 0; i < d.length; i += 16) s.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
          return s.size;
        }"""
        )
    )
    assert distinct > 20
    # The SLO verdicts name each workload's SLOs, as the demo script sets them.
    strip = page.get_by_test_id("slo-strip")
    for slo in app.api("GET", "/api/status")["slos"].values():
        expect(strip).to_contain_text(f"({shown_ms(slo['ttft_p95_s'] * 1000)})")
        expect(strip).to_contain_text(f"({shown_ms(slo['itl_p95_s'] * 1000)})")
    # Streams that froze: "n of m" per workload, as the live window counts them.
    frozen = page.get_by_test_id("frozen-streams")
    expect(frozen).to_contain_text("Streams that froze")
    expect(frozen.get_by_test_id("frozen-chat")).to_contain_text(re.compile(r"\d+ of [1-9]\d*"))
    page.wait_for_timeout(3000)
    path = screenshot(page, "audience")
    assert path.stat().st_size > 50_000
    assert console.errors == []


def test_conversations_list_and_detail(page: Page, app: AppProcess, running: None) -> None:
    app.api("POST", "/api/presets/kv-cache")  # chat only
    wait_until(
        lambda: any(c["turns_done"] >= 2 for c in app.api("GET", "/api/conversations")),
        90,
        "a conversation with two turns",
    )
    page.goto(app.url + "/conversations")
    items = page.get_by_test_id("conversation-item")
    expect(items.first).to_be_visible()
    conversations = app.api("GET", "/api/conversations")
    target = next(c for c in conversations if c["turns_done"] >= 2)
    page.locator(f"[data-testid=conversation-item][data-id='{target['id']}']").click()
    detail = page.get_by_test_id("conversation-detail")
    expect(detail).to_contain_text(target["topic"])
    rows = detail.get_by_test_id("turn-row")
    wait_until(lambda: rows.count() >= 2, 15, "two turn rows")
    first = rows.first.locator("td")
    expect(first.nth(0)).to_have_text("1")
    expect(first.nth(1)).to_have_text(re.compile(r"^\d+(\.\d+)? m?s$"))  # TTFT measured
