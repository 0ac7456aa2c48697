"""Every PromQL expression that ships: dashboard targets and annotations, rules, ScaledObjects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from demo_observability.errors import ObservabilityError
from demo_observability.paths import DASHBOARDS_DIR, KEDA_BASE_DIR, RULES_FILE
from demo_observability.scope import cluster_only, local_only

Scope = Literal["live", "cluster-only"]


@dataclass(frozen=True)
class Expression:
    source: str  # e.g. "dashboard audience", "rule", "keda prefill"
    name: str  # panel title / record name / ScaledObject file
    expr: str

    @property
    def scope(self) -> Scope:
        if cluster_only(self.expr):
            return "cluster-only"
        return "live"

    @property
    def local_only(self) -> bool:
        return local_only(self.expr)

    def label(self) -> str:
        return f"{self.source}: {self.name}"


def dashboard_expressions(board: dict[str, Any], name: str) -> list[Expression]:
    out = []
    for panel in board.get("panels", []):
        for target in panel.get("targets", []):
            out.append(Expression(f"dashboard {name}", panel["title"], target["expr"]))
    for note in board.get("annotations", {}).get("list", []):
        if note.get("expr"):
            out.append(Expression(f"dashboard {name}", f"annotation {note['name']}", note["expr"]))
    return out


def load_dashboards(folder: Path = DASHBOARDS_DIR) -> dict[str, dict[str, Any]]:
    boards = {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}
    if not boards:
        raise ObservabilityError(f"no dashboards in {folder}: run `make dashboards`")
    return boards


def rule_expressions(path: Path = RULES_FILE) -> list[Expression]:
    doc = yaml.safe_load(path.read_text())
    return [
        Expression("rule", rule["record"], rule["expr"])
        for group in doc["groups"]
        for rule in group["rules"]
    ]


def keda_expressions(folder: Path = KEDA_BASE_DIR) -> list[Expression]:
    out = []
    for path in sorted(folder.glob("scaledobject-*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            for trigger in doc["spec"]["triggers"]:
                if trigger["type"] == "prometheus":
                    out.append(Expression("keda", path.name, trigger["metadata"]["query"]))
    return out


def all_expressions() -> list[Expression]:
    """Every shipped expression, from the committed files (what Grafana/KEDA/Prometheus get)."""
    out: list[Expression] = []
    for name, board in load_dashboards().items():
        out += dashboard_expressions(board, name)
    return out + rule_expressions() + keda_expressions()
