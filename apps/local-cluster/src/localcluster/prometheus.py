"""The local stack's Prometheus: its configuration (frontend, every worker, control API,
loadgen) and the child process.

Workers come and go as pools scale, so they are listed in a file_sd targets file that
Prometheus re-reads on change; no reload is needed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import yaml

from demo_observability.paths import rules_file
from localcluster.processes import ChildProcess
from localcluster.settings import LocalClusterSettings, reachable

WORKER_TARGETS_FILE = "worker-targets.json"


def prometheus_config(
    *,
    frontend: str,
    control_api: str,
    extra_targets: Iterable[str],
    targets_dir: Path,
    scrape_interval_s: float,
    rule_files: Iterable[Path] = (),
) -> dict[str, object]:
    interval = f"{max(1, round(scrape_interval_s * 1000))}ms"
    jobs: list[dict[str, object]] = [
        {"job_name": "dynamo-frontend", "static_configs": [{"targets": [frontend]}]},
        {
            "job_name": "dynamo-workers",
            "file_sd_configs": [
                {"files": [str(targets_dir / WORKER_TARGETS_FILE)], "refresh_interval": "5s"}
            ],
        },
        {"job_name": "local-cluster", "static_configs": [{"targets": [control_api]}]},
    ]
    extra = list(extra_targets)
    if extra:
        jobs.append({"job_name": "loadgen", "static_configs": [{"targets": extra}]})
    config: dict[str, object] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": jobs,
    }
    rules = [str(path) for path in rule_files]
    if rules:  # the recording rules the cluster's Prometheus runs too (observability/rules)
        config["rule_files"] = rules
    return config


def write_prometheus_config(path: Path, config: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def write_worker_targets(targets_dir: Path, workers: Iterable[tuple[str, str, str]]) -> None:
    """Rewrite the file_sd file atomically from (address, pool, worker name) triples."""
    groups = [
        {"targets": [address], "labels": {"pool": pool, "worker": name}}
        for address, pool, name in workers
    ]
    tmp = targets_dir / (WORKER_TARGETS_FILE + ".tmp")
    tmp.write_text(json.dumps(groups, indent=1))
    os.replace(tmp, targets_dir / WORKER_TARGETS_FILE)


class PrometheusServer:
    """Debian's Prometheus as a child, scraping the stack; `workers` are (address, pool, name)."""

    def __init__(self, binary: str, settings: LocalClusterSettings, workdir: Path) -> None:
        self._binary = binary
        self._settings = settings
        self.targets_dir = workdir / "prometheus"
        self.log_path = workdir / "logs" / "prometheus.log"
        self.child: ChildProcess | None = None
        self._targets: frozenset[tuple[str, str, str]] | None = None

    def set_workers(self, workers: Iterable[tuple[str, str, str]]) -> None:
        """Rewrite the targets file when the set of workers changed."""
        targets = frozenset(workers)
        if targets != self._targets:
            write_worker_targets(self.targets_dir, sorted(targets, key=lambda t: t[2]))
            self._targets = targets

    async def start(self, workers: Iterable[tuple[str, str, str]]) -> None:
        s = self._settings
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        self.set_workers(workers)
        config = write_prometheus_config(
            self.targets_dir / "prometheus.yml",
            prometheus_config(
                frontend=f"{s.host}:{s.frontend_port}",
                control_api=f"{reachable(s.control_host)}:{s.control_port}",
                extra_targets=s.extra_scrape_targets,
                targets_dir=self.targets_dir,
                scrape_interval_s=s.scrape_interval_s,
                rule_files=[rules_file()],
            ),
        )
        self.child = ChildProcess(
            "prometheus",
            [
                self._binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.targets_dir / 'data'}",
                f"--web.listen-address={s.host}:{s.prometheus_port}",
                "--storage.tsdb.retention.time=2d",
            ],
            dict(os.environ),
            self.log_path,
        )
        await self.child.start()

    async def stop(self, grace_s: float) -> None:
        if self.child is not None:
            await self.child.stop(grace_s)
