"""The kit's one way to find a command-line tool: the tests, the deploy kit and the benchmarks
look where the Makefile installs, not only on PATH (`make tools` puts kubectl and aiperf in
~/.local/bin, which a fresh machine's PATH may not hold)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from demo_common.errors import ToolNotFoundError

# Where `make tools` and `make install` put kubectl, aiperf and uv when the machine has none.
LOCAL_BIN = Path.home() / ".local" / "bin"


def find_tool(name: str, env_var: str, local_bin: Path | None = None) -> str:
    """Path of a CLI tool: $ENV_VAR, then PATH, then ~/.local/bin (or `local_bin`);
    ToolNotFoundError otherwise."""
    local_bin = local_bin or LOCAL_BIN
    override = os.environ.get(env_var)
    if override:
        return override
    found = shutil.which(name) or shutil.which(name, path=str(local_bin))
    if not found:
        raise ToolNotFoundError(f"{name} not found on PATH or in {local_bin}: run `make tools`")
    return found
