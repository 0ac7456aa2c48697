"""A Kubernetes API stand-in for the cluster adapter's contract tests: DGDSA and ScaledObject calls.

No API server can run on these machines, so the cluster adapter is tested against this HTTP
server, which implements upstream's contract for the calls the adapter makes and checks every
request. The shapes are upstream's (facts read from, not copies of):
- ai-dynamo/dynamo deploy/operator/config/crd/bases/
  nvidia.com_dynamographdeploymentscalingadapters.yaml @ fbfa59ff: versions v1alpha1 (served)
  and v1beta1 (served, storage); spec {dgdRef {name, serviceName}, replicas (int32, minimum 0)};
  status {replicas, selector, lastScaleTime}; subresources scale (specReplicasPath
  .spec.replicas, statusReplicasPath .status.replicas, labelSelectorPath .status.selector) and
  status. The scale subresource speaks autoscaling/v1 Scale.
- kedacore/keda config/crd/bases/keda.sh_scaledobjects.yaml @ 8b4f083 (v2.20.x): keda.sh
  v1alpha1 ScaledObject, subresource status only; metadata.annotations map[string]string;
  `autoscaling.keda.sh/paused` and `.../paused-replicas` (apis/keda/v1alpha1).
- Kubernetes API conventions: custom resources accept merge patches (RFC 7386, null deletes),
  not strategic merge patches (415); errors are `Status` objects; RBAC denials are 403.
Which names exist and which verbs are allowed mirror k8s/load-generator/base/rbac.yaml.
Faults (409, 429, 5xx, a response slower than the client's timeout) can be injected.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

MERGE_PATCH = "application/merge-patch+json"
PAUSE_KEYS = frozenset({"autoscaling.keda.sh/paused", "autoscaling.keda.sh/paused-replicas"})
DGDSA_VERSIONS = ("v1alpha1", "v1beta1")
_DGDSA_PATH = re.compile(
    r"^/apis/nvidia\.com/(?P<version>[^/]+)/namespaces/(?P<ns>[^/]+)/"
    r"dynamographdeploymentscalingadapters/(?P<name>[^/]+)(?P<sub>/[^/]+)?$"
)
_SO_PATH = re.compile(
    r"^/apis/keda\.sh/(?P<version>[^/]+)/namespaces/(?P<ns>[^/]+)/scaledobjects/(?P<name>[^/]+)"
    r"(?P<sub>/[^/]+)?$"
)
Fault = Literal[409, 429, 500, 503, "timeout"]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass
class Request:
    method: str
    path: str
    content_type: str | None
    body: Any


@dataclass
class _Injected:
    fault: Fault
    times: int
    method: str | None
    path_contains: str | None


@dataclass
class KubeContractServer:
    """Holds the objects, serves them over HTTP, records requests and contract violations."""

    namespace: str = "gtc-demo"
    token: str = "contract-test-token"
    dgd_name: str = "gtc-demo"
    adapters: dict[str, tuple[str, int]] = field(
        default_factory=lambda: {
            "gtc-demo-trtllmprefillworker": ("TRTLLMPrefillWorker", 2),
            "gtc-demo-trtllmdecodeworker": ("TRTLLMDecodeWorker", 3),
        }
    )
    scaled_objects: tuple[str, ...] = ("gtc-demo-prefill", "gtc-demo-decode")
    served_dgdsa_versions: tuple[str, ...] = DGDSA_VERSIONS
    # The operator syncs status.replicas from the DGD; False leaves that to `operator_sync`.
    auto_sync: bool = True
    timeout_delay_s: float = 1.0
    requests: list[Request] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _faults: list[_Injected] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _revision: int = 1
    _httpd: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        for name, (service, replicas) in self.adapters.items():
            self._objects[("dgdsa", name)] = {
                "metadata": self._metadata(name, generation=1),
                "spec": {
                    "dgdRef": {"name": self.dgd_name, "serviceName": service},
                    "replicas": replicas,
                },
                "status": {
                    "replicas": replicas,
                    "selector": f"nvidia.com/dynamo-graph-deployment-name={self.dgd_name},"
                    f"nvidia.com/dynamo-component={service}",
                    "lastScaleTime": _now(),
                },
            }
        for name in self.scaled_objects:
            self._objects[("so", name)] = {
                "apiVersion": "keda.sh/v1alpha1",
                "kind": "ScaledObject",
                "metadata": self._metadata(name, generation=1),
                "spec": {
                    "scaleTargetRef": {
                        "apiVersion": "nvidia.com/v1alpha1",
                        "kind": "DynamoGraphDeploymentScalingAdapter",
                        "name": name,
                    },
                    "triggers": [{"type": "prometheus", "metadata": {}}],
                },
            }

    def _metadata(self, name: str, generation: int) -> dict[str, Any]:
        self._revision += 1
        return {
            "name": name,
            "namespace": self.namespace,
            "uid": f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
            "resourceVersion": str(self._revision),
            "generation": generation,
            "creationTimestamp": _now(),
        }

    # --- what tests look at -------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def replicas(self, adapter: str) -> tuple[int, int]:
        """(spec.replicas, status.replicas) of a scaling adapter."""
        obj = self._objects[("dgdsa", adapter)]
        return int(obj["spec"]["replicas"]), int(obj["status"]["replicas"])

    def annotations(self, scaled_object: str) -> dict[str, str]:
        return dict(self._objects[("so", scaled_object)]["metadata"].get("annotations", {}))

    def set_annotation(self, scaled_object: str, key: str, value: str) -> None:
        meta = self._objects[("so", scaled_object)]["metadata"]
        meta.setdefault("annotations", {})[key] = value

    def operator_sync(self, adapter: str) -> None:
        obj = self._objects[("dgdsa", adapter)]
        obj["status"]["replicas"] = obj["spec"]["replicas"]

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]

    def inject(
        self,
        fault: Fault,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """The next `times` matching requests fail with `fault` (a timeout still applies)."""
        with self._lock:
            self._faults.append(_Injected(fault, times, method, path_contains))

    def clear_faults(self) -> None:
        """Drop every injected fault not used up yet."""
        with self._lock:
            self._faults.clear()

    # --- lifecycle ------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[KubeContractServer]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._handle(self)

            def do_PATCH(self) -> None:
                server._handle(self)

            def do_PUT(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

            def do_DELETE(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join(timeout=5)

    # --- the API --------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        content_type = h.headers.get("Content-Type")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        path = h.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(Request(h.command, path, content_type, body))
            fault = self._take_fault(h.command, path)
            if h.headers.get("Authorization") != f"Bearer {self.token}":
                self.violations.append(f"{h.command} {path}: missing or wrong bearer token")
                code, answer = _status(401, "Unauthorized", "Unauthorized")
            elif fault is not None and fault != "timeout":
                code, answer = _status(int(fault), _REASONS[int(fault)], f"injected {fault}")
            else:
                code, answer = self._route(h.command, path, content_type, body)
        if fault == "timeout":
            time.sleep(self.timeout_delay_s)
        data = json.dumps(answer).encode()
        try:
            h.send_response(code)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout): what a real server would also see

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for injected in self._faults:
            if injected.method not in (None, method):
                continue
            if injected.path_contains is not None and injected.path_contains not in path:
                continue
            injected.times -= 1
            if injected.times <= 0:
                self._faults.remove(injected)
            return injected.fault
        return None

    def _route(
        self, method: str, path: str, content_type: str | None, body: Any
    ) -> tuple[int, dict[str, Any]]:
        if match := _DGDSA_PATH.match(path):
            kind, version = "dgdsa", match["version"]
            if version not in self.served_dgdsa_versions:
                return _status(404, "NotFound", "the server could not find the requested resource")
        elif match := _SO_PATH.match(path):
            kind, version = "so", match["version"]
            if version != "v1alpha1":
                return _status(404, "NotFound", "the server could not find the requested resource")
        else:
            # Anything else (the DGD itself, lists, other kinds) is outside the adapter's RBAC.
            self.violations.append(f"{method} {path}: outside the RBAC role")
            return _status(403, "Forbidden", f"{method} {path} is forbidden")
        name, sub = match["name"], match["sub"]
        allowed = {
            ("dgdsa", None): {"GET"},
            ("dgdsa", "/scale"): {"GET", "PATCH"},
            ("so", None): {"GET", "PATCH"},
        }.get((kind, sub), set())
        if method not in allowed or match["ns"] != self.namespace:
            self.violations.append(f"{method} {path}: outside the RBAC role")
            return _status(403, "Forbidden", f"{method} {path} is forbidden")
        obj = self._objects.get((kind, name))
        if obj is None:
            self.violations.append(f"{method} {path}: no such object (RBAC names)")
            return _status(403, "Forbidden", f"{kind} {name} is forbidden")
        if method == "PATCH":
            if content_type != MERGE_PATCH:
                self.violations.append(f"PATCH {path}: content type {content_type}")
                return _status(415, "UnsupportedMediaType", f"the body of {content_type} ...")
            error = (
                self._patch_scale(name, obj, body)
                if kind == "dgdsa"
                else self._patch_annotations(name, obj, body)
            )
            if error is not None:
                self.violations.append(f"PATCH {path}: {error[1]['message']}")
                return error
        if kind == "so":
            return 200, copy.deepcopy(obj)
        if sub == "/scale":
            return 200, self._scale_view(obj)
        answer = copy.deepcopy(obj)
        return 200, {
            "apiVersion": f"nvidia.com/{version}",
            "kind": "DynamoGraphDeploymentScalingAdapter",
            **answer,
        }

    def _scale_view(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion")}
            | {"creationTimestamp": meta["creationTimestamp"]},
            "spec": {"replicas": obj["spec"]["replicas"]},
            "status": {
                "replicas": obj["status"]["replicas"],
                "selector": obj["status"]["selector"],
            },
        }

    def _patch_scale(
        self, name: str, obj: dict[str, Any], body: Any
    ) -> tuple[int, dict[str, Any]] | None:
        if not isinstance(body, dict) or set(body) - {"spec", "metadata"}:
            return _status(422, "Invalid", "a scale patch sets spec.replicas only")
        spec = body.get("spec")
        if not isinstance(spec, dict) or set(spec) != {"replicas"}:
            return _status(422, "Invalid", "a scale patch sets spec.replicas only")
        replicas = spec["replicas"]
        if isinstance(replicas, bool) or not isinstance(replicas, int):
            return _status(422, "Invalid", f"spec.replicas: Invalid value: {replicas!r}")
        if not 0 <= replicas <= 2**31 - 1:
            return _status(422, "Invalid", "spec.replicas: should be greater than or equal to 0")
        if obj["spec"]["replicas"] != replicas:
            obj["spec"]["replicas"] = replicas
            self._bump(obj)
            obj["status"]["lastScaleTime"] = _now()
            if self.auto_sync:
                self.operator_sync(name)
        return None

    def _patch_annotations(
        self, name: str, obj: dict[str, Any], body: Any
    ) -> tuple[int, dict[str, Any]] | None:
        meta = (
            body.get("metadata") if isinstance(body, dict) and set(body) == {"metadata"} else None
        )
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if not isinstance(annotations, dict) or set(meta or {}) != {"annotations"}:
            return _status(422, "Invalid", "the adapter may patch metadata.annotations only")
        if set(annotations) - PAUSE_KEYS:
            return _status(422, "Invalid", f"annotations outside the pause keys: {annotations}")
        for key, value in annotations.items():
            if value is not None and not isinstance(value, str):
                return _status(400, "BadRequest", f"metadata.annotations[{key}]: not a string")
        patched = merge_patch(obj["metadata"].get("annotations") or {}, annotations)
        if patched != (obj["metadata"].get("annotations") or {}):
            obj["metadata"]["annotations"] = patched
            obj["metadata"]["resourceVersion"] = str(self._next_revision())
        return None

    def _bump(self, obj: dict[str, Any]) -> None:
        obj["metadata"]["generation"] += 1
        obj["metadata"]["resourceVersion"] = str(self._next_revision())

    def _next_revision(self) -> int:
        self._revision += 1
        return self._revision


_REASONS = {
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def _status(code: int, reason: str, message: str) -> tuple[int, dict[str, Any]]:
    return code, {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
