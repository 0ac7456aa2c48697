"""The layout's import rules, read from the source with `ast` (what the code imports, not says).

- the local cluster is a stand-in for the GPU cluster: it imports nothing from the load generator;
- the load generator reaches the local cluster only over the wire: it never imports it;
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCALCLUSTER = REPO / "apps/local-cluster/src/localcluster"
LOADGEN = REPO / "apps/load-generator/src/loadgen"


def imported_modules(package_dir: Path) -> dict[str, set[str]]:
    """file (relative to the package's parent) -> every module it imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(package_dir.parent))] = names
    return found


def offenders(package_dir: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file}: {name}"
        for file, names in imported_modules(package_dir).items()
        for name in sorted(names)
        if name.split(".")[0] in forbidden
    ]


def test_the_scanner_sees_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        "import loadgen.x\nfrom loadgen import y\nfrom . import z\ndef f():\n    import os\n"
    )
    assert imported_modules(pkg) == {"pkg/m.py": {"loadgen.x", "loadgen", "os"}}
    assert offenders(pkg, ("loadgen",)) == ["pkg/m.py: loadgen", "pkg/m.py: loadgen.x"]


def test_local_cluster_imports_nothing_from_the_load_generator() -> None:
    assert offenders(LOCALCLUSTER, ("loadgen", "demo_bench", "demo_testing")) == []


def test_load_generator_reaches_the_local_cluster_only_over_the_wire() -> None:
    assert offenders(LOADGEN, ("localcluster", "dynamo", "demo_bench", "demo_testing")) == []
