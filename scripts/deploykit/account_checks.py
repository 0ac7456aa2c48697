"""`make check-do ENV=dev|prod`: before stack 1 is applied, ask DigitalOcean (doctl, read-only)
whether what the kit pins exists for this account: the DOKS version slug, the node sizes, the
region, and NFS in that region. None of it can be read from the build machines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import hcl2

from deploykit.checks import CheckResult
from deploykit.errors import ClusterError, DeployKitError
from deploykit.kustomize import find_tool, run_tool

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"


class Doctl(Protocol):
    """`doctl <args> -o json`, parsed (the subprocess adapter below implements it)."""

    def json(self, args: Sequence[str]) -> Any: ...


@dataclass(frozen=True)
class Pins:
    """What stack 1 will ask DigitalOcean for, from its defaults and the env's tfvars."""

    region: str
    kubernetes_version: str
    node_sizes: tuple[str, ...]


def read_pins(env: str, terraform: Path = TERRAFORM) -> Pins:
    with (terraform / "infra/variables.tf").open(encoding="utf-8") as handle:
        # python-hcl2 keeps the quotes of names and string literals.
        variables = {
            k.strip('"'): v for block in hcl2.load(handle)["variable"] for k, v in block.items()
        }
    with (terraform / f"environments/{env}.tfvars").open(encoding="utf-8") as handle:
        tfvars = hcl2.load(handle)

    def value(name: str) -> str:
        raw = tfvars.get(name, variables.get(name, {}).get("default"))
        return str(raw).strip('"')

    sizes = (value("system_node_size"), value("gpu_node_size"))
    return Pins(value("region"), value("kubernetes_version"), sizes)


def _slugs(items: Any) -> set[str]:
    return {str(item.get("slug")) for item in items or [] if isinstance(item, dict)}


def check_pins(doctl: Doctl, pins: Pins) -> list[CheckResult]:
    versions = _slugs(doctl.json(["kubernetes", "options", "versions"]))
    sizes = _slugs(doctl.json(["kubernetes", "options", "sizes"]))
    regions = _slugs(doctl.json(["kubernetes", "options", "regions"]))
    missing_sizes = [s for s in pins.node_sizes if s not in sizes]
    results = [
        CheckResult(
            "doks-version",
            pins.kubernetes_version in versions,
            f"{pins.kubernetes_version} offered: {pins.kubernetes_version in versions} "
            f"(offered: {sorted(versions)})",
        ),
        CheckResult("node-sizes", not missing_sizes, f"not offered for DOKS: {missing_sizes}"),
        CheckResult(
            "region", pins.region in regions, f"DOKS in {pins.region}: {pins.region in regions}"
        ),
    ]
    try:
        doctl.json(["nfs", "list", "--region", pins.region])
        results.append(CheckResult("nfs-region", True, f"NFS answers in {pins.region}"))
    except ClusterError as exc:
        results.append(CheckResult("nfs-region", False, f"NFS in {pins.region}: {exc}"))
    return results


@dataclass(frozen=True)
class DoctlCli:
    context: str
    binary: str

    def json(self, args: Sequence[str]) -> Any:
        cmd = [self.binary, "--context", self.context, *args, "-o", "json"]
        out = run_tool(cmd, f"doctl {' '.join(args[:3])}", ClusterError, timeout_s=60)
        return json.loads(out or "null")


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when everything is offered, 1 when something is not, 2 on a setup error."""
    parser = argparse.ArgumentParser(prog="deploykit.account_checks", description=__doc__)
    parser.add_argument("--env", choices=("dev", "prod"), required=True)
    parser.add_argument("--context", default="solutions")
    args = parser.parse_args(argv)
    try:
        doctl = DoctlCli(args.context, find_tool("doctl", "DOCTL"))
        results = check_pins(doctl, read_pins(args.env))
    except DeployKitError as exc:
        print(f"check-do: {exc}", file=sys.stderr)
        return 2
    print("\n".join(f"{r.label}  {r.name}: {r.detail}" for r in results))
    return 1 if any(r.ok is False for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
