"""The presenter view in Chromium against the app on the real local stack."""

from __future__ import annotations

import re
import time
import urllib.error
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from .conftest import AppProcess, Console, save_token, screenshot, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def idle_baseline(app: AppProcess) -> None:
    """Each test starts from a stopped engine on the baseline preset."""
    if app.api("GET", "/api/status")["state"] != "idle":
        app.api("POST", "/api/workload/stop")
    app.api("POST", "/api/presets/baseline")


def test_page_loads_without_console_errors(page: Page, app: AppProcess, console: Console) -> None:
    page.goto(app.url + "/")
    expect(page.get_by_test_id("engine-state")).to_have_text("idle")
    presets = app.api("GET", "/api/presets")["presets"]
    expect(page.locator("[data-preset]")).to_have_count(len(presets))
    expect(page.get_by_test_id("live-chat")).to_be_visible()
    page.wait_for_timeout(3000)  # a few polls and live events
    assert console.errors == []


def test_actions_need_the_presenter_token(page: Page, app: AppProcess) -> None:
    page.goto(app.url + "/")
    expect(page.get_by_test_id("token-form")).to_be_visible()
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("action-error")).to_contain_text("token missing or wrong")
    assert app.api("GET", "/api/status")["state"] == "idle"
    # A wrong token is refused by the server and forgotten by the page.
    save_token(page, app, "not-the-token")
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("token-form")).to_contain_text("Token rejected")
    assert page.evaluate("localStorage.getItem('loadgen.presenterToken')") is None
    assert app.api("GET", "/api/status")["state"] == "idle"
    # The right one, saved once, lets the presenter start and stop the load.
    save_token(page, app)
    page.reload()
    expect(page.get_by_test_id("token-form")).to_have_count(0)
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("engine-state")).to_have_text("running")
    assert app.api("GET", "/api/status")["state"] == "running"
    page.get_by_test_id("stop").click()
    expect(page.get_by_test_id("engine-state")).to_have_text("idle", timeout=60_000)


def test_moving_a_slider_changes_the_backend_config(page: Page, app: AppProcess) -> None:
    save_token(page, app)
    before = app.api("GET", "/api/status")["config"]
    page.get_by_test_id("rps-slider").fill("4.2")
    page.get_by_test_id("mix-reasoning").fill("0.9")
    config = wait_until(
        lambda: (c := app.api("GET", "/api/status")["config"])["mix"]["reasoning"] == 0.9 and c,
        10,
        "the slider values in the backend config",
    )
    assert config["rps"] == pytest.approx(4.2)
    assert config["mix"]["chat"] == before["mix"]["chat"]
    assert app.api("GET", "/api/status")["active_preset"] is None
    # The page shows the server's confirmed values, per workload too.
    expect(page.get_by_test_id("rps-confirmed")).to_have_text("server: 4.20 RPS")
    shares = config["mix"]
    expected = 4.2 * shares["reasoning"] / sum(shares.values())
    expect(page.get_by_test_id("rps-reasoning")).to_have_text(f"{expected:.2f} RPS")


def test_invalid_config_shows_the_servers_error(page: Page, app: AppProcess) -> None:
    save_token(page, app)
    for workload in ("chat", "summarization", "reasoning"):
        page.get_by_test_id(f"mix-{workload}").fill("0")
    expect(page.get_by_test_id("action-error")).to_contain_text("mix")
    config = app.api("GET", "/api/status")["config"]
    assert sum(config["mix"].values()) > 0


def test_a_preset_applies(page: Page, app: AppProcess) -> None:
    save_token(page, app)
    presets = {p["id"]: p for p in app.api("GET", "/api/presets")["presets"]}
    button = page.locator("[data-preset='kv-cache']")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    status = app.api("GET", "/api/status")
    assert status["active_preset"] == "kv-cache"
    assert status["config"] == presets["kv-cache"]["load"]
    expect(page.get_by_test_id("rps-confirmed")).to_have_text(
        re.compile(rf"server: {presets['kv-cache']['load']['rps']:.2f} RPS")
    )


def test_presenter_screenshot(page: Page, app: AppProcess) -> None:
    save_token(page, app)
    app.api("POST", "/api/workload/start")
    expect(page.get_by_test_id("engine-state")).to_have_text("running")
    wait_until(
        lambda: app.api("GET", "/api/status")["live"]["workloads"]["chat"]["ok"] > 0,
        60,
        "a completed chat request",
    )
    page.wait_for_timeout(2500)
    path = screenshot(page, "presenter")
    assert path.stat().st_size > 20_000


def test_killed_backend_shows_the_banner_and_reconnects(page: Page, app: AppProcess) -> None:
    page.goto(app.url + "/")
    expect(page.get_by_test_id("engine-state")).to_have_text("idle")
    banner = page.get_by_test_id("connection-banner")
    expect(banner).to_have_count(0)
    app.kill()
    try:
        with pytest.raises(urllib.error.URLError):
            app.api("GET", "/api/status")
        expect(banner).to_be_visible(timeout=15_000)
        expect(banner).to_contain_text("reconnecting")
    finally:
        app.start()
    restarted_at = time.time()
    expect(banner).to_have_count(0, timeout=30_000)
    # Live events flow again on a new stream, without a reload.
    panel = page.get_by_test_id("status-panel")
    wait_until(
        lambda: (
            (at := panel.get_attribute("data-at"))
            and datetime.fromisoformat(at).timestamp() > restarted_at
        ),
        20,
        "a live snapshot from the restarted app",
    )
    expect(page.get_by_test_id("engine-state")).to_have_text("idle")
