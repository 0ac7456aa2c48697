"""`make soak`: the booth for hours, compressed: the local stack and the load generator app
(its own process, measured from outside) at a high speed factor with the load scaled down.

The app runs in auto mode when the scenario controller exists (POST /api/scenario/auto);
without it, the soak plays the demo script's presets in a loop through the presenter API.
Samples once a second: the app's RSS, open fds, threads, asyncio tasks, event-loop lag and its
bounded stores; at the end: the session summary's arithmetic, the app's log for unhandled
exceptions, stuck phases; report (markdown + SVG plots) in --out.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from demo_bench.soak_report import write_report
from demo_common.net import free_port
from demo_testing.accounting import totals, unaccounted
from demo_testing.doubles import write_tiny_corpus
from localcluster.background import BackgroundCluster
from localcluster.settings import LocalClusterSettings

TOKEN_ENV = "PRESENTER_TOKEN"
BOOTH_HOURS = 8.0


@dataclass
class Sample:
    t_s: float  # wall seconds since the load started
    demo_h: float  # booth hours played
    rss_mb: float
    fds: int
    threads: int
    tasks: float | None
    loop_lag_ms: float | None
    conversations: int
    in_flight: int
    phase: str


def _metric(text: str, name: str) -> float | None:
    match = re.search(rf"^{name} ([0-9.eE+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.token = os.environ.get(TOKEN_ENV) or "soak-presenter-token-0001"
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.samples: list[Sample] = []
        self.events: list[str] = []
        self.phase = "-"
        self.phase_since = 0.0
        self.phase_flagged = False
        self.left_auto = False
        self.phase_overruns: list[str] = []
        self.started = time.monotonic()

    @property
    def auto(self) -> bool:
        """Auto mode needs the scenario controller (and the prod layout its script plays)."""
        return importlib.util.find_spec("loadgen.controller") is not None

    def scaled_script(self) -> Path:
        """The packaged demo script with every preset's rps x load_scale (phases use presets)."""
        from loadgen.demo_script.loader import default_script_path

        data = yaml.safe_load(default_script_path().read_text(encoding="utf-8"))
        for preset in data["presets"]:
            preset["load"]["rps"] = round(preset["load"]["rps"] * self.args.load_scale, 4)
        path = self.workdir / "demo-script-soak.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def stack_settings(self, app_port: int) -> LocalClusterSettings:
        return LocalClusterSettings(
            env="prod" if self.auto else "dev", speed=self.args.speed, frontend_port=free_port(),
            prometheus_port=free_port(), control_port=free_port(),
            workdir=self.workdir / "stack", migration_limit=3,
            extra_scrape_targets=[f"127.0.0.1:{app_port}"], scrape_interval_s=2.0,
        )  # fmt: skip

    def run(self) -> dict[str, Any]:
        port = free_port()
        with BackgroundCluster(self.stack_settings(port)) as stack:
            corpus = write_tiny_corpus(self.workdir / "corpus")
            # Kept with the report: a traceback is only useful whole.
            log_path = self.args.out / "app.log"
            argv = [
                sys.executable, "-m", "loadgen", "serve", "--port", str(port),
                "--endpoint", stack.frontend_url, "--model", stack.model_name,
                "--corpus", str(corpus), "--speed", f"{self.args.speed:g}",
                "--summary-dir", str(self.workdir / "sessions"),
                "--control-url", stack.control_url, "--prometheus-url", stack.prometheus_url,
            ]  # fmt: skip
            if self.auto:
                argv += [
                    "--script",
                    str(self.scaled_script()),
                    "--scenario-state-file",
                    str(self.workdir / "scenario-state.json"),
                ]
            env = {**os.environ, TOKEN_ENV: self.token}
            with log_path.open("wb") as log:
                app = psutil.Popen(argv, env=env, stdout=log, stderr=log)
                try:
                    result = self.drive(f"http://127.0.0.1:{port}", app)
                finally:
                    app.terminate()
                    app.wait(30)
            result["log_problems"] = self.log_problems(log_path.read_text(errors="replace"))
        return result

    def drive(self, url: str, app: psutil.Process) -> dict[str, Any]:
        args = self.args
        wall_s = BOOTH_HOURS * 3600 * args.hours_fraction / args.speed
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(600):
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            script = http.get("/api/presets").json()["presets"]
            auto = http.get("/api/scenario").status_code == 200
            mode = "auto (scenario controller)" if auto else "preset cycle (no controller)"
            if auto:
                assert http.post("/api/scenario/auto", headers=self.auth).status_code == 200
            else:
                assert http.post("/api/workload/start", headers=self.auth).status_code == 200
            started = self.started = time.monotonic()
            next_preset, preset_index, last_sample = 0.0, 0, 0.0
            while (now := time.monotonic() - started) < wall_s:
                if not auto and now >= next_preset:
                    preset = script[preset_index % len(script)]
                    self.apply_preset(http, preset)
                    preset_index += 1
                    next_preset = now + args.phase_demo_s / args.speed
                if now - last_sample >= args.sample_s:
                    last_sample = now
                    self.sample(http, app, now, auto)
                time.sleep(0.05)
            if auto:
                stopped = http.post("/api/scenario/stop", headers=self.auth)
                summary = http.get("/api/status").json()
                session = self.last_summary(summary)
                keda_paused = stopped.json().get("keda", {}).get("paused")
            else:
                session = http.post("/api/workload/stop", headers=self.auth).json()["summary"]
                keda_paused = None
            healthy = http.get("/healthz").status_code == 200
        return {
            "mode": mode, "wall_s": round(wall_s, 1), "speed": args.speed,
            "layout": "prod" if self.auto else "dev",
            "booth_hours": round(BOOTH_HOURS * args.hours_fraction, 2),
            "load_scale": args.load_scale, "summary": session,
            "unaccounted": unaccounted(session) if session else ["no session summary"],
            "totals": totals(session) if session else {}, "healthy_at_end": healthy,
            "keda_paused_after_stop": keda_paused, "phase_overruns": self.phase_overruns,
            "presets_played": len(self.events), "samples": [asdict(s) for s in self.samples],
        }  # fmt: skip

    def apply_preset(self, http: httpx.Client, preset: dict[str, Any]) -> None:
        http.post(f"/api/presets/{preset['id']}", headers=self.auth).raise_for_status()
        load = dict(preset["load"])
        load["rps"] = round(max(load["rps"] * self.args.load_scale, 0.001), 4)
        http.put("/api/workload/config", json=load, headers=self.auth).raise_for_status()
        self.phase = preset["id"]
        self.events.append(preset["id"])

    def check_phase(self, scenario: dict[str, Any], now: float) -> None:
        """A phase is stuck when its time is up (the app's view; its elapsed_s stops at the
        length) and this soak has seen it for longer than its length plus 5 demo seconds and two
        samples.
        Auto mode ending by itself is a stuck demo too."""
        if scenario.get("mode") != "auto" and not self.left_auto:
            self.left_auto = True
            self.phase_overruns.append(f"auto mode ended by itself at {now:.0f} s: {scenario}")
        phase = scenario.get("phase") or {}
        phase_id = phase.get("id", "-")
        if phase_id != self.phase:
            self.phase, self.phase_since, self.phase_flagged = phase_id, now, False
        bound_s = (phase.get("duration_s", 0.0) + 5) / self.args.speed + 2 * self.args.sample_s
        # Both clocks must agree: the app's says the phase's time is up, ours that it has
        # been seen too long (either alone misleads when samples arrive late).
        time_up = phase.get("time_left_s", 0.0) <= 0
        if phase and time_up and not self.phase_flagged and now - self.phase_since > bound_s:
            self.phase_flagged = True
            self.phase_overruns.append(
                f"{phase_id} seen for {now - self.phase_since:.0f} s of wall time "
                f"(bound {bound_s:.0f} s) at {now:.0f} s: {phase}"
            )

    def sample(self, http: httpx.Client, app: psutil.Process, now: float, auto: bool) -> None:
        metrics = http.get("/metrics").text
        status = http.get("/api/status").json()
        if auto:
            scenario = http.get("/api/scenario").json()
            # Stamped when the answer came: the sample's other calls can take seconds on a
            # loaded machine, which would date a new phase too early.
            self.check_phase(scenario, time.monotonic() - self.started)
        with app.oneshot():
            memory = app.memory_info().rss / 2**20
            fds, threads = app.num_fds(), app.num_threads()
        lag = _metric(metrics, "loadgen_event_loop_lag_seconds")
        self.samples.append(Sample(
            t_s=round(now, 1), demo_h=round(now * self.args.speed / 3600, 3),
            rss_mb=round(memory, 2), fds=fds, threads=threads,
            tasks=_metric(metrics, "loadgen_asyncio_tasks"),
            loop_lag_ms=None if lag is None else round(lag * 1000, 2),
            conversations=int(status["conversations"]),
            in_flight=sum(w["in_flight"] for w in status["live"]["workloads"].values()),
            phase=self.phase,
        ))  # fmt: skip

    @staticmethod
    def last_summary(status: dict[str, Any]) -> dict[str, Any] | None:
        path = status.get("last_summary_file")
        return json.loads(Path(path).read_text()) if path else None

    @staticmethod
    def log_problems(text: str) -> list[str]:
        """Tracebacks and ERROR lines in the app's own log (unhandled exceptions)."""
        problems: list[str] = []
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if "Traceback" in line:
                # The traceback down to its exception line (the first unindented one after it).
                end = next(
                    (j for j in range(i + 1, len(lines)) if not lines[j].startswith((" ", "\t"))),
                    len(lines) - 1,
                )
                problems.append("\n".join(ln[:300] for ln in lines[i : end + 1][-40:]))
            elif " ERROR " in line or line.startswith("ERROR:"):
                problems.append(line[:300])
        return problems[:50]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak", description=__doc__)
    parser.add_argument("--speed", type=float, default=30.0, help="demo seconds per wall second")
    parser.add_argument(
        "--hours-fraction",
        type=float,
        default=1.0,
        help="share of the 8 booth hours to play (1 = all of them)",
    )
    parser.add_argument(
        "--load-scale",
        type=float,
        default=0.05,
        help="multiplies every preset's rps (the stack runs SPEED x faster)",
    )
    parser.add_argument(
        "--phase-demo-s",
        type=float,
        default=600.0,
        help="demo seconds per preset when there is no controller",
    )
    parser.add_argument("--sample-s", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("build/soak"))
    args = parser.parse_args(argv)  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        result = Soak(args, Path(folder)).run()
    verdict = write_report(result, args.out)
    print(f"soak report: {args.out / 'soak.md'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
