"""`make preflight`: checks a live DOKS deployment and prints one PASS/FAIL/SKIP line per check."""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from demo_common.gpu_budget import GPU_BUDGET
from deploykit.checks import (
    CheckResult,
    Cluster,
    check_block_sizes,
    check_gpu_nodes,
    check_kai_queue,
    check_keda_queries,
    check_nvlink,
    check_runtime_class,
    check_scaling_adapters,
)
from deploykit.errors import DeployKitError
from deploykit.kustomize import build_cached
from deploykit.platform_checks import (
    check_adapter_selectors,
    check_dcgm_scraped,
    check_kai_staleness,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVED_MODEL = {
    "dev": "meta-llama/Llama-3.1-8B-Instruct",
    "prod": "meta-llama/Llama-3.1-70B-Instruct",
}
BLOCK_SIZE = 32


class PreflightSettings(BaseModel):
    """Everything the preflight needs, parsed once from the command line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Literal["dev", "prod"]
    context: str = "do-atl1-gtc-demo"
    namespace: str = "gtc-demo"
    dgd_name: str = "gtc-demo"
    prometheus_service: str = "kube-prometheus-stack-prometheus"
    prometheus_namespace: str = "monitoring"
    burst_requests: int = Field(default=16, ge=1, le=64)
    prompt_words: int = Field(default=6000, ge=100, le=30000)
    min_nvlink_rise_gb_s: float = Field(default=1.0, gt=0)
    settle_s: float = Field(default=20.0, ge=0)


def expected_adapter_names(repo: Path = REPO_ROOT) -> set[str]:
    """Adapter names the repo's KEDA files and the load generator's env refer to."""
    names = set()
    for so in build_cached(repo / "k8s/keda/overlays/prod"):
        names.add(so["spec"]["scaleTargetRef"]["name"])
    for obj in build_cached(repo / "k8s/load-generator/overlays/prod"):
        if obj["kind"] != "Deployment":
            continue
        for container in obj["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env", []):
                if env["name"].endswith("_SCALING_ADAPTER"):
                    names.add(env["value"])
    return names


def run_checks(
    settings: PreflightSettings,
    cluster: Cluster,
    settle: Callable[[], None],
    rng: random.Random,
    adapters: set[str],
) -> list[CheckResult]:
    """All checks in order; one failing check never hides the others."""
    frontend = (
        f"/api/v1/namespaces/{settings.namespace}/services/"
        f"{settings.dgd_name}-frontend:8000/proxy/v1/chat/completions"
    )
    steps: list[tuple[str, Callable[[], list[CheckResult]]]] = [
        ("gpu-nodes", lambda: [check_gpu_nodes(cluster, GPU_BUDGET[settings.env])]),
        ("runtime-class", lambda: [check_runtime_class(cluster)]),
        (
            "scaling-adapters",
            lambda: [
                check_scaling_adapters(cluster, settings.namespace, settings.dgd_name, adapters)
            ],
        ),
        (
            "block-sizes",
            lambda: [check_block_sizes(cluster, settings.namespace, settings.dgd_name, BLOCK_SIZE)],
        ),
        ("kai-queue", lambda: [check_kai_queue(cluster, settings.namespace, settings.dgd_name)]),
        (
            "kai-staleness",
            lambda: [check_kai_staleness(cluster, settings.namespace, settings.dgd_name)],
        ),
        (
            "adapter-selectors",
            lambda: [check_adapter_selectors(cluster, settings.namespace, settings.dgd_name)],
        ),
        ("dcgm-scraped", lambda: [check_dcgm_scraped(cluster)]),
        ("keda-queries", lambda: check_keda_queries(cluster, settings.namespace)),
    ]
    if settings.env == "prod":
        steps.append(
            (
                "nvlink-kv-transfer",
                lambda: [
                    check_nvlink(
                        cluster,
                        frontend_path=frontend,
                        model=SERVED_MODEL[settings.env],
                        requests=settings.burst_requests,
                        prompt_words=settings.prompt_words,
                        min_rise_bytes_per_s=settings.min_nvlink_rise_gb_s * 1e9,
                        settle=settle,
                        rng=rng,
                    )
                ],
            )
        )
    results: list[CheckResult] = []
    for name, step in steps:
        try:
            results.extend(step())
        except DeployKitError as exc:
            results.append(CheckResult(name, False, str(exc)))
    if settings.env != "prod":
        reason = "dev nodes have one GPU each: prefill->decode KV cannot use NVLink"
        results.append(CheckResult("nvlink-kv-transfer", None, reason))
    return results


def report(results: list[CheckResult]) -> str:
    return "\n".join(f"{r.label}  {r.name}: {r.detail}" for r in results)


def parse_settings(argv: list[str] | None) -> PreflightSettings:
    parser = argparse.ArgumentParser(prog="deploykit.preflight", description=__doc__)
    parser.add_argument("--env", required=True)
    parser.add_argument("--context", default="do-atl1-gtc-demo")
    parser.add_argument("--burst-requests", type=int, default=16)
    parser.add_argument("--settle-s", type=float, default=20.0)
    args = parser.parse_args(argv)
    return PreflightSettings(
        env=args.env,
        context=args.context,
        burst_requests=args.burst_requests,
        settle_s=args.settle_s,
    )


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when nothing failed, 1 when a check failed, 2 on bad input or a broken setup."""
    from deploykit.kube import KubectlCluster  # the adapter only where it is used

    try:
        settings = parse_settings(argv)
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"preflight: {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2
    try:
        adapters = expected_adapter_names()
        cluster = KubectlCluster(
            settings.context, settings.prometheus_service, settings.prometheus_namespace
        )
    except DeployKitError as exc:
        print(f"preflight: {exc}", file=sys.stderr)
        return 2
    results = run_checks(
        settings, cluster, lambda: time.sleep(settings.settle_s), random.Random(), adapters
    )
    print(report(results))
    failed = [r for r in results if r.ok is False]
    print(f"preflight: {len(results) - len(failed)} ok/skipped, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
