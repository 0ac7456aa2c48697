"""Stack 1 against the DigitalOcean provider's own schema for digitalocean_nfs, at the release
the constraint allows at its floor and at the release the lock file pins (the schema per release
is a fixture read from the provider's repository: fixtures/digitalocean-nfs-schema.yaml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from deploy_helpers import STACKS, TERRAFORM, tf_blocks, tf_code, tf_resources, unquote

SCHEMA = yaml.safe_load(
    (Path(__file__).parent / "fixtures/digitalocean-nfs-schema.yaml").read_text(encoding="utf-8")
)
META_ARGUMENTS = {"count", "for_each", "depends_on", "lifecycle", "provider"}
SOURCE = "digitalocean/digitalocean"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def schema_at(version: str) -> dict[str, Any]:
    """The newest recorded release at or below `version` (the schema did not change between)."""
    known = sorted(SCHEMA["releases"], key=_version)
    usable = [v for v in known if _version(v) <= _version(version)]
    assert usable, f"no recorded digitalocean_nfs schema at or below {version}"
    return dict(SCHEMA["releases"][usable[-1]])


def constraint_floor(stack: str) -> str:
    for block in tf_blocks(stack, "terraform"):
        for providers in block.get("required_providers", []):
            spec = providers.get("digitalocean")
            if spec:
                match = re.fullmatch(r"~>\s*(\d+)\.(\d+)(?:\.(\d+))?", unquote(spec["version"]))
                assert match, f"{stack}: unexpected constraint {spec['version']}"
                return f"{match.group(1)}.{match.group(2)}.{match.group(3) or 0}"
    raise AssertionError(f"{stack}: no digitalocean provider constraint")


def locked_version(stack: str) -> str:
    with (TERRAFORM / stack / ".terraform.lock.hcl").open(encoding="utf-8") as handle:
        for block in hcl2.load(handle)["provider"]:
            for address, body in block.items():
                if unquote(address).endswith(SOURCE):
                    return str(unquote(body["version"]))
    raise AssertionError(f"{stack}: {SOURCE} not locked")


@pytest.mark.parametrize("which", ["constraint floor", "locked"])
def test_nfs_share_sets_only_arguments_the_provider_release_has(which):
    version = constraint_floor("infra") if which == "constraint floor" else locked_version("infra")
    schema = schema_at(version)
    for name, body in tf_resources("infra", "digitalocean_nfs").items():
        used = {k for k in body if not k.startswith("__")} - META_ARGUMENTS
        unknown = used - set(schema["arguments"])
        assert not unknown, f"digitalocean_nfs.{name}: {sorted(unknown)} not in provider {version}"
        for argument, allowed in schema.get("allowed", {}).items():
            if argument in body:
                assert unquote(body[argument]) in allowed, (argument, body[argument])


@pytest.mark.parametrize("stack", STACKS)
def test_references_to_the_nfs_share_read_attributes_the_locked_release_has(stack):
    schema = schema_at(locked_version("infra"))
    known = {"id", *schema["arguments"], *schema["attributes"]}
    read = set(re.findall(r"digitalocean_nfs\.\w+\.(\w+)", tf_code(stack)))
    assert read <= known, f"{stack}: {sorted(read - known)}"


def test_both_stacks_lock_the_same_provider_release():
    assert {locked_version(s) for s in STACKS} == {locked_version("infra")}
