"""The controller core sees only its ports: no adapter, HTTP client, Kubernetes, subprocess,
file or Prometheus client (the state file and the series are adapters behind its ports)."""

from __future__ import annotations

import ast
from pathlib import Path

CONTROLLER = Path(__file__).resolve().parents[2] / "src/loadgen/controller"
ALLOWED = (
    "__future__", "asyncio", "collections", "contextlib", "dataclasses", "datetime", "functools",
    "logging", "typing", "pydantic",
    "loadgen.controller", "loadgen.clock", "loadgen.errors", "loadgen.records",
    "loadgen.demo_script", "demo_common.gpu_budget",
)  # fmt: skip


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_controller_imports_only_its_ports_and_the_scenario() -> None:
    files = sorted(CONTROLLER.glob("*.py"))
    assert len(files) >= 5
    offenders = [
        f"{path.name}: {name}"
        for path in files
        for name in sorted(imports(path))
        if not any(name == a or name.startswith(a + ".") for a in ALLOWED)
    ]
    assert offenders == []
