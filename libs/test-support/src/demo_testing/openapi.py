"""Every numeric input of an HTTP API, read from its OpenAPI document (for NaN/Infinity tests).

A test built on this list covers a numeric field added later without being edited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

NON_FINITE = (float("nan"), float("inf"), float("-inf"))
_NUMERIC = {"number", "integer"}


@dataclass(frozen=True)
class NumericInput:
    method: str
    path: str
    where: str  # "body", "query" or "path"
    field: tuple[str, ...]  # e.g. ("mix", "chat")

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path} {self.where}:{'.'.join(self.field)}"

    def url(self, value: float, path_values: Mapping[str, str]) -> str:
        """The path with its parameters filled in (this input's own one set to `value`)."""
        url = self.path
        for name, given in path_values.items():
            url = url.replace("{" + name + "}", given)
        if self.where == "path":
            url = url.replace("{" + self.field[0] + "}", repr(value))
        if self.where == "query":
            url += f"?{self.field[0]}={value!r}"
        return url

    def body(self, value: float) -> str | None:
        """A JSON body holding `value` at this field (NaN/Infinity as Python's encoder writes)."""
        if self.where != "body":
            return None
        node: Any = value
        for part in reversed(self.field):
            node = {part: node}
        return json.dumps(node)


def _resolve(doc: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        target: Any = doc
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def _numeric(doc: Mapping[str, Any], schema: Mapping[str, Any]) -> bool:
    schema = _resolve(doc, schema)
    if schema.get("type") in _NUMERIC:
        return True
    return any(_numeric(doc, s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def _fields(
    doc: Mapping[str, Any], schema: Mapping[str, Any], prefix: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    schema = _resolve(doc, schema)
    for option in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _fields(doc, option, prefix)
    for name, sub in schema.get("properties", {}).items():
        if _numeric(doc, sub):
            yield (*prefix, name)
        else:
            yield from _fields(doc, sub, (*prefix, name))


def numeric_inputs(doc: Mapping[str, Any]) -> list[NumericInput]:
    """Numeric body fields (nested too), query and path parameters of every operation."""
    found: list[NumericInput] = []
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                if _numeric(doc, param.get("schema", {})):
                    found.append(NumericInput(method, path, param["in"], (param["name"],)))
            content = op.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is not None:
                for field in dict.fromkeys(_fields(doc, schema, ())):
                    found.append(NumericInput(method, path, "body", field))
    return found
