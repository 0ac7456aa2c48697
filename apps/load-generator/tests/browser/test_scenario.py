"""Auto mode and the pool panel in Chromium, against the scenario controller on the local stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import AppProcess, save_token, screenshot, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def back_to_manual(app: AppProcess) -> Iterator[None]:
    """The app starts in manual mode; each test leaves it there, load stopped."""
    yield
    app.api("POST", "/api/scenario/stop")
    app.api("POST", "/api/scenario/manual")
    if app.api("GET", "/api/status")["state"] == "running":
        app.api("POST", "/api/workload/stop")


def test_auto_mode_shows_the_phase(page: Page, app: AppProcess) -> None:
    save_token(page, app)
    expect(page.get_by_test_id("scenario-mode")).to_have_text("manual")
    page.get_by_test_id("mode-auto").click()
    expect(page.get_by_test_id("scenario-mode")).to_have_text("auto")
    expect(page.get_by_test_id("mode-auto")).to_have_attribute("aria-pressed", "true")
    phase = wait_until(lambda: app.api("GET", "/api/scenario")["phase"], 20, "a phase")
    expect(page.get_by_test_id("phase-name")).to_have_text(phase["name"])
    expect(page.get_by_test_id("phase-caption")).to_have_text(phase["caption"])
    expect(page.get_by_role("progressbar")).to_be_visible()
    # Auto mode drives the load: the presenter's load controls are read-only meanwhile.
    expect(page.get_by_test_id("rps-slider")).to_be_disabled()
    expect(page.get_by_test_id("scale-decode-up")).to_be_disabled()
    page.wait_for_timeout(3000)
    screenshot(page, "presenter-auto")
    # The audience sees the same phase with its caption.
    page.goto(app.url + "/audience")
    expect(page.get_by_test_id("phase-caption")).not_to_be_empty()
    live = app.api("GET", "/api/scenario")["phase"]
    expect(page.get_by_test_id("phase-name")).to_have_text(live["name"])
    page.wait_for_timeout(8000)
    screenshot(page, "audience-auto")


def tiles_as_the_api_says(page: Page, app: AppProcess) -> bool:
    state = app.api("GET", "/api/pools")
    drawn = {p: page.locator(f".tile[data-pool={p}]").count() for p in (*state["pools"], "free")}
    said = {p: v["desired"] for p, v in state["pools"].items()} | {"free": state["free_gpus"]}
    return drawn == said


def settled(app: AppProcess) -> dict[str, Any] | None:
    """The pools when no worker is starting or stopping (ready == desired), else None."""
    pools: dict[str, Any] = app.api("GET", "/api/pools")
    steady = all(p["starting"] == 0 and p["ready"] == p["desired"] for p in pools["pools"].values())
    return pools if steady else None


def test_manual_mode_scales_a_pool_from_the_tiles(page: Page, app: AppProcess) -> None:
    save_token(page, app)
    expect(page.get_by_test_id("scenario-mode")).to_have_text("manual")
    before = wait_until(lambda: settled(app), 60, "pools with every worker ready as desired")
    tiles = page.get_by_test_id("gpu-tiles").locator(".tile")
    expect(tiles).to_have_count(before["budget_gpus"])
    # Add a decode worker if a GPU is free, else remove one from a pool above its minimum.
    if before["free_gpus"] >= 1:
        pool, step, first, back = "decode", 1, "up", "down"
    else:
        pool = next(p for p, v in before["pools"].items() if v["desired"] > v["min"])
        step, first, back = -1, "down", "up"
    desired = before["pools"][pool]["desired"]
    page.get_by_test_id(f"scale-{pool}-{first}").click()
    wait_until(
        lambda: app.api("GET", "/api/pools")["pools"][pool]["desired"] == desired + step,
        10,
        f"{pool} desired {desired + step}",
    )
    # The tiles follow the API: as many tiles of each pool, and free ones, as it says. Compared
    # with the API's state at the same moment: in manual mode the local KEDA may already be
    # taking an idle pool back to its minimum (decode's is 1).
    wait_until(lambda: settled(app), 60, f"{pool} settled")
    wait_until(lambda: tiles_as_the_api_says(page, app), 15, "tiles as the API says")
    # The local KEDA may already have taken an idle pool back (its button is then disabled).
    if app.api("GET", "/api/pools")["pools"][pool]["desired"] != desired:
        page.get_by_test_id(f"scale-{pool}-{back}").click()
    wait_until(
        lambda: app.api("GET", "/api/pools")["pools"][pool]["desired"] == desired,
        10,
        f"{pool} back to {desired}",
    )
