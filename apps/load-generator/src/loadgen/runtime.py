"""Composition root: builds the client, workloads, engine and stores from Settings and data."""

from __future__ import annotations

import asyncio
import gc
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import aiohttp

from demo_common.corpus import Corpus
from demo_common.tokenizer import count_chat_tokens, count_tokens
from loadgen.client import StreamingClient, StreamingHttpTransport
from loadgen.clock import Clock, MonotonicClock
from loadgen.controller.core import ScenarioController
from loadgen.controller_wiring import PortsFactory, ScenarioPorts, open_scenario
from loadgen.demo_script.load import LoadConfig
from loadgen.demo_script.models import DemoScript, Preset, WorkloadShapes
from loadgen.engine import Engine
from loadgen.engine.ports import RecordSink, RequestSender
from loadgen.errors import ConfigError
from loadgen.metrics.prometheus import LoadgenMetrics
from loadgen.metrics.recorder import JsonlLog
from loadgen.records import Workload
from loadgen.settings import Settings
from loadgen.workloads import (
    ChatWorkload,
    FollowupQuestions,
    QuestionSource,
    ReasoningWorkload,
    SummarizationWorkload,
    WorkloadDriver,
)
from loadgen.workloads.conversations import ConversationStore
from loadgen.workloads.followup_remote import OpenAIQuestionSource


@dataclass
class Runtime:
    """What the HTTP routes work with."""

    settings: Settings
    script: DemoScript
    engine: Engine
    conversations: ConversationStore
    questions: FollowupQuestions
    metrics: LoadgenMetrics
    presenter_token: str
    active_preset: str | None
    shutdown: asyncio.Event = field(default_factory=asyncio.Event)
    scenario: ScenarioController | None = None  # None: no cluster backend wired (some tests)


def _note_preset(runtime: Runtime, config: LoadConfig) -> None:
    """The scenario applied a config: name its preset, if it is one."""
    runtime.active_preset = next((p.id for p in runtime.script.presets if p.load == config), None)


def settle_heap() -> None:
    """Call once start-up has loaded the corpus and tokenizer: moves them out of the cyclic
    GC's scans, whose full-collection pauses otherwise dominate schedule-lag p99 (measured
    by the client benchmark: lag p99 62 ms -> 10 ms at ~300 streams on asyncio)."""
    gc.collect()
    gc.freeze()


def build_drivers(
    shapes: WorkloadShapes,
    corpus: Corpus,
    questions: FollowupQuestions,
    store: ConversationStore,
    seed: int,
) -> dict[Workload, WorkloadDriver]:
    """The three workloads over `corpus`, each with its own seeded RNG."""
    return {
        "chat": ChatWorkload(
            shapes.chat, corpus.passages, questions, store, random.Random(f"{seed}:chat")
        ),
        "summarization": SummarizationWorkload(
            shapes.summarization, corpus.documents, random.Random(f"{seed}:summarization")
        ),
        "reasoning": ReasoningWorkload(
            shapes.reasoning, corpus.prompts, random.Random(f"{seed}:reasoning")
        ),
    }


def initial_preset(settings: Settings, script: DemoScript) -> Preset:
    """The preset named by the settings (its config applies when the app starts)."""
    preset = script.preset(settings.preset)
    if preset is None:
        known = ", ".join(p.id for p in script.presets)
        raise ConfigError(f"preset: unknown preset {settings.preset!r} (known: {known})")
    return preset


def check_data(settings: Settings, script: DemoScript, corpus: Corpus) -> None:
    """Raise ConfigError/WorkloadDataError now for what would fail when the app starts."""
    initial_preset(settings, script)
    questions = FollowupQuestions(
        None, script.workloads.chat.fallback_questions, random.Random(0), MonotonicClock()
    )
    build_drivers(script.workloads, corpus, questions, ConversationStore(), settings.seed)


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    script: DemoScript,
    corpus: Corpus,
    presenter_token: str,
    *,
    sender: RequestSender | None = None,
    clock: Clock | None = None,
    scenario_ports: ScenarioPorts | PortsFactory | None = None,
    extra_sinks: Sequence[RecordSink] = (),
) -> AsyncIterator[Runtime]:
    """Build and run everything for one app lifetime (tests may inject sender, clock and the
    scenario controller's ports; without ports there is no controller)."""
    clock = clock or MonotonicClock(settings.speed)
    preset = initial_preset(settings, script)
    metrics = LoadgenMetrics(script.slos)
    async with AsyncExitStack() as stack:
        remote: QuestionSource | None = None
        if settings.followup_base_url and settings.followup_model:
            session = await stack.enter_async_context(aiohttp.ClientSession())
            key = settings.gradient_api_key
            remote = OpenAIQuestionSource(
                session,
                base_url=settings.followup_base_url,
                model=settings.followup_model,
                api_key=key.get_secret_value() if key else None,
                timeout_s=settings.followup_timeout_s,
            )
        questions = FollowupQuestions(
            remote,
            script.workloads.chat.fallback_questions,
            random.Random(f"{settings.seed}:questions"),
            clock,
            on_question=metrics.followup,
        )
        store = ConversationStore(settings.conversations_max)
        if sender is None:
            transport = await stack.enter_async_context(
                StreamingHttpTransport(read_timeout_s=settings.read_timeout_s)
            )
            key = settings.endpoint_api_key
            sender = StreamingClient(
                transport,
                base_url=settings.endpoint_url,
                model=settings.model,
                count_tokens=count_tokens,
                count_chat_tokens=count_chat_tokens,
                clock=clock,
                request_timeout_s=settings.request_timeout_s,
                api_key=key.get_secret_value() if key else None,
            )
        sinks: list[RecordSink] = list(extra_sinks)  # e.g. the rehearsal's in-memory records
        if settings.request_log is not None:
            sinks.append(
                JsonlLog(
                    settings.request_log,
                    max_bytes=settings.request_log_max_bytes,
                    keep=settings.request_log_keep,
                )
            )
        engine = Engine(
            sender=sender,
            drivers=build_drivers(script.workloads, corpus, questions, store, settings.seed),
            config=preset.load,
            slos=script.slos,
            clock=clock,
            settings=settings.engine_settings(),
            metrics=metrics,
            sinks=sinks,
            metadata={
                "endpoint": settings.endpoint_url,
                "model": settings.model,
                "corpus": corpus.location,
            },
        )
        runtime = Runtime(
            settings=settings,
            script=script,
            engine=engine,
            conversations=store,
            questions=questions,
            metrics=metrics,
            presenter_token=presenter_token,
            active_preset=preset.id,
        )
        async with engine, AsyncExitStack() as scenario_stack:
            if settings.autostart:
                await engine.start()
            if scenario_ports is not None:
                if not isinstance(scenario_ports, ScenarioPorts):
                    scenario_ports = await scenario_stack.enter_async_context(scenario_ports(clock))
                runtime.scenario = await scenario_stack.enter_async_context(
                    open_scenario(
                        settings, script, engine, metrics.registry, clock, scenario_ports,
                        on_apply=lambda config: _note_preset(runtime, config),
                    )
                )  # fmt: skip
            try:
                yield runtime
            finally:
                runtime.shutdown.set()
