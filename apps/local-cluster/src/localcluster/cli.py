"""`localcluster up`: run the embedded local stack until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from demo_common.cli import add_model_flags, given_flags
from demo_common.signals import install_shutdown_signals
from demo_common.validation import one_line
from localcluster.cluster import LocalCluster
from localcluster.errors import LocalClusterError
from localcluster.settings import LocalClusterSettings


def env_name(name: str, field: FieldInfo) -> str | None:
    """A settings field's environment twin, declared with the field."""
    extra = field.json_schema_extra
    env = extra.get("env") if isinstance(extra, dict) else None
    return env if isinstance(env, str) else None


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_flags(parser, LocalClusterSettings, env_name=env_name)
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
    for name, field in LocalClusterSettings.model_fields.items():
        env = env_name(name, field)
        if env and environ.get(env):
            value = environ[env]
            values[name] = value.split(",") if name == "extra_scrape_targets" else value
    values.update(given_flags(args, LocalClusterSettings))
    return LocalClusterSettings.model_validate({**values, **extra})


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


async def stop_when_orphaned(
    stop: asyncio.Event,
    parent_pid: int,
    getppid: Callable[[], int] = os.getppid,
    interval_s: float = 1.0,
) -> None:
    """Set `stop` once the process that started us is gone (we were re-parented): a supervisor
    killed with SIGKILL (`loadgen demo`) must not leave the stack running."""
    while not stop.is_set():
        if getppid() != parent_pid:
            print("localcluster: the supervising process is gone; stopping", flush=True)
            stop.set()
            return
        await asyncio.sleep(interval_s)


async def _run(settings: LocalClusterSettings, ready_file: Path | None) -> None:
    stop = install_shutdown_signals()
    async with LocalCluster(settings) as cluster, asyncio.TaskGroup() as tg:
        # With --ready-file a supervisor started us: follow it if it dies.
        watcher = tg.create_task(stop_when_orphaned(stop, os.getppid())) if ready_file else None
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
        if watcher is not None:
            watcher.cancel()
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
        print(f"localcluster: invalid {one_line(exc, default='settings')}", file=sys.stderr)
        return 2
    except LocalClusterError as exc:
        print(f"localcluster: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
