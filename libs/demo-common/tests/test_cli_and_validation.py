"""Flags derived from a model's fields, and the one-line validation message."""

from __future__ import annotations

import argparse
from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo

from demo_common.cli import add_model_flags, given_flags
from demo_common.validation import first_error, one_line


class Example(BaseModel):
    port: int = Field(default=8000, ge=1, le=65535, description="where to listen")
    mode: Literal["a", "b"] = "a"
    verbose: bool = False
    targets: list[str] = Field(default_factory=list, json_schema_extra={"flags": ["--target"]})
    token: str | None = None


def _env(name: str, _field: FieldInfo) -> str | None:
    return f"EX_{name.upper()}"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_model_flags(parser, Example, env_name=_env, exclude=("token",))
    return parser.parse_args(argv)


def test_every_field_but_the_excluded_becomes_a_flag() -> None:
    args = _parse(["--port", "9", "--mode", "b", "--verbose", "--target", "x", "--targets", "y"])
    assert given_flags(args, Example) == {
        "port": "9", "mode": "b", "verbose": True, "targets": ["x", "y"],
    }  # fmt: skip
    assert Example(**given_flags(args, Example)).port == 9  # the model converts, not argparse
    with pytest.raises(SystemExit):
        _parse(["--token", "secret"])  # excluded: env only
    with pytest.raises(SystemExit):
        _parse(["--mode", "c"])  # Literal -> choices


def test_help_names_the_env_twin_and_default() -> None:
    parser = argparse.ArgumentParser()
    add_model_flags(parser, Example, env_name=_env)
    text = parser.format_help()
    assert "where to listen (env: EX_PORT; default 8000)" in " ".join(text.split())


def test_one_line_names_the_field_never_the_input() -> None:
    with pytest.raises(ValidationError) as info:
        Example.model_validate({"port": "s3cr3t-value", "mode": "z"})
    line = one_line(info.value)
    assert line.startswith("port: Input should be a valid integer")
    assert line.endswith("(+1 more)")
    assert "s3cr3t" not in line
    assert first_error(info.value) == ("port", info.value.errors()[0]["msg"])
    assert one_line(info.value, template="field '{field}'").startswith("field 'port'")
