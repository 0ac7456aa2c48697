"""Command-line flags derived from a pydantic model's fields: one declaration per option.

A field becomes `--field-name` (plus any `flags` listed in its json_schema_extra), its help is
the field's description with its environment twin and default; values reach the model as the
user typed them, so the model's own validation (and its one-line message) applies to flags,
env vars and defaults alike.
"""

from __future__ import annotations

import argparse
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

EnvName = Callable[[str, FieldInfo], str | None]


def _extra(field: FieldInfo) -> Mapping[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, Mapping) else {}


def _is(annotation: object, kind: object) -> bool:
    if annotation is kind:
        return True
    origin = typing.get_origin(annotation)
    if origin is kind:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is(arg, kind) for arg in typing.get_args(annotation))
    return False


def add_model_flags(
    parser: argparse.ArgumentParser,
    model: type[BaseModel],
    *,
    env_name: EnvName,
    exclude: Collection[str] = (),
) -> None:
    """Add one flag per field of `model` (minus `exclude`, e.g. secrets: env only)."""
    for name, field in model.model_fields.items():
        if name in exclude:
            continue
        flags = [f"--{name.replace('_', '-')}", *_extra(field).get("flags", ())]
        env = env_name(name, field)
        default = field.get_default(call_default_factory=True)
        notes = [f"env: {env}"] if env else []
        if default not in (None, [], ()):
            notes.append(f"default {default}")
        text = field.description or name.replace("_", " ")
        help_text = f"{text} ({'; '.join(notes)})" if notes else text
        literal = typing.get_args(field.annotation) if _is(field.annotation, typing.Literal) else ()
        if _is(field.annotation, bool):
            parser.add_argument(*flags, dest=name, action="store_const", const=True, help=help_text)
        elif _is(field.annotation, list):
            parser.add_argument(*flags, dest=name, action="append", help=help_text + ", repeatable")
        elif literal:
            parser.add_argument(
                *flags, dest=name, choices=[str(c) for c in literal], help=help_text
            )
        else:
            parser.add_argument(*flags, dest=name, metavar=name.upper(), help=help_text)


def given_flags(args: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """The fields of `model` the user set on the command line."""
    return {
        name: getattr(args, name)
        for name in model.model_fields
        if getattr(args, name, None) is not None
    }
