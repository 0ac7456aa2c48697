"""`make test` on a fresh machine installs the Debian packages its tests need, and says so."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def fake_bin(folder: Path) -> Path:
    """apt-get and systemctl stand-ins that log their arguments instead of touching the box."""
    log = folder / "calls.log"
    for tool in ("apt-get", "systemctl"):
        script = folder / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n')
        script.chmod(0o755)
    return log


def make(*args: str, path_prefix: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_make_test_runs_system_deps_before_pytest(tmp_path: Path) -> None:
    dry = make("-n", "test", path_prefix=tmp_path)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    installs = [i for i, line in enumerate(lines) if "apt-get install" in line]
    runs = [i for i, line in enumerate(lines) if "pytest" in line]
    assert installs, dry.stdout
    assert runs, dry.stdout
    assert installs[0] < runs[0]


def test_missing_prometheus_is_installed_and_the_reason_shown(tmp_path: Path) -> None:
    log = fake_bin(tmp_path)
    result = make("system-deps", "PROMETHEUS=no-such-prometheus", path_prefix=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "installing the Debian package prometheus" in result.stdout
    assert "integration tests run a real Prometheus" in result.stdout
    calls = log.read_text().splitlines()
    assert any(c.startswith("apt-get install") and c.endswith(" prometheus") for c in calls)
    assert "systemctl disable --now prometheus" in calls  # Debian's own service would hold :9090


def test_present_prometheus_installs_nothing(tmp_path: Path) -> None:
    log = fake_bin(tmp_path)
    (tmp_path / "prometheus").write_text("#!/bin/sh\n")
    (tmp_path / "prometheus").chmod(0o755)
    result = make("system-deps", path_prefix=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "installing" not in result.stdout
    assert not log.exists()
