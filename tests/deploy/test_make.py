"""mk/deploy.mk: `make -n deploy` runs the expected chain, check-env names what is missing,
no secret value ever reaches make's output, and `make help` lists the deploy targets."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml
from deploy_helpers import REPO, rendered

pytestmark = [pytest.mark.integration]

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
    "check-do",
    "tools",
    "profile",
]
TAG = r"\d{8}-[0-9a-f]{7,}"
REG = r"registry\.digitalocean\.com/do-solutions-sfo3/gtc-demo-"
KUBECTL = r"\S*kubectl"
APPLY = rf" \| {KUBECTL} --context do-atl1-gtc-demo apply -f -$"
PROD_VARS = r"-var-file=\.\./environments/prod\.tfvars$"
TF = r"\S*terraform"


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
            rf"^{TF} -chdir=terraform/infra init -input=false$",
            rf"^{TF} -chdir=terraform/infra apply -auto-approve .*{PROD_VARS}",
            r"^doctl --context solutions kubernetes cluster kubeconfig save gtc-demo$",
            rf"^{TF} -chdir=terraform/cluster-config init",
            rf"{TF} -chdir=terraform/cluster-config apply -auto-approve .*{PROD_VARS}",
            rf"^docker build -f apps/load-generator/Dockerfile -t {REG}loadgen:({TAG}) \.$",
            rf"^docker build -f apps/corpus-curator/Dockerfile -t {REG}corpus-curator:({TAG}) \.$",
            r"^doctl --context solutions registry login",
            rf"^docker push {REG}loadgen:({TAG})$",
            rf"^{KUBECTL} kustomize k8s/model-cache/overlays/prod{APPLY}",
            r"wait --for=condition=complete job/gtc-demo-model-cache",
            r"kustomize compose build/deploy/dynamo-prod --base k8s/dynamo/overlays/prod\s*$",
            r"deploykit\.redeploy build/deploy/dynamo-prod --context do-atl1-gtc-demo --namespace",
            rf"^\s*\| {KUBECTL} --context do-atl1-gtc-demo apply -f -$",
            r"wait --for=condition=Ready dynamographdeployments\.v1beta1\.nvidia\.com/gtc-demo",
            rf"^{KUBECTL} kustomize k8s/keda/overlays/prod{APPLY}",
            r"kustomize compose build/deploy/loadgen-prod --base k8s/load-generator/overlays/prod",
            rf"--image {REG}loadgen=({TAG})$",
            rf"^{KUBECTL} kustomize build/deploy/loadgen-prod{APPLY}",
            r"rollout status deployment/gtc-demo-loadgen",
            r"get dynamographdeployments\.v1beta1\.nvidia\.com,dynamographdeploymentscaling",
        ],
    )
    tags = {m.group(1) for m in matches if m.groups()}
    assert len(tags) == 1, f"one tag for the whole run, got {tags}"
    for value in canary_env().values():
        assert value not in done.stdout + done.stderr
    assert "$HF_TOKEN" in done.stdout, "secrets reach Terraform by shell expansion only"


def test_make_n_deploy_dev_uses_dev_files_and_the_grove_and_kai_switches():
    done = make("-n", "deploy", "ENV=dev", "GROVE=false", "KAI=false", env=canary_env())
    assert done.returncode == 0, done.stderr
    assert "-var-file=../environments/dev.tfvars" in done.stdout
    assert (
        "--base k8s/dynamo/overlays/dev --component k8s/dynamo/components/no-grove "
        "--component k8s/dynamo/components/no-kai" in done.stdout
    )
    assert "overlays/prod" not in done.stdout


def test_kai_switch_defaults_to_the_tfvars_line(tmp_path):
    done = make("-n", "deploy-dynamo", "ENV=prod")
    assert done.returncode == 0, done.stderr
    assert "no-kai" not in done.stdout, "prod.tfvars says kai_scheduler_enabled = true"
    assert make("-s", "--eval=print-kai: ; @echo $(KAI)", "print-kai").stdout.strip() == "true"


def test_the_render_step_make_prints_is_what_the_tests_validate(tmp_path):
    """Run the compose + kubectl kustomize commands `make -n deploy-apps` prints (minus the
    apply) and compare with the objects the other tests validate."""
    done = make("-n", "deploy-apps", "ENV=prod", "TAG=20260101-abcdef1")
    assert done.returncode == 0, done.stderr
    script = done.stdout.replace("\\\n", " ").replace("build/deploy", str(tmp_path))
    steps = [line for line in script.splitlines() if "compose" in line or " kustomize " in line]
    assert len(steps) == 2, steps
    subprocess.run(steps[0], shell=True, check=True, cwd=REPO, capture_output=True)
    render = steps[1].split(" | ")[0]
    out = subprocess.run(render, shell=True, check=True, cwd=REPO, capture_output=True, text=True)
    objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(out.stdout) if o}
    expected = {
        (o["kind"], o["metadata"]["name"]): o for o in rendered("load-generator/overlays/prod")
    }
    assert objects.keys() == expected.keys()
    image = objects[("Deployment", "gtc-demo-loadgen")]["spec"]["template"]["spec"]["containers"][0]
    assert image["image"].endswith("gtc-demo-loadgen:20260101-abcdef1")


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


def test_switch_layout_warns_that_workers_restart_and_pauses_keda_for_aggregated():
    done = make("-n", "switch-layout", "ENV=prod", "LAYOUT=aggregated", "CONFIRM=yes")
    assert done.returncode == 0, done.stderr
    assert "every worker" in done.stdout
    assert "restarts" in done.stdout
    lines = done.stdout.splitlines()
    assert_in_order(
        lines,
        [
            r"annotate scaledobject --all autoscaling\.keda\.sh/paused=true",
            r"--base k8s/dynamo/overlays/prod-aggregated",
            r"deploykit\.redeploy",
            r"--recreate \| ",
        ],
    )
    assert "deletes and re-creates the graph" in done.stdout
    plain = make("-n", "deploy-dynamo", "ENV=prod")
    assert "--recreate" not in plain.stdout, "only switch-layout or RECREATE=yes may delete"
    refused = make("switch-layout", "ENV=dev", "LAYOUT=aggregated", "CONFIRM=yes")
    assert refused.returncode != 0
    assert "aggregated: ENV=prod only" in refused.stderr
