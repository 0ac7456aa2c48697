"""Prometheus configuration for the local stack: frontend, every worker, control API, loadgen.

Workers come and go as pools scale, so they are listed in a file_sd targets file that
Prometheus re-reads on change; no reload is needed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import yaml

WORKER_TARGETS_FILE = "worker-targets.json"


def prometheus_config(
    *,
    frontend: str,
    control_api: str,
    extra_targets: Iterable[str],
    targets_dir: Path,
    scrape_interval_s: float,
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
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": jobs,
    }


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
