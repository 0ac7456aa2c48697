"""The offline source: documentation that ships with every Python installation.

Two texts: the language reference topics behind `help('topics')` (pydoc_data) and the
docstrings of the standard library, read with `ast` so no module is imported (some, like
`antigravity`, act on import). Content depends on the Python version; provenance records it.
"""

from __future__ import annotations

import ast
import platform
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from corpus_curator.config import OfflineSource
from corpus_curator.errors import SourceError
from corpus_curator.text import Section, SourceText, normalize

# Tests, GUI demos and vendored tooling hold little prose.
_SKIP_PARTS = frozenset(
    {"test", "tests", "idlelib", "site-packages", "dist-packages", "lib2to3", "turtledemo",
     "tkinter", "ensurepip", "venv", "__pycache__", "encodings", "pydoc_data"}
)  # fmt: skip
_MIN_MODULE_CHARS = 400


def python_version() -> str:
    """e.g. '3.11.7' (recorded in provenance: the text differs between versions)."""
    return platform.python_version()


def language_reference() -> SourceText:
    """The pydoc topics (the language reference chapters `help()` shows), one section each."""
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:  # some distributions split it out
        raise SourceError(f"pydoc_data is not installed with this Python: {exc}") from None
    sections = []
    for name in sorted(topics):
        text = normalize(topics[name], unwrap=False)
        heading = text.split("\n", 1)[0].strip() or name
        sections.append(Section(heading=f"Python language reference: {heading}", text=text))
    return SourceText(
        id=f"python-docs:{python_version()}:topics",
        title="The Python Language Reference",
        sections=tuple(sections),
    )


def _docstrings(tree: ast.Module) -> Iterator[tuple[str, str]]:
    """(name, docstring) in source order: module, then classes and functions, nested."""
    module_doc = ast.get_docstring(tree)
    if module_doc:
        yield "", module_doc

    def walk(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, str]]:
        for node in body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                if node.name.startswith("_"):
                    continue
                doc = ast.get_docstring(node)
                if doc:
                    yield f"{prefix}{node.name}", doc
                if isinstance(node, ast.ClassDef):
                    yield from walk(node.body, f"{prefix}{node.name}.")

    yield from walk(tree.body, "")


def _module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def stdlib_docstrings() -> SourceText:
    """One section per standard-library module: its docstrings, each under a heading."""
    root = Path(sysconfig.get_paths()["stdlib"])
    if not root.is_dir():
        raise SourceError(f"{root}: the Python standard library is not there")
    sections = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if _SKIP_PARTS.intersection(relative.parts):
            continue
        if relative.name.startswith("_") and relative.name != "__init__.py":
            continue
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, OSError):
            continue  # a file this interpreter cannot parse holds nothing we need
        module = _module_name(relative)
        blocks = []
        for name, doc in _docstrings(tree):
            blocks.append(f"{module}.{name}\n\n{doc}" if name else doc)
        text = normalize("\n\n".join(blocks), unwrap=False) if blocks else ""
        if len(text) >= _MIN_MODULE_CHARS:
            sections.append(Section(heading=f"the Python module {module}", text=text))
    return SourceText(
        id=f"python-docs:{python_version()}:stdlib-docstrings",
        title="Python standard library docstrings",
        sections=tuple(sections),
    )


def load_offline(source: OfflineSource) -> list[SourceText]:
    """The offline texts the configuration enables."""
    texts = []
    if source.include_topics:
        texts.append(language_reference())
    if source.include_docstrings:
        texts.append(stdlib_docstrings())
    return texts
