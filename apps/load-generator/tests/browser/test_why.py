"""The "why disaggregation" panel in Chromium: the presenter's toggle puts the recorded layout
comparison on the audience screen with its numbers and where/when label; with none recorded the
presenter is told to run `make compare` and the audience keeps its live charts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from demo_bench.compare.synthetic import write_synthetic_comparison

from .conftest import AppProcess, Console, save_token, screenshot

pytestmark = pytest.mark.browser


def shown_goodput(value: float) -> str:
    """How the UI writes goodput per GPU (lib/comparison.ts `perGpu`: toPrecision(3))."""
    return f"{value:#.3g}"


def set_audience(app: AppProcess, show: str) -> None:
    app.api("PUT", "/api/scenario/audience", {"show": show})


@pytest.fixture
def no_comparison(app: AppProcess) -> Iterator[None]:
    """No comparison recorded; the audience screen back on live charts afterwards."""
    shutil.rmtree(app.comparison_dir, ignore_errors=True)
    try:
        yield
    finally:
        set_audience(app, "live")


@pytest.fixture
def recorded(app: AppProcess) -> Iterator[dict[str, Any]]:
    """A comparison written by the real report writer (synthetic runs), removed afterwards."""
    shutil.rmtree(app.comparison_dir, ignore_errors=True)
    path = write_synthetic_comparison(app.comparison_dir)
    try:
        yield json.loads(path.read_text())
    finally:
        set_audience(app, "live")
        shutil.rmtree(app.comparison_dir, ignore_errors=True)


def test_without_a_comparison_the_presenter_is_told_and_the_audience_stays_live(
    page: Page, app: AppProcess, console: Console, no_comparison: None
) -> None:
    page.goto(app.url + "/")
    panel = page.get_by_test_id("comparison-panel")
    expect(panel.get_by_test_id("why-none")).to_contain_text(
        "No comparison recorded yet — run make compare"
    )
    expect(panel.get_by_test_id("show-comparison")).to_be_disabled()
    # Even when asked to show it (as a script phase would), the audience keeps its charts.
    set_audience(app, "comparison")
    page.goto(app.url + "/audience")
    expect(page.get_by_test_id("why-none")).to_have_text("Layout comparison: none recorded yet.")
    expect(page.get_by_test_id("chart-ttft")).to_be_visible()
    expect(page.get_by_test_id("why-panel")).to_have_count(0)
    assert console.errors == []


def test_the_presenter_puts_the_recorded_comparison_on_the_audience_screen(
    page: Page, app: AppProcess, console: Console, recorded: dict[str, Any]
) -> None:
    audience = page.context.new_page()
    audience.on("console", console.on_message)
    audience.on("pageerror", console.on_page_error)
    audience.goto(app.url + "/audience")
    expect(audience.get_by_test_id("chart-ttft")).to_be_visible()
    expect(audience.get_by_test_id("why-panel")).to_have_count(0)

    save_token(page, app)
    panel = page.get_by_test_id("comparison-panel")
    expect(panel.get_by_test_id("why-panel")).to_be_visible()
    panel.get_by_test_id("show-comparison").click()
    expect(panel.get_by_test_id("audience-screen")).to_contain_text("comparison (your toggle)")

    # The audience view follows the scenario state: the panel replaces the charts.
    why = audience.get_by_test_id("why-panel")
    expect(why).to_be_visible(timeout=10_000)
    expect(audience.get_by_test_id("chart-ttft")).to_have_count(0)
    for name, numbers in recorded["layouts"].items():
        card = why.get_by_test_id(f"why-layout-{name}")
        expect(card).to_contain_text(recorded["titles"][name])
        expect(card.get_by_test_id("why-goodput")).to_have_text(
            shown_goodput(numbers["goodput_per_gpu"])
        )
        expect(card.get_by_test_id("why-gpu-seconds")).to_have_text(
            f"{numbers['gpu_seconds']:.0f} GPU-s"
        )
        chat = numbers["slo_attainment"]["chat"]["attainment"]
        expect(card.get_by_test_id("why-attainment")).to_contain_text(f"A {chat * 100:.0f} %")
        ratio = recorded["ratio_vs_aggregated"].get(name)
        invalid = "" if numbers["valid"] else " (invalid run)"
        expected = "baseline" if name == "aggregated" else f"×{ratio:.2f} vs aggregated{invalid}"
        expect(card.get_by_test_id("why-ratio")).to_have_text(expected)
        expect(card.get_by_test_id("why-frozen")).to_have_text(f"{numbers['frozen_streams']} froze")
        expect(card.get_by_test_id("why-valid")).to_contain_text(
            "valid run" if numbers["valid"] else "INVALID"
        )
    # One sentence from the record's valid runs: the freezes and the best ratio (invalid keda's
    # numbers are never the claim), then the record's date, speed, timing source and validity.
    ratios = recorded["ratio_vs_aggregated"]
    best = max(r for name, r in ratios.items() if recorded["layouts"][name]["valid"])
    headline = why.get_by_test_id("why-headline")
    expect(headline).to_contain_text(f"×{best:.2f}")
    frozen = recorded["layouts"]["aggregated"]["frozen_streams"]
    expect(headline).to_contain_text(f"{frozen} of {recorded['layouts']['aggregated']['requests']}")
    expect(why.get_by_test_id("why-source")).to_contain_text(
        f"real time, timed by profile {recorded['profile']}, invalid runs left out"
    )
    # Where and when, the speed, the profile, and the saturation guard's verdict.
    label = why.get_by_test_id("why-label")
    date, time = recorded["measured_at"].rstrip("Z").split("T")
    expect(label).to_contain_text(f"Measured {date} {time} UTC on {recorded['machine']}")
    expect(label).to_contain_text(f"profile {recorded['profile']}, env {recorded['env']}")
    expect(label).to_contain_text("speed ×1")
    expect(why.get_by_test_id("why-guard")).to_contain_text(
        "Marked INVALID by the saturation guard: keda (client loop lag"
    )
    plot = why.get_by_test_id("why-plot")
    expect(plot).to_be_visible()
    assert plot.evaluate("img => img.complete && img.naturalWidth") > 100
    audience.wait_for_timeout(500)
    screenshot(audience, "audience-why")
    screenshot(page, "presenter-why")

    # Back to live: the charts return on the audience screen.
    panel.get_by_test_id("show-comparison").click()
    expect(audience.get_by_test_id("chart-ttft")).to_be_visible(timeout=10_000)
    expect(audience.get_by_test_id("why-panel")).to_have_count(0)
    assert console.errors == []
