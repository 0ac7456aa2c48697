"""kubectl adapters: preflight reads, Prometheus and the frontend via the API server, and the
cluster operations of `make profile`."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from demo_common.net import free_port
from deploykit.errors import ClusterError
from deploykit.kustomize import LOCAL_BIN, kubectl_binary, run_tool
from deploykit.resources import DGD_RESOURCE as DGD
from deploykit.resources import DGDSA_RESOURCE as DGDSA
from deploykit.resources import ENGINE_CONFIGMAP, PAUSE_ANNOTATION


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
        what = f"kubectl {' '.join(args[:3])}"
        return run_tool(cmd, what, ClusterError, timeout_s=self.timeout_s, stdin=stdin)

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

    def delete_and_wait(self, args: Sequence[str], timeout_s: float) -> None:
        """`kubectl delete` that returns once the object (and what it owns) is gone."""
        waiting = dataclasses.replace(self, timeout_s=timeout_s + 30)
        wait = ["--ignore-not-found", "--wait=true", f"--timeout={int(timeout_s)}s"]
        waiting._run(["delete", *args, *wait])

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


@dataclass(frozen=True)
class KubectlProfilingCluster:
    """The cluster operations of `make profile` through kubectl (explicit API versions)."""

    context: str
    namespace: str
    dgd_name: str = "gtc-demo"
    kubectl: str = field(default_factory=kubectl_binary)

    def _cluster(self) -> KubectlCluster:
        return KubectlCluster(self.context, "unused", self.namespace, self.kubectl)

    def _ns(self, *args: str) -> str:
        return self._cluster()._run(["-n", self.namespace, *args])

    def adapter_replicas(self, adapter: str) -> int:
        obj = self._cluster().get_json(["-n", self.namespace, DGDSA, adapter])
        return int(obj["spec"]["replicas"])

    def scale_adapter(self, adapter: str, replicas: int) -> None:
        self._ns("scale", f"{DGDSA}/{adapter}", f"--replicas={replicas}")

    def keda_paused(self, scaled_object: str) -> bool:
        obj = self._cluster().get_json(["-n", self.namespace, "scaledobject", scaled_object])
        value = obj["metadata"].get("annotations", {}).get(PAUSE_ANNOTATION, "false")
        return str(value).lower() == "true"

    def set_keda_paused(self, scaled_object: str, paused: bool) -> None:
        value = "true" if paused else "false"
        self._ns("annotate", "scaledobject", scaled_object, f"{PAUSE_ANNOTATION}={value}",
                 "--overwrite")  # fmt: skip

    def engine_configs(self) -> dict[str, str]:
        obj = self._cluster().get_json(["-n", self.namespace, "configmap", ENGINE_CONFIGMAP])
        return {str(k): str(v) for k, v in obj.get("data", {}).items()}

    def set_engine_configs(self, data: Mapping[str, str]) -> None:
        patch = json.dumps({"data": dict(data)})
        self._ns("patch", "configmap", ENGINE_CONFIGMAP, "--type", "merge", "-p", patch)

    def restart_graph(self, restart_id: str) -> None:
        # v1beta1 spec.restart.id: set after creation to ask the operator for a restart.
        patch = json.dumps({"spec": {"restart": {"id": restart_id}}})
        self._ns("patch", DGD, self.dgd_name, "--type", "merge", "-p", patch)

    def wait_ready(self, timeout_s: float) -> None:
        cluster = KubectlCluster(
            self.context, "unused", self.namespace, self.kubectl, timeout_s + 30
        )
        cluster._run(["-n", self.namespace, "wait", "--for=condition=Ready",
                      f"{DGD}/{self.dgd_name}", f"--timeout={int(timeout_s)}s"])  # fmt: skip

    def tool_env(self) -> dict[str, str]:
        """Environment for the profiler: aiperf (uv tool) lives in ~/.local/bin."""
        env = dict(os.environ)
        env["PATH"] = f"{LOCAL_BIN}{os.pathsep}{env.get('PATH', '')}"
        return env

    @contextlib.contextmanager
    def port_forward(self, service: str, port: int) -> Iterator[str]:
        """`kubectl port-forward svc/<service>` on a free local port; yields the base URL."""
        local = free_port()
        proc = subprocess.Popen(
            [
                self.kubectl,
                "--context",
                self.context,
                "-n",
                self.namespace,
                "port-forward",
                f"svc/{service}",
                f"{local}:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            time.sleep(2.0)  # kubectl prints "Forwarding from" once the listener is up
            if proc.poll() is not None:
                raise ClusterError(f"port-forward svc/{service} exited: {proc.returncode}")
            yield f"http://127.0.0.1:{local}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
