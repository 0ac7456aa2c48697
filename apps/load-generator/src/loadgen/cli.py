"""`loadgen serve` (the app against an endpoint) and `loadgen demo` (the app on the local stack).

Flags win over LOADGEN_* env vars, which win over defaults. Bad input: one line, exit code 2;
a failure while running: one line, exit code 1. SIGINT/SIGTERM are handled here only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import uvicorn
import uvloop
from pydantic import ValidationError

from demo_common.cli import add_model_flags, given_flags
from demo_common.corpus import Corpus, CorpusError, load_corpus
from demo_common.objectstore import S3Settings
from demo_common.signals import install_shutdown_signals
from demo_common.validation import one_line
from loadgen.adapters.local_stack import LocalStackError, local_stack_process
from loadgen.adapters.prometheus_query import PrometheusReader
from loadgen.api import create_app
from loadgen.controller_wiring import open_backend_ports
from loadgen.demo_script import DemoScript, load_demo_script
from loadgen.errors import ConfigError, LoadgenError, WorkloadDataError
from loadgen.runtime import check_data, settle_heap
from loadgen.settings import SECRET_FIELDS, Settings, env_name

DEMO_SUMMARY_DIR = Path("build/sessions")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loadgen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the app against an OpenAI-compatible endpoint")
    add_model_flags(serve, Settings, env_name=env_name, exclude=SECRET_FIELDS)
    demo = sub.add_parser(
        "demo",
        help="start the local stack, then the app against it; flags it does not know "
        "(--frontend-port, --serving, ...: `localcluster up --help`) go to the stack",
    )
    demo.add_argument("--env", choices=["prod", "dev"], help="layout (env: ENV; default prod)")
    # The stack provides the endpoint and the model; host and speed are shared with it.
    add_model_flags(
        demo,
        Settings,
        env_name=env_name,
        exclude=(*SECRET_FIELDS, "endpoint_url", "model", "control_url", "prometheus_url", "env"),
    )
    return parser


def app_settings(args: argparse.Namespace, **extra: Any) -> Settings:
    """Settings from env vars plus the flags given (raises ValidationError)."""
    return Settings(**{**given_flags(args, Settings), **extra})


def load_data(settings: Settings, environ: Mapping[str, str]) -> tuple[DemoScript, Corpus]:
    """The demo script and the corpus, checked before anything starts."""
    script = load_demo_script(settings.script)
    s3 = S3Settings().with_env_keys(environ) if settings.corpus.startswith("s3://") else None
    corpus = load_corpus(settings.corpus, s3)
    check_data(settings, script, corpus)
    return script, corpus


class AppServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the CLI handles signals in one place."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.up = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.up.set()


async def serve_app(
    settings: Settings, script: DemoScript, corpus: Corpus, stop: asyncio.Event, banner: str
) -> None:
    """Serve the app until `stop` is set."""
    app = create_app(
        settings,
        script=script,
        corpus=corpus,
        scenario_ports=functools.partial(open_backend_ports, settings),
        metrics_reader=PrometheusReader(settings.prometheus_url),  # the screens' KV hit rate
    )
    settle_heap()
    token: str = app.state.presenter_token
    generated = settings.presenter_token is None
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = AppServer(config)

    async def stop_on_signal() -> None:
        await stop.wait()
        runtime = getattr(app.state, "runtime", None)
        if runtime is not None:
            runtime.shutdown.set()  # ends the live streams, so connections close promptly
        server.should_exit = True

    async def banner_when_up() -> None:
        await server.up.wait()
        where = f"http://{settings.host}:{settings.port}"
        token_line = (
            f"presenter token (generated; set PRESENTER_TOKEN to choose one): {token}"
            if generated
            else "presenter token: from PRESENTER_TOKEN"
        )
        print(
            f"{banner}load generator  {where}   (API {where}/docs, live {where}/api/events, "
            f"metrics {where}/metrics)\n  endpoint {settings.endpoint_url}  model {settings.model}"
            f"\n  {token_line}\nCtrl-C stops everything.",
            flush=True,
        )

    failed = False
    async with asyncio.TaskGroup() as tg:
        helpers = [tg.create_task(stop_on_signal()), tg.create_task(banner_when_up())]
        try:
            await server.serve()
        except SystemExit:  # uvicorn exits when it cannot bind or start the app
            failed = True
        finally:
            for task in helpers:
                task.cancel()
    if failed:
        where = f"{settings.host}:{settings.port}"
        raise LoadgenError(f"could not start the app on {where} (see the message above)")


async def _serve(settings: Settings, environ: Mapping[str, str]) -> None:
    script, corpus = load_data(settings, environ)
    await serve_app(settings, script, corpus, install_shutdown_signals(), banner="")


async def _demo(
    args: argparse.Namespace, stack_argv: list[str], environ: Mapping[str, str]
) -> None:
    host = args.host or environ.get("DEMO_HOST") or environ.get("LOADGEN_HOST") or "127.0.0.1"
    # One demo clock: the app runs at the stack's speed factor (flag, else SPEED, else 1).
    speed = args.speed if args.speed is not None else environ.get("SPEED") or 1.0
    settings = app_settings(args, host=host, speed=speed)
    settings = app_settings(
        args, host=host, speed=speed, summary_dir=settings.summary_dir or DEMO_SUMMARY_DIR
    )
    script, corpus = load_data(settings, environ)  # fail fast, before processes start
    stop = install_shutdown_signals()
    forwarded = [*stack_argv, "--host", host]
    forwarded += ["--scrape-target", f"{_scrape_host(host)}:{settings.port}"]
    forwarded += [f"--speed={settings.speed:g}"] + ([f"--env={args.env}"] if args.env else [])
    async with local_stack_process(forwarded) as stack:
        settings = settings.model_copy(
            update={
                "endpoint_url": stack.frontend_url,
                "model": stack.model_name,
                "control_url": stack.control_url,  # the scenario controller's local backend
                "prometheus_url": stack.prometheus_url,
            }
        )
        await serve_app(settings, script, corpus, stop, banner="")


def _scrape_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, stack_argv = parser.parse_known_args(argv)
    if stack_argv and args.command != "demo":
        parser.error(f"unrecognized arguments: {' '.join(stack_argv)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    environ = dict(os.environ)
    try:
        # uvloop: the client's per-event work is the capacity limit (see the benchmarks).
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            if args.command == "serve":
                runner.run(_serve(app_settings(args), environ))
            else:
                runner.run(_demo(args, stack_argv, environ))
    except ValidationError as exc:
        print(f"loadgen: invalid {one_line(exc, default='settings')}", file=sys.stderr)
        return 2
    except (ConfigError, CorpusError, WorkloadDataError) as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except LocalStackError as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return 2 if exc.exit_code == 2 else 1  # 2: the stack refused its flags
    except LoadgenError as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # CLI edge: one line, not a traceback
        print(f"loadgen: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
