"""The load generator's Deployment env, parsed by the app's own Settings: no name it ignores."""

from __future__ import annotations

import os

import pytest
from deploy_helpers import ADAPTERS, SCALED_OBJECTS, one, rendered

from demo_common.objectstore import ACCESS_KEY_ENV, SECRET_KEY_ENV
from loadgen.settings import Settings

# Names outside the LOADGEN_ prefix that the app reads (settings aliases, the corpus reader).
SHARED_NAMES = {
    "PRESENTER_TOKEN",
    "FOLLOWUP_BASE_URL",
    "FOLLOWUP_MODEL",
    "GRADIENT_API_KEY",
    ACCESS_KEY_ENV,
    SECRET_KEY_ENV,
}


def container_env(env: str) -> list[dict[str, object]]:
    deployment = one(rendered(f"load-generator/overlays/{env}"), "Deployment", "gtc-demo-loadgen")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env_list: list[dict[str, object]] = container["env"]
    return env_list


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_variable_is_one_the_app_reads(env: str) -> None:
    for entry in container_env(env):
        name = str(entry["name"])
        if name.startswith("LOADGEN_"):
            assert name.removeprefix("LOADGEN_").lower() in Settings.model_fields, name
        else:
            assert name in SHARED_NAMES, name


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_settings_parse_the_deployment_env(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LOADGEN_") or name in SHARED_NAMES:
            monkeypatch.delenv(name)
    for entry in container_env(env):
        # References (secrets, config maps, the downward API) get a stand-in of the right shape.
        value = entry.get("value", "stand-in-value-0123")
        monkeypatch.setenv(str(entry["name"]), str(value))
    settings = Settings()
    assert settings.backend == "cluster"
    assert settings.endpoint_url == "http://gtc-demo-frontend:8000"
    assert settings.corpus.startswith("s3://")
    assert settings.prefill_scaling_adapter == ADAPTERS["prefill"]
    assert settings.decode_scaling_adapter == ADAPTERS["decode"]
    assert settings.prefill_scaledobject == SCALED_OBJECTS["prefill"]
    assert settings.decode_scaledobject == SCALED_OBJECTS["decode"]
