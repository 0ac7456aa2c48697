"""Load and validate the demo-script YAML (the packaged default or a file the user names)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from demo_common.validation import one_line
from loadgen.errors import ScenarioError
from loadgen.scenario.models import DemoScript

DEFAULT_SCRIPT_NAME = "demo-script.yaml"


def default_script_path() -> Path:
    """The demo script shipped inside the package."""
    return Path(str(resources.files("loadgen.scenario") / DEFAULT_SCRIPT_NAME))


def parse_demo_script(text: str, where: str) -> DemoScript:
    """Parse YAML text into a DemoScript; errors name `where` and the first bad field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{where}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a mapping at the top level")
    try:
        return DemoScript.model_validate(data)
    except ValidationError as exc:
        message = one_line(exc, default="(top level)", template="field '{field}': {message}")
        raise ScenarioError(f"{where}: {message}") from None


def load_demo_script(path: Path | None = None) -> DemoScript:
    """Read the demo script at `path` (default: the packaged one)."""
    source = path or default_script_path()
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{source}: cannot read demo script: {exc.strerror}") from None
    return parse_demo_script(text, str(source))
