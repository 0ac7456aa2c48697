"""`make profile ENV=prod`: profile the deployed graph with Dynamo's own profiler and turn the
result into a local-stack profile.

Steps: pause KEDA on both ScaledObjects (so it cannot undo the next step), scale the adapters
to 1 prefill + 1 decode, turn prefix caching off in the engine configs and restart the workers
(profile_endpoint's prefill figures are wrong with caching on: AIPerf's warm-up reuses the
prompt), run `dynamo.profiler.profile_endpoint` in both modes against the real frontend, then
put everything back as it was (also when profiling fails), and convert with
deploykit.profile_convert. The cluster is reached through a small port (the kubectl adapter in
deploykit.kube); tests drive the same steps against a fake that keeps the upstream contracts.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from deploykit.errors import DeployKitError
from deploykit.kustomize import find_tool

# profile_endpoint imports matplotlib (plots); it runs in an overlay env so the lock is untouched.
PROFILER_EXTRA = "matplotlib==3.11.2"


class ProfilingCluster(Protocol):
    """What `make profile` needs from the cluster."""

    def adapter_replicas(self, adapter: str) -> int: ...

    def scale_adapter(self, adapter: str, replicas: int) -> None: ...

    def keda_paused(self, scaled_object: str) -> bool: ...

    def set_keda_paused(self, scaled_object: str, paused: bool) -> None: ...

    def engine_configs(self) -> dict[str, str]: ...

    def set_engine_configs(self, data: Mapping[str, str]) -> None: ...

    def restart_graph(self, restart_id: str) -> None: ...

    def wait_ready(self, timeout_s: float) -> None: ...


@dataclass(frozen=True)
class Targets:
    """The objects `make profile` touches (names from k8s/ and the contracts)."""

    prefill_adapter: str = "gtc-demo-trtllmprefillworker"
    decode_adapter: str = "gtc-demo-trtllmdecodeworker"
    scaled_objects: tuple[str, ...] = ("gtc-demo-prefill", "gtc-demo-decode")


@dataclass(frozen=True)
class SavedLayout:
    """What to put back: replicas, KEDA pause states, engine configs."""

    prefill: int
    decode: int
    paused: dict[str, bool]
    engine_configs: dict[str, str]


def without_prefix_caching(configs: Mapping[str, str]) -> dict[str, str]:
    """Engine configs with TRT-LLM's KV block reuse (prefix caching) off."""
    result = {}
    for key, text in configs.items():
        engine = yaml.safe_load(text) or {}
        engine.setdefault("kv_cache_config", {})["enable_block_reuse"] = False
        result[key] = yaml.safe_dump(engine, sort_keys=False)
    return result


def enter_profiling_layout(
    cluster: ProfilingCluster, targets: Targets, restart_id: str, timeout_s: float
) -> SavedLayout:
    saved = SavedLayout(
        prefill=cluster.adapter_replicas(targets.prefill_adapter),
        decode=cluster.adapter_replicas(targets.decode_adapter),
        paused={so: cluster.keda_paused(so) for so in targets.scaled_objects},
        engine_configs=cluster.engine_configs(),
    )
    for so in targets.scaled_objects:  # first: KEDA would scale the pools straight back
        cluster.set_keda_paused(so, True)
    cluster.scale_adapter(targets.prefill_adapter, 1)
    cluster.scale_adapter(targets.decode_adapter, 1)
    cluster.set_engine_configs(without_prefix_caching(saved.engine_configs))
    cluster.restart_graph(restart_id)
    cluster.wait_ready(timeout_s)
    return saved


def restore_layout(
    cluster: ProfilingCluster,
    targets: Targets,
    saved: SavedLayout,
    restart_id: str,
    timeout_s: float,
) -> None:
    cluster.set_engine_configs(saved.engine_configs)
    cluster.restart_graph(restart_id)
    cluster.scale_adapter(targets.prefill_adapter, saved.prefill)
    cluster.scale_adapter(targets.decode_adapter, saved.decode)
    cluster.wait_ready(timeout_s)
    for so, paused in saved.paused.items():  # last: KEDA resumes from the restored layout
        cluster.set_keda_paused(so, paused)


