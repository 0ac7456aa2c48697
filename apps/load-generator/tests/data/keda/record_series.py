"""Records the kit's ScaledObject queries from a real local stack while presets play (test data).

    uv run python apps/load-generator/tests/data/keda/record_series.py OUT.json [dev|prod]

Starts `loadgen demo` on free ports, plays baseline -> prefill-stress -> baseline ->
decode-stress -> baseline (120/180/120/180/120 s), reads both queries from the stack's
Prometheus every 5 s, writes the samples as JSON and stops the stack. Pools stay fixed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[5]
SCHEDULE = [
    ("baseline", 120),
    ("prefill-stress", 180),
    ("baseline", 120),
    ("decode-stress", 180),
    ("baseline", 120),
]
TOKEN = "recorder-token-1234"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def post(url: str) -> None:
    request = urllib.request.Request(
        url, method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def main(out: Path, env: str) -> None:
    ports = {name: free_port() for name in ("app", "frontend", "prometheus", "control")}
    queries = {
        pool: yaml.safe_load((REPO / f"k8s/keda/base/scaledobject-{pool}.yaml").read_text())[
            "spec"
        ]["triggers"][0]["metadata"]["query"]
        for pool in ("prefill", "decode")
    }
    argv = ["uv", "run", "--frozen", "loadgen", "demo", "--env", env, "--speed", "1"]
    for flag, name in [("--port", "app"), ("--frontend-port", "frontend")]:
        argv += [flag, str(ports[name])]
    argv += ["--prometheus-port", str(ports["prometheus"])]
    argv += ["--control-port", str(ports["control"]), "--corpus", str(REPO / "build/corpus")]
    app = f"http://127.0.0.1:{ports['app']}"
    prometheus = f"http://127.0.0.1:{ports['prometheus']}/api/v1/query?"
    with out.with_suffix(".log").open("w") as log:
        proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env={**os.environ, "PRESENTER_TOKEN": TOKEN},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for _ in range(300):
            try:
                get(f"{app}/api/status")
                break
            except OSError:
                time.sleep(1)
        layout = get(f"http://127.0.0.1:{ports['control']}/pools")
        post(f"{app}/api/workload/start")
        samples: list[dict[str, Any]] = []
        t0 = time.monotonic()
        for preset, duration_s in SCHEDULE:
            post(f"{app}/api/presets/{preset}")
            end = time.monotonic() + duration_s
            while time.monotonic() < end:
                row: dict[str, Any] = {"t_s": round(time.monotonic() - t0, 1), "preset": preset}
                for pool, query in queries.items():
                    answer = get(prometheus + urllib.parse.urlencode({"query": query}))
                    result = answer["data"]["result"]
                    row[pool] = float(result[0]["value"][1]) if result else None
                samples.append(row)
                time.sleep(5)
        record = {"env": env, "speed": 1, "interval_s": 5, "layout": layout}
        record |= {"queries": queries, "schedule": SCHEDULE, "samples": samples}
        out.write_text(json.dumps(record, indent=1))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "dev")
