"""mk/deploy.mk: `make -n deploy` runs the expected chain, check-env names what is missing,
no secret value ever reaches make's output, and `make help` lists the deploy targets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from deploy_helpers import REPO

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("make") is None, reason="make missing"),
]

REQUIRED = [
    "DIGITALOCEAN_ACCESS_TOKEN",
    "DIGITALOCEAN_TOKEN",
    "SPACES_ACCESS_KEY_ID",
    "SPACES_SECRET_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "HF_TOKEN",
    "GRADIENT_API_KEY",
]
TARGETS = [
    "check-env",
    "infra-init",
    "infra-plan",
    "infra-up",
    "infra-down",
    "cluster-config",
    "images",
    "push",
    "deploy-dynamo",
    "deploy-keda",
    "deploy-apps",
    "deploy",
    "demo-status",
    "teardown",
    "clean",
    "preflight",
]
TAG = r"\d{8}-[0-9a-f]{7,}"
REG = r"registry\.digitalocean\.com/do-solutions-sfo3/gtc-demo-"
APPLY = r" \| kubectl --context do-atl1-gtc-demo apply -f -$"
PROD_VARS = r"-var-file=\.\./environments/prod\.tfvars$"


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in REQUIRED and not k.startswith("MAKE")}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def canary_env() -> dict[str, str]:
    """Recognisable stand-ins (not secrets) so a leak into make's output would show."""
    return {name: f"canary-{name.lower()}-0000" for name in REQUIRED}


def assert_in_order(lines: list[str], patterns: list[str]) -> list[re.Match[str]]:
    matches, position = [], 0
    for pattern in patterns:
        for index in range(position, len(lines)):
            found = re.search(pattern, lines[index])
            if found:
                matches.append(found)
                position = index + 1
                break
        else:
            raise AssertionError(
                f"{pattern!r} not found after line {position}:\n" + "\n".join(lines)
            )
    return matches


def test_make_n_deploy_prod_prints_the_whole_chain_in_order():
    done = make("-n", "deploy", "ENV=prod", env=canary_env())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    matches = assert_in_order(
        lines,
        [
            r"^terraform -chdir=terraform/infra init -input=false$",
            rf"^terraform -chdir=terraform/infra apply -auto-approve .*{PROD_VARS}",
            r"^doctl --context solutions kubernetes cluster kubeconfig save gtc-demo$",
            r"^terraform -chdir=terraform/cluster-config init",
            rf"terraform -chdir=terraform/cluster-config apply -auto-approve .*{PROD_VARS}",
            rf"^docker build -f apps/load-generator/Dockerfile -t {REG}loadgen:({TAG}) \.$",
            rf"^docker build -f apps/corpus-curator/Dockerfile -t {REG}corpus-curator:({TAG}) \.$",
            r"^doctl --context solutions registry login",
            rf"^docker push {REG}loadgen:({TAG})$",
            rf"deploykit\.render k8s/model-cache/overlays/prod{APPLY}",
            r"wait --for=condition=complete job/gtc-demo-model-cache",
            rf"deploykit\.render k8s/dynamo/overlays/prod{APPLY}",
            r"wait --for=condition=Ready dynamographdeployment/gtc-demo",
            rf"deploykit\.render k8s/keda/overlays/prod{APPLY}",
            rf"render k8s/load-generator/overlays/prod --image {REG}loadgen={REG}loadgen:({TAG})",
            r"rollout status deployment/gtc-demo-loadgen",
            r"get dynamographdeployment,dynamographdeploymentscalingadapter,scaledobject,hpa",
        ],
    )
    tags = {m.group(1) for m in matches if m.groups()}
    assert len(tags) == 1, f"one tag for the whole run, got {tags}"
    for value in canary_env().values():
        assert value not in done.stdout + done.stderr
    assert "$HF_TOKEN" in done.stdout, "secrets reach Terraform by shell expansion only"


def test_make_n_deploy_dev_uses_dev_files_and_grove_fallback_switch():
    done = make("-n", "deploy", "ENV=dev", "GROVE=false", env=canary_env())
    assert done.returncode == 0, done.stderr
    assert "-var-file=../environments/dev.tfvars" in done.stdout
    assert "k8s/dynamo/overlays/dev-no-grove" in done.stdout
    assert "overlays/prod" not in done.stdout


def test_deploy_refuses_an_unknown_env_before_doing_anything():
    done = make("deploy", "ENV=staging", env=canary_env())
    assert done.returncode != 0
    assert "ENV must be one of: dev prod (got 'staging')" in done.stderr


def test_check_env_names_every_missing_variable():
    done = make("check-env")
    assert done.returncode != 0
    missing_line = next(line for line in done.stderr.splitlines() if "missing" in line)
    assert missing_line.split(":", 2)[-1].split() == REQUIRED


def test_check_env_names_only_what_is_missing_and_never_prints_values():
    env = canary_env()
    del env["HF_TOKEN"]
    done = make("check-env", env=env)
    assert done.returncode != 0
    assert "missing environment variable(s): HF_TOKEN" in done.stderr
    for value in env.values():
        assert value not in done.stdout + done.stderr
    ok = make("check-env", env=canary_env())
    assert ok.returncode == 0, ok.stderr
    assert "all 8 deploy variables are set" in ok.stdout


def test_help_lists_every_deploy_target():
    done = make("help")
    assert done.returncode == 0
    listed = {
        re.sub(r"\x1b\[[0-9;]*m", "", line).split()[0]
        for line in done.stdout.splitlines()
        if line.strip()
    }
    assert set(TARGETS) <= listed, sorted(set(TARGETS) - listed)