@contextlib.contextmanager
def profiling_layout(
    cluster: ProfilingCluster,
    targets: Targets,
    *,
    run_id: str,
    timeout_s: float,
    log: Callable[[str], None] = print,
) -> Iterator[SavedLayout]:
    """Enter the profiling layout; always restore it, even when the body fails."""
    log("profile: pausing KEDA, scaling to 1 prefill + 1 decode, prefix caching off (restart)")
    saved = enter_profiling_layout(cluster, targets, f"{run_id}-profile", timeout_s)
    try:
        yield saved
    finally:
        log(f"profile: restoring {saved.prefill} prefill + {saved.decode} decode, caching, KEDA")
        restore_layout(cluster, targets, saved, f"{run_id}-restore", timeout_s)


def profiler_argv(mode: str, url: str, model: str, tokenizer: str, work_dir: Path,
                  max_context: int, granularity: int, max_kv_tokens: int) -> list[str]:  # fmt: skip
    """`dynamo.profiler.profile_endpoint` for one mode, writing the planner's directory layout."""
    argv = [
        find_tool("uv", "UV"), "run", "--frozen", "--with", PROFILER_EXTRA,
        "python", "-m", "dynamo.profiler.profile_endpoint",
        "--mode", mode, "--url", url, "--model_name", model, "--tokenizer_path", tokenizer,
        "--num_gpus", "1", "--max_context_length", str(max_context),
        "--interpolation_granularity", str(granularity),
        "--work_dir", str(work_dir / f"selected_{mode}_interpolation"),
    ]  # fmt: skip
    return [*argv, "--max_kv_tokens", str(max_kv_tokens)] if mode == "decode" else argv


def run_profiler(argvs: list[list[str]], env: Mapping[str, str], timeout_s: float) -> None:
    for argv in argvs:
        done = subprocess.run(argv, env=dict(env), timeout=timeout_s, check=False)
        if done.returncode != 0:
            raise DeployKitError(f"profile_endpoint --mode {argv[argv.index('--mode') + 1]} failed")


@dataclass(frozen=True)
class ProfileSettings:
    env: str
    context: str
    namespace: str
    out: Path
    max_context: int
    granularity: int
    max_kv_tokens: int
    timeout_s: float


MODEL = {"dev": "meta-llama/Llama-3.1-8B-Instruct", "prod": "meta-llama/Llama-3.1-70B-Instruct"}
# KV capacity per worker (tokens): calibration.md's measured 70B/H200 figure; 8B on H100 is
# bounded by max_seq_len * batch in the dev engine config.
MAX_KV_TOKENS = {"dev": 131_072, "prod": 348_304}


def parse(argv: list[str] | None) -> ProfileSettings:
    parser = argparse.ArgumentParser(prog="deploykit.profiling", description=__doc__)
    parser.add_argument("--env", choices=sorted(MODEL), required=True)
    parser.add_argument("--context", default="do-atl1-gtc-demo")
    parser.add_argument("--namespace", default="gtc-demo")
    parser.add_argument("--out", type=Path, default=Path("build/profile"))
    parser.add_argument("--max-context", type=int, default=16384)
    parser.add_argument("--granularity", type=int, default=8)
    parser.add_argument("--timeout-s", type=float, default=2700.0)
    args = parser.parse_args(argv)
    if args.max_context < 1024 or args.granularity < 3:
        parser.error("--max-context must be >= 1024 and --granularity >= 3")
    return ProfileSettings(args.env, args.context, args.namespace, args.out, args.max_context,
                           args.granularity, MAX_KV_TOKENS[args.env], args.timeout_s)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Profile the cluster (ENV), restore it, convert; exit 2 on a setup error."""
    from deploykit.kube import KubectlProfilingCluster
    from deploykit.profile_convert import convert

    settings = parse(argv)
    run_id = time.strftime("%Y%m%d%H%M%S")
    raw = settings.out / f"{settings.env}-{run_id}"
    try:
        cluster = KubectlProfilingCluster(settings.context, settings.namespace)
        with (
            profiling_layout(cluster, Targets(), run_id=run_id, timeout_s=settings.timeout_s),
            cluster.port_forward("gtc-demo-frontend", 8000) as url,
        ):
            argvs = [
                profiler_argv(
                    mode,
                    url,
                    MODEL[settings.env],
                    MODEL[settings.env],
                    raw,
                    settings.max_context,
                    settings.granularity,
                    settings.max_kv_tokens,
                )
                for mode in ("prefill", "decode")
            ]
            run_profiler(argvs, cluster.tool_env(), settings.timeout_s)
        path, lines = convert(raw, settings.out / f"{settings.env}-cluster.npz")
    except (DeployKitError, subprocess.TimeoutExpired) as exc:
        print(f"profile: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    print(f"profile: raw results in {raw}; local-stack profile {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
