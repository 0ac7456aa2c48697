"""The README's layout table, enforced: every row's "may import" cell against what the code
imports (read with `ast`: what the code imports, not what it says), and a row for every package.

A row names its package (`package `x`` in the second cell); its third cell lists, before the
first `;`, the kit's packages it may import (`—` for none). Third-party imports are free, with one
exception the table states in prose: the load generator reaches the stack over HTTP, so it never
imports Dynamo.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE_ROOTS = (
    "apps/*/src/*",
    "libs/*/src/*",
    "benchmarks/src/*",
    "observability/src/*",
    "scripts/*",
)


@dataclass(frozen=True)
class Row:
    folder: str
    package: str
    may_import: frozenset[str]


def layout_rows(readme: str) -> list[Row]:
    """The rows of the README's layout table that name a package."""
    section = readme.split("### Layout", 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in section.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        named = re.search(r"package `(\w+)`", cells[1])
        if not named:
            continue
        allowed = re.findall(r"`(\w+)`", cells[2].split(";", 1)[0])
        rows.append(Row(cells[0].strip("`/"), named.group(1), frozenset(allowed)))
    return rows


def repo_packages() -> dict[str, Path]:
    """Every Python package of the repo's source trees: name -> directory."""
    found = {}
    for pattern in PACKAGE_ROOTS:
        for init in REPO.glob(f"{pattern}/__init__.py"):
            found[init.parent.name] = init.parent
    return found


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


def offenders(package_dir: Path, forbidden: set[str] | tuple[str, ...]) -> list[str]:
    return [
        f"{file}: {name}"
        for file, names in imported_modules(package_dir).items()
        for name in sorted(names)
        if name.split(".")[0] in forbidden
    ]


ROWS = layout_rows((REPO / "README.md").read_text())
PACKAGES = repo_packages()


def test_the_scanner_sees_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        "import loadgen.x\nfrom loadgen import y\nfrom . import z\ndef f():\n    import os\n"
    )
    assert imported_modules(pkg) == {"pkg/m.py": {"loadgen.x", "loadgen", "os"}}
    assert offenders(pkg, ("loadgen",)) == ["pkg/m.py: loadgen", "pkg/m.py: loadgen.x"]


def test_the_table_reader_takes_names_before_the_first_semicolon() -> None:
    readme = (
        "### Layout\n\n| folder | what | may import |\n|---|---|---|\n"
        "| `a/b` | package `x`: it | `demo_common`, `loadgen` (why); never `y` |\n"
        "| `c/` | no package | |\n\nprose\n"
    )
    assert layout_rows(readme) == [Row("a/b", "x", frozenset({"demo_common", "loadgen"}))]


def test_every_package_has_a_row_in_its_own_folder() -> None:
    assert sorted(r.package for r in ROWS) == sorted(PACKAGES)
    for row in ROWS:
        assert PACKAGES[row.package].is_relative_to(REPO / row.folder), row


def test_every_row_imports_only_what_the_table_allows() -> None:
    kit = set(PACKAGES)
    problems = [
        f"{row.package} (row `{row.folder}`): {offence}"
        for row in ROWS
        for offence in offenders(PACKAGES[row.package], kit - row.may_import - {row.package})
    ]
    assert problems == []


def test_load_generator_reaches_the_stack_only_over_the_wire() -> None:
    assert offenders(PACKAGES["loadgen"], ("dynamo",)) == []


def test_nothing_shipped_imports_the_test_support_package() -> None:
    tooling = {"demo_testing", "demo_bench"}
    assert [r.package for r in ROWS if "demo_testing" in r.may_import] == ["demo_bench"]
    assert all(r.package in tooling or "demo_bench" not in r.may_import for r in ROWS)
