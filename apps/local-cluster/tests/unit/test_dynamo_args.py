"""The Dynamo command lines the local stack builds, and the delays it derives from the profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcluster import dynamo
from localcluster.cluster import LocalCluster
from localcluster.perfmodel import hardware_profile
from localcluster.settings import FRONTEND_MIGRATION_LIMIT, LocalClusterSettings


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_frontend_migrates_by_default_and_an_explicit_limit_wins() -> None:
    profile = hardware_profile("h200-70b-fp8")
    default = dynamo.frontend_argv(LocalClusterSettings(), profile, "ns")
    assert flag(default, "--migration-limit") == str(FRONTEND_MIGRATION_LIMIT)
    assert FRONTEND_MIGRATION_LIMIT > 0
    off = dynamo.frontend_argv(LocalClusterSettings(migration_limit=0), profile, "ns")
    assert flag(off, "--migration-limit") == "0"


def test_workers_run_at_the_speed_with_the_kv_link_scaled_too(tmp_path: Path) -> None:
    settings = LocalClusterSettings(env="dev", speed=4)
    profile = hardware_profile("h100-8b")
    argv = dynamo.worker_argv(
        settings, profile, pool="prefill", namespace="ns", model_dir=tmp_path, npz=tmp_path
    )
    assert flag(argv, "--speedup-ratio") == "4.0"
    assert float(flag(argv, "--kv-transfer-bandwidth")) == pytest.approx(
        4 * profile.kv_transfer_bandwidth_gbps
    )
    assert flag(argv, "--endpoint") == "dyn://ns.prefill.generate"


@pytest.mark.parametrize("speed", [1.0, 4.0, 12.0])
def test_readiness_delay_is_the_profiles_worker_start_at_the_speed(
    speed: float, tmp_path: Path
) -> None:
    cluster = LocalCluster(LocalClusterSettings(env="dev", speed=speed, workdir=tmp_path))
    assert cluster.readiness_delay_s == pytest.approx(
        hardware_profile("h100-8b").worker_start_s / speed
    )
    override = LocalCluster(
        LocalClusterSettings(env="dev", speed=speed, workdir=tmp_path, readiness_delay_s=2.0)
    )
    assert override.readiness_delay_s == 2.0


async def test_a_supervised_stack_stops_when_its_supervisor_is_gone() -> None:
    import asyncio

    from localcluster.cli import stop_when_orphaned

    parents = iter([100, 100, 1])  # re-parented to init: the supervisor died
    stop = asyncio.Event()
    await asyncio.wait_for(stop_when_orphaned(stop, 100, lambda: next(parents), 0), timeout=10)
    assert stop.is_set()


@pytest.mark.parametrize("env", ["prod", "dev"])
def test_workers_are_ais_timed_unless_the_npz_is_asked_for(env: str, tmp_path: Path) -> None:
    ais = LocalClusterSettings(env=env)  # type: ignore[arg-type]
    npz = LocalClusterSettings(env=env, timing="npz")  # type: ignore[arg-type]
    profile = hardware_profile(ais.layout.profile)
    kwargs = {"pool": "prefill", "namespace": "ns", "model_dir": tmp_path, "npz": tmp_path / "p"}
    argv = dynamo.worker_argv(ais, profile, **kwargs)  # type: ignore[arg-type]
    assert "--ais-perf-model" in argv
    assert flag(argv, "--ais-system") == profile.ais.system
    assert "--planner-profile-data" not in argv
    argv = dynamo.worker_argv(npz, profile, **kwargs)  # type: ignore[arg-type]
    assert flag(argv, "--planner-profile-data") == str(tmp_path / "p")
    assert "--ais-perf-model" not in argv
