"""The one tool finder: env var, then PATH, then ~/.local/bin, else a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from demo_common import tools
from demo_common.errors import ToolNotFoundError


def _executable(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_env_var_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_TOOL_X", "/opt/x/bin/x")
    assert tools.find_tool("x", "DEMO_TOOL_X") == "/opt/x/bin/x"


def test_path_then_local_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path, local_bin = tmp_path / "path", tmp_path / "local"
    on_path.mkdir()
    local_bin.mkdir()
    monkeypatch.delenv("DEMO_TOOL_X", raising=False)
    monkeypatch.setenv("PATH", str(on_path))
    monkeypatch.setattr(tools, "LOCAL_BIN", local_bin)
    in_local = _executable(local_bin, "x")
    assert tools.find_tool("x", "DEMO_TOOL_X") == str(in_local)  # not on PATH: ~/.local/bin
    first = _executable(on_path, "x")
    assert tools.find_tool("x", "DEMO_TOOL_X") == str(first)
    assert os.environ["PATH"] == str(on_path)


def test_missing_tool_names_make_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_TOOL_X", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(tools, "LOCAL_BIN", tmp_path)
    with pytest.raises(ToolNotFoundError, match=r"x not found .*make tools"):
        tools.find_tool("x", "DEMO_TOOL_X")
