"""Renders the repo's kustomize overlays with `kubectl kustomize`, the tool `make deploy` applies
with, and composes the per-deploy kustomization (switches as components, the pushed image tag).

Nothing here re-implements kustomize: a composed overlay is an ordinary kustomization file that
names an overlay directory, optional components and `images`; kubectl renders it.
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from demo_common import tools
from demo_common.errors import ToolNotFoundError
from deploykit.errors import DeployKitError, RenderError, ToolMissingError

Manifest = dict[str, Any]
REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_BIN = tools.LOCAL_BIN  # where `make tools` installs; a module global so tests can move it


def find_tool(name: str, env_var: str) -> str:
    """The kit's tool finder (demo_common.tools), raising the deploy kit's own error."""
    try:
        return tools.find_tool(name, env_var, LOCAL_BIN)
    except ToolNotFoundError as exc:
        raise ToolMissingError(str(exc)) from exc


def run_tool(
    cmd: Sequence[str],
    what: str,
    error: type[DeployKitError],
    timeout_s: float,
    stdin: str | None = None,
) -> str:
    """Run a CLI tool; its stdout, or `error` naming `what` with the tool's own message."""
    try:
        done = subprocess.run(
            list(cmd), input=stdin, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise error(f"{what}: {exc}") from exc
    if done.returncode != 0:
        raise error(f"{what}: {done.stderr.strip()[:500]}")
    return done.stdout


def kubectl_binary() -> str:
    return find_tool("kubectl", "KUBECTL")


def build(directory: Path, kubectl: str | None = None) -> list[Manifest]:
    """`kubectl kustomize DIR`, parsed into objects (documents in kubectl's output order)."""
    cmd = [kubectl or kubectl_binary(), "kustomize", str(directory)]
    out = run_tool(cmd, f"kubectl kustomize {directory}", RenderError, timeout_s=120)
    return [d for d in yaml.safe_load_all(out) if d is not None]


@functools.cache
def build_cached(directory: Path) -> tuple[Manifest, ...]:
    """Build once per process (callers must not mutate the result)."""
    return tuple(build(directory))


def _relative(target: Path, start: Path) -> str:
    return os.path.relpath(target.resolve(), start.resolve())


def compose(
    out_dir: Path,
    base: Path,
    *,
    components: Sequence[Path] = (),
    images: Mapping[str, str] | None = None,
) -> Path:
    """Write `out_dir/kustomization.yaml`: `base` plus `components`, images pinned to `images`
    (name -> tag). Paths are written relative to `out_dir`, as kustomize expects."""
    if not (base / "kustomization.yaml").is_file():
        raise RenderError(f"{base}: no kustomization.yaml")
    for component in components:
        if not (component / "kustomization.yaml").is_file():
            raise RenderError(f"{component}: no kustomization.yaml")
    out_dir.mkdir(parents=True, exist_ok=True)
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [_relative(base, out_dir)],
    }
    if components:
        kustomization["components"] = [_relative(c, out_dir) for c in components]
    if images:
        kustomization["images"] = [{"name": n, "newTag": t} for n, t in sorted(images.items())]
    path = out_dir / "kustomization.yaml"
    header = "# Written by `python -m deploykit.kustomize compose` (make); not edited by hand.\n"
    path.write_text(header + yaml.safe_dump(kustomization, sort_keys=False), encoding="utf-8")
    return out_dir


def dump(resources: Sequence[Manifest]) -> str:
    """Multi-document YAML, keys in order, ready for `kubectl apply -f -`."""
    return yaml.safe_dump_all(list(resources), sort_keys=False, default_flow_style=False)


def _parse_image(value: str) -> tuple[str, str]:
    name, sep, tag = value.partition("=")
    if not sep or not name or not tag:
        raise argparse.ArgumentTypeError(f"--image wants NAME=TAG, got {value!r}")
    return name, tag


def main(argv: list[str] | None = None) -> int:
    """CLI: compose OUT --base DIR [--component DIR]... [--image NAME=TAG]... (prints OUT)."""
    parser = argparse.ArgumentParser(prog="deploykit.kustomize", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    comp = sub.add_parser("compose", help="write a kustomization that composes an overlay")
    comp.add_argument("out", type=Path)
    comp.add_argument("--base", type=Path, required=True)
    comp.add_argument("--component", type=Path, action="append", default=[])
    comp.add_argument("--image", type=_parse_image, action="append", default=[])
    args = parser.parse_args(argv)
    try:
        out = compose(args.out, args.base, components=args.component, images=dict(args.image))
    except DeployKitError as exc:
        print(f"kustomize: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
