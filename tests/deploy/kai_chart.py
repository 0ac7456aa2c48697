"""Helm's render of the kit's KAI queue chart (terraform/cluster-config/charts/kai-queues), for
the few template actions the chart may use: value substitutions, comments and `if not (lookup
...)` guards. Anything else is refused, so the chart stays this simple or the test says so."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ACTION = re.compile(r"(\s*)\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.DOTALL)
LOOKUP_GUARD = re.compile(r'if not \(lookup "([^"]+)" "(\w+)" "[^"]*" \.Values\.(\w+)\)')
VALUE = re.compile(r"\.Values\.(\w+)")

Lookup = Callable[[str, str, str], bool]  # (apiVersion, kind, name) -> exists in the cluster


def render(template: str, values: dict[str, Any], exists: Lookup) -> list[dict[str, Any]]:
    """The objects Helm would apply, given which objects `lookup` finds."""
    out: list[str] = []
    skipping: list[bool] = []
    pos = 0
    for match in ACTION.finditer(template):
        space, trim_left, body, trim_right = match.groups()
        text = template[pos : match.start()] + ("" if trim_left else space)
        if not any(skipping):
            out.append(text)
        pos = match.end()
        if trim_right:
            while pos < len(template) and template[pos] in " \t\r\n":
                pos += 1
        if body.startswith("/*"):
            continue
        guard = LOOKUP_GUARD.fullmatch(body)
        if guard:
            api, kind, key = guard.groups()
            skipping.append(exists(api, kind, str(values[key])))
        elif body == "end":
            skipping.pop()
        elif VALUE.fullmatch(body):
            if not any(skipping):
                out.append(str(values[VALUE.fullmatch(body).group(1)]))  # type: ignore[union-attr]
        else:
            raise ValueError(f"template action not supported here: {{{{ {body} }}}}")
    out.append(template[pos:] if not any(skipping) else "")
    return [doc for doc in yaml.safe_load_all("".join(out)) if doc]


def chart_objects(chart: Path, overrides: dict[str, Any], exists: Lookup) -> list[dict[str, Any]]:
    values = {**yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8")), **overrides}
    objects: list[dict[str, Any]] = []
    for template in sorted((chart / "templates").glob("*.yaml")):
        objects.extend(render(template.read_text(encoding="utf-8"), values, exists))
    return objects
