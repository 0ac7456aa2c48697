"""The dynamo-platform release's values pass the chart's own Grove + bundled-KAI check at the
pinned chart version (the check's rule and the value each version wants: fixture
dynamo-platform-grove-kai-check.yaml)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_helpers import GPUS, TERRAFORM, resolve, tf_code, tf_resources, tfvars, unquote

CHECK = yaml.safe_load(
    (Path(__file__).parent / "fixtures/dynamo-platform-grove-kai-check.yaml").read_text(
        encoding="utf-8"
    )
)
PLATFORM_VALUES = TERRAFORM / "cluster-config/values/dynamo-platform.yaml"
ARG = "default-staleness-grace-period"


def chart_refuses(values: dict[str, Any], required: str) -> bool:
    """validate-values.yaml's rule: Grove (enabled or install) with KAI bundled (install) needs
    kai-scheduler.scheduler.args[ARG] | toString == required."""
    global_ = values.get("global") or {}
    grove = global_.get("grove") or {}
    kai_installed = bool((global_.get("kai-scheduler") or {}).get("install"))
    if not ((grove.get("enabled") or grove.get("install")) and kai_installed):
        return False
    args = ((values.get("kai-scheduler") or {}).get("scheduler") or {}).get("args") or {}
    return str(args.get(ARG, "")) != required


def release_values(env: str) -> dict[str, Any]:
    """The values file plus what platform.tf's yamlencode adds for `env` (the KAI switch)."""
    values = copy.deepcopy(yaml.safe_load(PLATFORM_VALUES.read_text(encoding="utf-8")))
    kai = bool(tfvars(env)["kai_scheduler_enabled"])
    values.setdefault("global", {})["kai-scheduler"] = {"install": kai, "enabled": kai}
    return values


def pinned_chart() -> str:
    release = tf_resources("cluster-config", "helm_release")["dynamo_platform"]
    return str(unquote(resolve(unquote(release["version"]), "cluster-config")))


@pytest.mark.parametrize("env", sorted(GPUS))
def test_the_pinned_chart_accepts_the_release_values(env):
    required = CHECK["required_value"][pinned_chart()]
    assert not chart_refuses(release_values(env), required), (
        f"dynamo-platform {pinned_chart()} refuses Grove + bundled KAI without "
        f'kai-scheduler.scheduler.args.{ARG}: "{required}"'
    )


def test_platform_tf_reads_the_values_file_and_sets_only_the_switch_on_top():
    text = (TERRAFORM / "cluster-config/platform.tf").read_text(encoding="utf-8")
    assert 'file("${path.module}/values/dynamo-platform.yaml")' in text
    assert re.search(r'"kai-scheduler" = \{ install = var\.kai_scheduler_enabled', text)
    assert ARG not in tf_code("cluster-config"), "the value lives in the values file only"


def test_the_rule_as_upstream_wrote_it():
    values = {"global": {"grove": {"install": True}, "kai-scheduler": {"install": True}}}
    assert chart_refuses(values, "-1s")
    values["kai-scheduler"] = {"scheduler": {"args": {ARG: "-1"}}}
    assert chart_refuses(values, "-1s")
    assert not chart_refuses(values, "-1")
    values["global"]["kai-scheduler"]["install"] = False
    assert not chart_refuses(values, "-1s"), "KAI installed separately: the chart does not check"
