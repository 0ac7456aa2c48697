"""`make check-do`: the pins of stack 1 against what DigitalOcean offers. The fake answers in
doctl's JSON shapes for `kubernetes options versions|sizes|regions` (godo kubernetes.go:
KubernetesVersion {slug, kubernetes_version}, KubernetesNodeSize {name, slug},
KubernetesRegion {name, slug}) and fails `nfs list` where NFS is not offered."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_helpers import tfvars
from deploykit.account_checks import Pins, check_pins, read_pins
from deploykit.errors import ClusterError


class FakeDoctl:
    def __init__(self) -> None:
        self.versions = ["1.34.1-do.3", "1.33.5-do.1"]
        self.sizes = ["s-8vcpu-16gb", "gpu-h100x1-80gb", "gpu-h200x8-1128gb-contracted"]
        self.regions = ["atl1", "nyc2"]
        self.nfs_regions = {"atl1"}

    def json(self, args: list[str]) -> Any:
        if args[:2] == ["nfs", "list"]:
            region = args[args.index("--region") + 1]
            if region not in self.nfs_regions:
                raise ClusterError(f"doctl nfs list: region {region} not supported")
            return []
        kind = args[-1]
        if kind == "versions":
            return [{"slug": v, "kubernetes_version": v.split("-")[0]} for v in self.versions]
        if kind == "sizes":
            return [{"name": s, "slug": s} for s in self.sizes]
        return [{"name": r.upper(), "slug": r} for r in self.regions]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_pins_come_from_the_env_and_the_stack_defaults(env):
    pins = read_pins(env)
    assert pins.node_sizes[1] == tfvars(env)["gpu_node_size"]
    assert pins.region == "atl1"
    assert pins.kubernetes_version == "1.34.1-do.3"


def test_everything_offered_passes():
    results = check_pins(FakeDoctl(), read_pins("prod"))
    assert {r.name: r.ok for r in results} == {
        "doks-version": True,
        "node-sizes": True,
        "region": True,
        "nfs-region": True,
    }


def test_what_is_not_offered_is_named():
    doctl = FakeDoctl()
    doctl.versions = ["1.34.2-do.1"]
    doctl.sizes.remove("gpu-h200x8-1128gb-contracted")
    doctl.nfs_regions = set()
    results = {
        r.name: r
        for r in check_pins(
            doctl, Pins("atl1", "1.34.1-do.3", ("s-8vcpu-16gb", "gpu-h200x8-1128gb-contracted"))
        )
    }
    assert results["doks-version"].ok is False
    assert "1.34.2-do.1" in results["doks-version"].detail
    assert results["node-sizes"].ok is False
    assert "gpu-h200x8-1128gb-contracted" in results["node-sizes"].detail
    assert results["nfs-region"].ok is False
