"""kubectl adapter for the preflight: cluster reads, Prometheus and the frontend via the API."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from deploykit.errors import ClusterError
from deploykit.kustomize import kubectl_binary


@dataclass(frozen=True)
class KubectlCluster:
    """Talks to one kube context through the kubectl binary (no port-forwards, no sockets here)."""

    context: str
    prometheus_service: str
    prometheus_namespace: str
    kubectl: str = field(default_factory=kubectl_binary)
    timeout_s: float = 120.0

    def _run(self, args: Sequence[str], stdin: str | None = None) -> str:
        cmd = [self.kubectl, "--context", self.context, *args]
        try:
            done = subprocess.run(
                cmd,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterError(f"kubectl {' '.join(args[:3])}: {exc}") from exc
        if done.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args[:3])}: {done.stderr.strip()[:300]}")
        return done.stdout

    def get_json(self, args: Sequence[str]) -> dict[str, Any]:
        data = json.loads(self._run(["get", *args, "-o", "json"]))
        if not isinstance(data, dict):
            raise ClusterError(f"kubectl get {' '.join(args)}: not an object")
        return data

    def get_optional_json(self, args: Sequence[str]) -> dict[str, Any] | None:
        """Like get_json, but None when the object does not exist (first deploy)."""
        text = self._run(["get", *args, "--ignore-not-found", "-o", "json"]).strip()
        if not text:
            return None
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ClusterError(f"kubectl get {' '.join(args)}: not an object")
        return data

    def prometheus_query(self, query: str) -> list[dict[str, Any]]:
        path = (
            f"/api/v1/namespaces/{self.prometheus_namespace}/services/"
            f"{self.prometheus_service}:9090/proxy/api/v1/query?query={quote(query, safe='')}"
        )
        reply = json.loads(self._run(["get", "--raw", path]))
        if reply.get("status") != "success":
            raise ClusterError(f"Prometheus rejected {query!r}: {reply.get('error')}")
        result = reply["data"]["result"]
        if reply["data"].get("resultType") == "scalar":
            return [{"metric": {}, "value": result}]
        return list(result)

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = json.loads(self._run(["create", "--raw", path, "-f", "-"], stdin=json.dumps(body)))
        if not isinstance(reply, dict):
            raise ClusterError(f"POST {path}: not an object")
        return reply
