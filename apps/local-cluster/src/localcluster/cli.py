"""`localcluster up`: run the embedded local stack until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import ValidationError

from demo_common.signals import install_shutdown_signals
from localcluster.cluster import LocalCluster
from localcluster.errors import LocalClusterError
from localcluster.settings import LocalClusterSettings

# Every flag's environment twin, read here and nowhere else.
ENV_VARS = {
    "env": "ENV",
    "serving": "DEMO_SERVING",
    "speed": "SPEED",
    "host": "DEMO_HOST",
    "frontend_port": "DEMO_FRONTEND_PORT",
    "prometheus_port": "DEMO_PROMETHEUS_PORT",
    "control_port": "DEMO_CONTROL_PORT",
    "workdir": "DEMO_WORKDIR",
    "readiness_delay_s": "DEMO_READINESS_DELAY_S",
    "migration_limit": "DEMO_MIGRATION_LIMIT",
    "extra_scrape_targets": "DEMO_SCRAPE_TARGETS",
}


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", choices=["prod", "dev"], help="layout (env: ENV; default prod)")
    parser.add_argument("--speed", type=float, help="speed factor (env: SPEED; default 1)")
    parser.add_argument(
        "--serving",
        choices=["disaggregated", "aggregated"],
        help="aggregated = the baseline without disaggregation (env: DEMO_SERVING)",
    )
    parser.add_argument("--host", help="address to listen on (env: DEMO_HOST)")
    parser.add_argument("--frontend-port", type=int, help="env: DEMO_FRONTEND_PORT (8000)")
    parser.add_argument("--prometheus-port", type=int, help="env: DEMO_PROMETHEUS_PORT (9090)")
    parser.add_argument("--control-port", type=int, help="env: DEMO_CONTROL_PORT (8090)")
    parser.add_argument("--workdir", help="logs and data (env: DEMO_WORKDIR; default a temp dir)")
    parser.add_argument("--readiness-delay-s", type=float, help="env: DEMO_READINESS_DELAY_S")
    parser.add_argument("--migration-limit", type=int, help="env: DEMO_MIGRATION_LIMIT")
    parser.add_argument(
        "--scrape-target",
        dest="extra_scrape_targets",
        action="append",
        help="host:port Prometheus also scrapes, repeatable (env: DEMO_SCRAPE_TARGETS, a,b)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        help="write the stack's URLs and model as JSON here once it serves (for supervisors)",
    )


def cluster_settings(
    args: argparse.Namespace, environ: Mapping[str, str], **extra: object
) -> LocalClusterSettings:
    """Flags win over env vars, env vars over defaults; raises ValidationError on bad values."""
    values: dict[str, object] = {}
    for field, var in ENV_VARS.items():
        flag = getattr(args, field, None)
        if flag is not None:
            values[field] = flag
        elif environ.get(var):
            value = environ[var]
            values[field] = value.split(",") if field == "extra_scrape_targets" else value
    return LocalClusterSettings.model_validate({**values, **extra})


def validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "settings"
    return f"invalid {field}: {first['msg']} (got {first.get('input')!r})"


def write_ready_file(path: Path, cluster: LocalCluster) -> None:
    """The stack's addresses as JSON, written atomically (a reader never sees half a file)."""
    info = {
        "frontend_url": cluster.frontend_url,
        "prometheus_url": cluster.prometheus_url,
        "control_url": cluster.control_url,
        "model_name": cluster.model_name,
    }
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(info))
    partial.replace(path)


async def _run(settings: LocalClusterSettings, ready_file: Path | None) -> None:
    stop = install_shutdown_signals()
    async with LocalCluster(settings) as cluster:
        print(
            f"local stack up (ENV={settings.env}, {settings.serving}, speed {settings.speed:g}):\n"
            f"  Dynamo frontend (OpenAI API)  {cluster.frontend_url}/v1/chat/completions\n"
            f"  model                         {cluster.model_name}\n"
            f"  Prometheus                    {cluster.prometheus_url}\n"
            f"  pool control API              {cluster.control_url}/pools\n"
            f"  logs                          {cluster.workdir / 'logs'}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        if ready_file is not None:
            write_ready_file(ready_file, cluster)
        await stop.wait()
        print("stopping the local stack ...", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcluster", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_cluster_arguments(sub.add_parser("up", help="start the local stack and wait"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = cluster_settings(args, os.environ)
        asyncio.run(_run(settings, args.ready_file))
    except ValidationError as exc:
        print(f"localcluster: {validation_message(exc)}", file=sys.stderr)
        return 2
    except LocalClusterError as exc:
        print(f"localcluster: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
