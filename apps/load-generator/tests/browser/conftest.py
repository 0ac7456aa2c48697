"""Browser-test fixtures: the app (`loadgen serve`, built UI) on the real local stack, and
Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from demo_common.net import free_port
from demo_testing.doubles import write_tiny_corpus
from demo_testing.stack import TEST_SPEED
from localcluster.cluster import LocalCluster

REPO = Path(__file__).resolve().parents[4]
UI_DIST = REPO / "apps/load-generator/ui/dist"
ARTIFACTS = REPO / "build/test-artifacts/ui"
CHROMIUM = "/usr/bin/chromium"
# Headless as root, and quiet on a closed network (no update, sync or field-trial calls).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TOKEN = "browser-test-token"
VIEWPORT = {"width": 1920, "height": 1080}


def http(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    """A JSON call; HTTP errors are raised (urllib.error.HTTPError)."""
    data = json.dumps(body).encode() if body is not None else None if method == "GET" else b""
    request = urllib.request.Request(url, method=method, data=data)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wait_until(check: Any, timeout_s: float, what: str, interval_s: float = 0.25) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, urllib.error.URLError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval_s)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


@dataclass
class AppProcess:
    """`loadgen serve` against the local stack, on a fixed port so a restart keeps the URL."""

    stack: LocalCluster
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def comparison_dir(self) -> Path:
        """Where this app looks for the layout comparison (empty: none recorded)."""
        return self.workdir / "compare"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        corpus = self.workdir / "corpus"
        if not corpus.exists():
            write_tiny_corpus(corpus)
        env = os.environ | {"PRESENTER_TOKEN": TOKEN}
        argv = [
            sys.executable, "-m", "loadgen", "serve",
            "--endpoint", self.stack.frontend_url, "--model", self.stack.model_name,
            "--speed", str(TEST_SPEED), "--backend", "local", "--env", "dev",
            "--scenario-state-file", str(self.workdir / "scenario-state.json"),
            "--control-url", self.stack.control_url, "--prometheus-url", self.stack.prometheus_url,
            "--host", "127.0.0.1", "--port", str(self.port), "--corpus", str(corpus),
            "--ui-dir", str(UI_DIST), "--summary-dir", str(self.workdir / "sessions"),
            "--comparison-dir", str(self.comparison_dir),
        ]  # fmt: skip
        log = (self.workdir / "app.log").open("ab")
        self.process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        wait_until(self._healthy, 60, f"the app on {self.url} (log: {self.workdir / 'app.log'})")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"the app exited with {self.process.returncode}; see {self.workdir}")
        return bool(http("GET", f"{self.url}/healthz")["status"] == "ok")

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown of the live streams."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def api(self, method: str, path: str, body: Any = None, *, token: str | None = TOKEN) -> Any:
        return http(method, f"{self.url}{path}", body, token if method != "GET" else None)


@pytest.fixture(scope="session")
def ui_dist() -> Path:
    if not (UI_DIST / "index.html").is_file():
        pytest.fail(f"no UI build in {UI_DIST}: run `make ui` (make test does)")
    return UI_DIST


@pytest.fixture(scope="session")
def app(
    local_stack: LocalCluster, ui_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppProcess]:
    server = AppProcess(local_stack, tmp_path_factory.mktemp("browser-app"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium package (make system-deps)")
    chromium = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@dataclass
class Console:
    """Console errors and uncaught exceptions of a page."""

    errors: list[str] = field(default_factory=list)

    def on_message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh 1920x1080 page (own local storage: no presenter token saved)."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(30_000)
    tab = context.new_page()
    tab.on("console", console.on_message)
    tab.on("pageerror", console.on_page_error)
    yield tab
    context.close()


@pytest.fixture
def running(app: AppProcess) -> Iterator[None]:
    """The baseline load in manual mode, running until the test ends."""
    app.api("POST", "/api/scenario/manual")
    if app.api("GET", "/api/status")["state"] != "idle":
        app.api("POST", "/api/workload/stop")
    app.api("POST", "/api/presets/baseline")
    app.api("POST", "/api/workload/start")
    try:
        yield
    finally:
        app.api("POST", "/api/workload/stop")


def save_token(page: Page, app: AppProcess, token: str = TOKEN) -> None:
    """Open the presenter and save `token` as a presenter would (once, in local storage)."""
    page.goto(app.url + "/")
    page.get_by_test_id("token-form").locator("input").fill(token)
    page.get_by_role("button", name="Save").click()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
