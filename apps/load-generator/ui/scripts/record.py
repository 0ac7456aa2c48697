"""`make record`: the booth's fallback video of one auto-mode cycle of the audience view.

Starts `loadgen demo` (local stack + app), switches to auto mode, and captures the audience view
in Debian's Chromium through the DevTools screencast (Playwright's own video needs an ffmpeg
build it downloads, which these machines cannot fetch). Debian's ffmpeg then encodes the frames
on the demo clock (wall time x speed), with the phase caption burned in; one still per phase of
the audience view, and one of the presenter view (a second page, token saved) per phase; after
the cycle, the audience's "why disaggregation" segment from the newest `make compare` record.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
FFMPEG = "/usr/bin/ffmpeg"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIDEO_FPS = 5  # the view changes once a second of wall time: more frames only cost encoding
STILL_AT = 0.9  # a phase's still is taken this far into it (its effect is on screen by then)


@dataclass(frozen=True)
class Frame:
    wall_s: float
    path: Path


@dataclass(frozen=True)
class Phase:
    """One phase as recorded: its wall-clock span and what the audience reads."""

    index: int
    count: int
    id: str
    name: str
    caption: str
    start_wall_s: float
    end_wall_s: float


def phases_from_polls(polls: list[dict[str, Any]], speed: float, end_wall_s: float) -> list[Phase]:
    """Phase spans from the scenario polls (`wall_s` + the ScenarioState): a phase starts at
    `elapsed_s` (demo) before the first poll that saw it and ends where the next one starts."""
    starts: list[tuple[float, dict[str, Any]]] = []
    for poll in polls:
        phase = poll["state"].get("phase")
        if phase is None:
            continue
        key = (poll["state"]["cycle"], phase["index"])
        if starts and (starts[-1][1]["_key"] == key):
            continue
        start = poll["wall_s"] - phase["elapsed_s"] / speed
        starts.append((start, phase | {"_key": key}))
    spans: list[Phase] = []
    for i, (start, phase) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else end_wall_s
        spans.append(
            Phase(
                index=phase["index"],
                count=phase["count"],
                id=phase["id"],
                name=phase["name"],
                caption=phase["caption"],
                start_wall_s=start,
                end_wall_s=max(end, start),
            )
        )
    return spans


def concat_list(frames: list[Frame], speed: float, end_wall_s: float) -> str:
    """ffmpeg concat-demuxer input: each frame held until the next, in demo seconds."""
    lines = ["ffconcat version 1.0"]
    for i, frame in enumerate(frames):
        nxt = frames[i + 1].wall_s if i + 1 < len(frames) else end_wall_s
        held_s = max(nxt - frame.wall_s, 0.0) * speed
        lines += [f"file '{frame.path.name}'", f"duration {held_s:.3f}"]
    if frames:  # the demuxer ignores the last duration unless the file is repeated
        lines.append(f"file '{frames[-1].path.name}'")
    return "\n".join(lines) + "\n"


def _srt_time(seconds: float) -> str:
    ms = round(max(seconds, 0.0) * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def captions(phases: list[Phase], t0_wall_s: float, speed: float) -> str:
    """SubRip captions on the demo clock: "Phase i/n · Name" over the phase's one-line caption."""
    blocks = []
    for n, phase in enumerate(phases, start=1):
        start = (phase.start_wall_s - t0_wall_s) * speed
        end = (phase.end_wall_s - t0_wall_s) * speed
        title = f"Phase {phase.index + 1}/{phase.count} · {phase.name}"
        blocks.append(f"{n}\n{_srt_time(start)} --> {_srt_time(end)}\n{title}\n{phase.caption}\n")
    return "\n".join(blocks)


def still_frames(phases: list[Phase], frames: list[Frame]) -> list[tuple[Phase, Frame]]:
    """For each phase, the last frame before STILL_AT of its span."""
    picks = []
    for phase in phases:
        at = phase.start_wall_s + STILL_AT * (phase.end_wall_s - phase.start_wall_s)
        inside = [f for f in frames if phase.start_wall_s <= f.wall_s <= at]
        if inside:
            picks.append((phase, inside[-1]))
    return picks


