"""Take a dead worker out of discovery at once, as Kubernetes does for a pod whose container died.

On the cluster the Dynamo operator runs its components with Kubernetes discovery, where an
instance is an endpoint of a Ready pod: when a worker's process is killed the kubelet marks the
pod not ready within a second or two and the frontend stops routing to it. The local stack uses
file discovery instead, where a SIGKILLed worker's records stay until their lease expires (~10 s):
in that window the KV router keeps choosing the dead worker for prompts whose prefix it held,
and a request whose every migration attempt lands there fails with HTTP 500. So when the
supervisor sees a worker die, it removes the records that name the worker's request-plane port.

Record shape (ai-dynamo 1.6.1 file discovery, DYN_FILE_KV): `v1/instances/<key>` holds
`{"type": "Endpoint", ..., "transport": {"tcp": "HOST:PORT/<id>/<ns>/<component>/<endpoint>"}}`,
and `v1/mdc/<key>` the model card of the same instance, under a key that ends with the same id.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import psutil

log = logging.getLogger(__name__)


def listening_ports(pid: int) -> frozenset[int]:
    """The TCP ports a live process listens on (its request plane among them)."""
    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return frozenset()
    return frozenset(c.laddr.port for c in conns if c.status == psutil.CONN_LISTEN)


def forget_instances(discovery_dir: Path, ports: frozenset[int]) -> list[str]:
    """Delete the instance and model-card records served on `ports`; returns the removed keys."""
    instances = discovery_dir / "v1" / "instances"
    removed: list[str] = []
    if not ports or not instances.is_dir():
        return removed
    for record in instances.iterdir():
        try:
            tcp = json.loads(record.read_text())["transport"]["tcp"]
            port = int(tcp.split("/", 1)[0].rsplit(":", 1)[1])
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue  # being written, or not a TCP endpoint: not ours to judge
        if port not in ports:
            continue
        instance_id = tcp.split("/")[1]
        for kind in ("instances", "mdc"):
            for key in (discovery_dir / "v1" / kind).glob(f"*{instance_id}"):
                key.unlink(missing_ok=True)
                removed.append(f"{kind}/{key.name}")
    return removed
