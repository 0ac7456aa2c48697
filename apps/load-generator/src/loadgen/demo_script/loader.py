"""Load and validate the demo-script YAML (the packaged default or a file the user names)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from demo_common.validation import one_line
from loadgen.demo_script.lines import line_of
from loadgen.demo_script.models import DEFER_CROSS_CHECKS, DemoScript, cross_problems
from loadgen.errors import DemoScriptError

DEFAULT_SCRIPT_NAME = "demo-script.yaml"


def default_script_path() -> Path:
    """The demo script shipped inside the package."""
    return Path(str(resources.files("loadgen.demo_script") / DEFAULT_SCRIPT_NAME))


def parse_demo_script(text: str, where: str) -> DemoScript:
    """Parse YAML text into a DemoScript; errors name `where` and the first bad field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DemoScriptError(f"{where}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise DemoScriptError(f"{where}: expected a mapping at the top level")
    try:
        script = DemoScript.model_validate(data, context={DEFER_CROSS_CHECKS: True})
    except ValidationError as exc:
        message = one_line(exc, default="(top level)", template="field '{field}': {message}")
        at = _at_line(text, tuple(exc.errors()[0]["loc"]))
        raise DemoScriptError(f"{where}{at}: {message}") from None
    problems = cross_problems(script)
    if problems:
        path, reason = problems[0]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        field = ".".join(map(str, path))
        raise DemoScriptError(f"{where}{_at_line(text, path)}: field '{field}': {reason}{more}")
    return script


def _at_line(text: str, path: tuple[str | int, ...]) -> str:
    line = line_of(text, path)
    return "" if line is None else f":{line}"


def load_demo_script(path: Path | None = None) -> DemoScript:
    """Read the demo script at `path` (default: the packaged one)."""
    source = path or default_script_path()
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise DemoScriptError(f"{source}: cannot read demo script: {exc.strerror}") from None
    return parse_demo_script(text, str(source))