# ----- running it ------------------------------------------------------------------------------
def _http(method: str, url: str, token: str | None = None, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else b"" if method == "POST" else None
    request = urllib.request.Request(url, method=method, data=data)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"record: `loadgen demo` exited with {process.returncode}")
        try:
            if _http("GET", f"{url}/healthz")["status"] == "ok":
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"record: the app did not answer on {url} within {timeout_s:.0f} s")


async def _capture(url: str, token: str, out: Path, max_wall_s: float | None) -> None:
    frames_dir = out / "frames"
    shutil.rmtree(frames_dir, ignore_errors=True)
    frames_dir.mkdir(parents=True)
    frames: list[Frame] = []
    polls: list[dict[str, Any]] = []
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = await browser.new_page(viewport={"width": 1920, "height": 1080})
        await page.goto(f"{url}/audience")
        if not await page.locator("[data-testid=audience]").count():
            # An app without the UI's path fallback: open the UI and follow its own link.
            await page.goto(f"{url}/")
            await page.get_by_role("link", name="Audience").click()
        await page.wait_for_selector("[data-testid=audience]")
        presenter = await _presenter_page(browser, url, token)
        presenter_dir = out / "presenter"
        shutil.rmtree(presenter_dir, ignore_errors=True)
        presenter_dir.mkdir(parents=True)
        shot: set[tuple[int, int]] = set()
        cdp = await page.context.new_cdp_session(page)

        async def on_frame(event: dict[str, Any]) -> None:
            await cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})
            path = frames_dir / f"{len(frames):06d}.jpg"
            path.write_bytes(base64.b64decode(event["data"]))
            frames.append(Frame(event["metadata"].get("timestamp") or time.time(), path))

        cdp.on("Page.screencastFrame", lambda e: asyncio.ensure_future(on_frame(e)))
        t0 = time.time()
        _http("POST", f"{url}/api/scenario/stop", token)  # so the cycle starts at phase 1
        started = _http("POST", f"{url}/api/scenario/auto", token)
        speed = float(started["speed"])
        # A cycle is 13 demo minutes; allow for a slow machine.
        max_wall_s = max_wall_s or 30 * 60 / speed + 60
        await cdp.send(
            "Page.startScreencast",
            # Every 6th frame (~5 fps of a 30 fps screencast, VIDEO_FPS): all of them cost
            # Chromium a 1080p JPEG each on the 2 cores the stack runs on.
            {
                "format": "jpeg",
                "quality": 85,
                "maxWidth": 1920,
                "maxHeight": 1080,
                "everyNthFrame": 6,
            },
        )
        while time.time() - t0 < max_wall_s:
            state = _http("GET", f"{url}/api/scenario")
            polls.append({"wall_s": time.time(), "state": state})
            if state["cycle"] > started["cycle"]:  # one whole cycle played
                break
            if state["mode"] != "auto":
                print(f"record: the scenario left auto mode ({state['mode']}); stopping early")
                break
            phase = state.get("phase")
            if phase is not None and phase["elapsed_s"] >= STILL_AT * phase["duration_s"]:
                key = (state["cycle"], phase["index"])
                if key not in shot:
                    shot.add(key)
                    name = f"{phase['index'] + 1:02d}-{phase['id']}.png"
                    await presenter.screenshot(path=str(presenter_dir / name))
            await asyncio.sleep(1.0)
        else:
            print(f"record: no full cycle within {max_wall_s:.0f} s; keeping what was recorded")
        await cdp.send("Page.stopScreencast")
        end = time.time()
        await _why_still(page, url, token, out)
        await browser.close()
    _http("POST", f"{url}/api/scenario/stop", token)
    phases = [p for p in phases_from_polls(polls, speed, end) if p.end_wall_s > t0]
    _encode(frames, phases, t0, end, speed, out)


