"""Dockerfiles (non-root, pinned bases, UI stage) and a scan for secret values in the repo."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from deploy_helpers import REPO

DOCKERFILES = {
    "loadgen": REPO / "apps/load-generator/Dockerfile",
    "corpus-curator": REPO / "apps/corpus-curator/Dockerfile",
}
SECRET_PATTERNS = {
    "DigitalOcean token": re.compile(r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
    "Spaces access key": re.compile(r"\bDO0[0-9A-Z]{17}\b"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "secret env assignment": re.compile(
        r"\b(?:HF_TOKEN|GRADIENT_API_KEY|SPACES_SECRET_ACCESS_KEY|AWS_SECRET_ACCESS_KEY"
        r"|DIGITALOCEAN_(?:ACCESS_)?TOKEN|PRESENTER_TOKEN)\s*[=:]\s*[\"']?(?!var\.)[A-Za-z0-9/+_.-]{24,}"
    ),
}
SKIP_DIRS = {
    ".git",
    ".venv",
    "node_modules",
    "build",
    "__pycache__",
    ".terraform",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "dist",
}
SKIP_FILES = {"uv.lock", "package-lock.json"}


def stages(path: Path) -> list[list[str]]:
    """Instructions per build stage (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    result: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append([])
        result[-1].append(line)
    return result


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_image_runs_as_a_numeric_non_root_user(name):
    final = stages(DOCKERFILES[name])[-1]
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users, f"{name}: the final stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), f"{name}: USER {users[-1]} must be numeric"
    assert int(uid) >= 10000, f"{name}: USER {users[-1]} must be a high, non-root uid"
    assert any(line.upper().startswith("HEALTHCHECK ") for line in final)


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_base_images_are_pinned_and_deps_come_from_the_lock(name):
    text = DOCKERFILES[name].read_text(encoding="utf-8")
    for image in re.findall(r"(?m)^FROM\s+(\S+)", text):
        assert re.search(r":\d[\w.-]*$", image), f"{name}: {image} is not pinned to a version tag"
    assert "uv sync --frozen --no-dev" in text
    assert not re.search(r"(?im)^(ARG|ENV)\s+\S*(TOKEN|SECRET|KEY)", text), "no secrets in images"


def test_loadgen_image_builds_the_ui_in_its_own_stage_and_serves_port_3000():
    all_stages = stages(DOCKERFILES["loadgen"])
    ui = next(s for s in all_stages if " AS ui" in s[0])
    assert any("npm ci" in line for line in ui)
    assert any("npm run build" in line for line in ui)
    final = all_stages[-1]
    assert any(line.startswith("COPY --from=ui") for line in final)
    assert "EXPOSE 3000" in final
    assert any("/healthz" in line for line in final)


def test_build_context_and_git_ignore_keep_state_and_env_files_out():
    dockerignore = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    for pattern in (".git", ".venv", "**/node_modules", "**/*.tfstate", ".env", "**/.env"):
        assert pattern in dockerignore, pattern
    gitignore = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    for pattern in ("*.tfstate", "*.tfstate.backup", ".env", ".terraform/"):
        assert pattern in gitignore, pattern


def scan(root: Path) -> list[str]:
    findings = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS]
        for filename in files:
            path = Path(directory) / filename
            if filename in SKIP_FILES or path.suffix in {".png", ".jpg", ".npz", ".gz", ".whl"}:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            for label, pattern in SECRET_PATTERNS.items():
                if pattern.search(text):
                    findings.append(f"{path.relative_to(root)}: {label}")
    return findings


def test_scanner_finds_planted_secrets(tmp_path):
    (tmp_path / "a.env").write_text("DIGITALOCEAN_TOKEN=" + "dop_v1_" + "0f" * 32 + "\n")
    (tmp_path / "b.yaml").write_text("key: " + "AKIA" + "ABCDEFGHIJKLMNOP" + "\n")
    (tmp_path / "c.py").write_text("HF_TOKEN = '" + "hf_" + "x" * 34 + "'\n")
    flagged = {finding.split(":")[0] for finding in scan(tmp_path)}
    assert flagged == {"a.env", "b.yaml", "c.py"}
    (tmp_path / "ok.tf").write_text("HF_TOKEN = var.hf_token_from_the_environment\n")
    assert {finding.split(":")[0] for finding in scan(tmp_path)} == flagged


def test_no_secret_values_anywhere_in_the_repo():
    assert scan(REPO) == []
