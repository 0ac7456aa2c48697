"""create_app(settings, ...): the FastAPI app (routes, lifespan owning the runtime, UI files)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from demo_common.corpus import Corpus, load_corpus
from loadgen.api.presenter_guard import PresenterGuard
from loadgen.api.routes import (
    comparison,
    conversations,
    events,
    health,
    history,
    pools,
    presets,
    scenario,
    status,
    workload,
)
from loadgen.api.screen_history import recording
from loadgen.api.ui_files import UiFiles
from loadgen.clock import Clock
from loadgen.controller.ports import MetricsReader
from loadgen.controller_wiring import PortsFactory, ScenarioPorts
from loadgen.demo_script import load_demo_script
from loadgen.demo_script.models import DemoScript
from loadgen.engine.ports import RequestSender
from loadgen.runtime import open_runtime
from loadgen.settings import Settings

log = logging.getLogger(__name__)


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    """422 in FastAPI's shape, without echoing the input: a NaN or Infinity that was sent
    cannot be written back as JSON, and FastAPI's own handler then fails with a 500."""
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def create_app(
    settings: Settings,
    *,
    script: DemoScript | None = None,
    corpus: Corpus | None = None,
    presenter_token: str | None = None,
    sender: RequestSender | None = None,
    clock: Clock | None = None,
    scenario_ports: ScenarioPorts | PortsFactory | None = None,
    metrics_reader: MetricsReader | None = None,
) -> FastAPI:
    """The app. The CLI passes the script and corpus it has already checked; left out, they are
    read from `settings` here (a local corpus folder). Without a token in the arguments or the
    settings, one is generated: `app.state.presenter_token`. `sender`/`clock` replace the HTTP
    client and real time in tests; `scenario_ports` are the scenario controller's (none: no
    controller, its routes answer 503). `metrics_reader` is the Prometheus the screens' KV hit
    rate is read from (none: it reads "unavailable"); the app closes it (`aclose`) when it stops.
    """
    if script is None:
        script = load_demo_script(settings.script)
    if corpus is None:
        corpus = load_corpus(settings.corpus)
    if presenter_token is None:
        secret = settings.presenter_token
        presenter_token = secret.get_secret_value() if secret else secrets.token_urlsafe(18)
    token: str = presenter_token

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            closing = getattr(metrics_reader, "aclose", None)
            if closing is not None:
                stack.push_async_callback(closing)  # last: after the recorder has stopped
            runtime = await stack.enter_async_context(
                open_runtime(
                    settings,
                    script,
                    corpus,
                    token,
                    sender=sender,
                    clock=clock,
                    scenario_ports=scenario_ports,
                )
            )
            app.state.screen_history = await stack.enter_async_context(
                recording(runtime, metrics_reader)
            )
            app.state.runtime = runtime
            yield

    app = FastAPI(
        title="Load generator",
        summary="Three workloads with open-loop arrivals against an OpenAI-compatible endpoint",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.presenter_token = token
    app.state.presenter_guard = PresenterGuard(token)
    if settings.cors_origins:  # closed unless origins are named: the UI is served from here
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
        )
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for module in (
        health,
        status,
        workload,
        presets,
        conversations,
        events,
        history,
        scenario,
        pools,
        comparison,
    ):
        app.include_router(module.router)
    if (settings.ui_dir / "index.html").is_file():
        app.mount("/", UiFiles(directory=settings.ui_dir, html=True), name="ui")
    else:
        log.info("no UI build at %s; serving the API only", settings.ui_dir)
    return app