async def _why_still(page: Page, url: str, token: str, out: Path) -> None:
    """After the cycle, the "why disaggregation" segment as the audience sees it when the
    presenter shows it: the newest `make compare` record the app serves."""
    if not _http("GET", f"{url}/api/comparison")["recorded"]:
        print("record: no layout comparison recorded (make compare); no why-disaggregation still")
        return
    _http("PUT", f"{url}/api/scenario/audience", token, {"show": "comparison"})
    try:
        await page.wait_for_selector("[data-testid=why-panel]", timeout=30_000)
        await page.wait_for_timeout(2_000)  # the plot image loads after the panel
        await page.screenshot(path=str(out / "why-disaggregation.png"))
    finally:
        _http("PUT", f"{url}/api/scenario/audience", token, {"show": "live"})


async def _presenter_page(browser: Browser, url: str, token: str) -> Page:
    """The presenter view as a presenter keeps it open (token saved), for a still per phase."""
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    await page.goto(f"{url}/")
    form = page.get_by_test_id("token-form")
    if await form.count():
        await form.locator("input").fill(token)
        await page.get_by_role("button", name="Save").click()
    return page


def _encode(
    frames: list[Frame], phases: list[Phase], t0: float, end: float, speed: float, out: Path
) -> None:
    if not frames:
        raise SystemExit("record: the screencast sent no frame")
    frames = sorted(frames, key=lambda f: f.wall_s)
    frames_dir = frames[0].path.parent
    (frames_dir / "frames.ffconcat").write_text(concat_list(frames, speed, end))
    subs = out / "captions.srt"
    subs.write_text(captions(phases, frames[0].wall_s, speed))
    video = out / "audience-cycle.mp4"
    style = "FontName=DejaVu Sans,FontSize=12,BorderStyle=3,Outline=1,Shadow=0,MarginV=8"
    subprocess.run(
        [
            FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", str(frames_dir / "frames.ffconcat"),
            "-vf", f"fps={VIDEO_FPS},subtitles={subs}:force_style='{style}'",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
            str(video),
        ],
        check=True,
    )  # fmt: skip
    stills = out / "stills"
    shutil.rmtree(stills, ignore_errors=True)
    stills.mkdir()
    for phase, frame in still_frames(phases, frames):
        name = stills / f"{phase.index + 1:02d}-{phase.id}.png"
        subprocess.run(
            [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-i", str(frame.path), str(name)],
            check=True,
        )
    demo_s = (end - frames[0].wall_s) * speed
    print(f"record: {video} ({demo_s:.0f} s of demo time from {len(frames)} frames), {stills}/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="record", description=__doc__)
    parser.add_argument("--env", default="prod", help="local stack layout (ENV)")
    parser.add_argument("--speed", type=float, default=1.0, help="demo clock speed factor (SPEED)")
    parser.add_argument("--corpus", default="build/corpus", help="corpus folder")
    parser.add_argument("--ui-dir", default="apps/load-generator/ui/dist")
    parser.add_argument("--out", type=Path, default=Path("build/record"))
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--max-wall-s", type=float, default=None, help="bound on the recording")
    parser.add_argument(
        "--url", help="record an app already running there (token from PRESENTER_TOKEN)"
    )
    args = parser.parse_args(argv)
    for tool in (CHROMIUM, FFMPEG):
        if not os.access(tool, os.X_OK):
            print(f"record: {tool} missing (make system-deps installs it)", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    if args.url:
        token = os.environ.get("PRESENTER_TOKEN", "")
        if not token:
            print("record: --url needs the app's token in PRESENTER_TOKEN", file=sys.stderr)
            return 1
        asyncio.run(_capture(args.url.rstrip("/"), token, args.out, args.max_wall_s))
        return 0
    token = secrets.token_urlsafe(18)
    argv_demo = [
        sys.executable, "-m", "loadgen", "demo", "--env", args.env, "--speed", f"{args.speed:g}",
        "--port", str(args.port), "--corpus", args.corpus, "--ui-dir", args.ui_dir,
    ]  # fmt: skip
    log = (args.out / "demo.log").open("wb")
    process = subprocess.Popen(
        argv_demo,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ | {"PRESENTER_TOKEN": token},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{args.port}"
    try:
        _wait_healthy(url, process, timeout_s=300)
        asyncio.run(_capture(url, token, args.out, args.max_wall_s))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
