"""A dead worker's file-discovery records go at once, as Kubernetes discovery drops a dead pod.

The records below are the shape ai-dynamo 1.6.1's mocker writes (copied from a running local
stack's DYN_FILE_KV folder: two decode instances and one prefill instance).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from localcluster.discovery import forget_instances, listening_ports

NS = "gtc-d3252c90d7"
WORKERS = {  # instance id -> (component, request-plane port)
    "dbbb0317737ddb85": ("backend", 40905),
    "f94cb6c573e354f3": ("backend", 43825),
    "4bf3006e729d28b9": ("prefill", 43147),
}


def _key(*parts: str) -> str:
    return "%2F".join(p.replace("-", "%2D") for p in parts)


def _discovery(tmp_path: Path) -> Path:
    for kind in ("instances", "mdc", "event_channels"):
        (tmp_path / "v1" / kind).mkdir(parents=True)
    for instance_id, (component, port) in WORKERS.items():
        record = {
            "type": "Endpoint", "component": component, "endpoint": "generate", "namespace": NS,
            "instance_id": int(instance_id, 16),
            "transport": {"tcp": f"192.0.2.2:{port}/{instance_id}/{NS}/{component}/generate"},
            "device_type": "cuda", "request_plane_codec": "msgpack",
        }  # fmt: skip
        key = _key(NS, component, "generate", instance_id)
        (tmp_path / "v1" / "instances" / key).write_text(json.dumps(record))
        (tmp_path / "v1" / "mdc" / key).write_text(json.dumps({"display_name": "m"}))
    channel = _key("namespace", NS, "component", "backend", "topic", "kv_metrics", "75610be5ebc7c")
    (tmp_path / "v1" / "event_channels" / channel).write_text("{}")
    return tmp_path


def _left(root: Path, kind: str) -> set[str]:
    return {p.name.rsplit("%2F", 1)[1] for p in (root / "v1" / kind).iterdir()}


def test_the_dead_workers_instance_and_card_go_and_nothing_else(tmp_path: Path) -> None:
    root = _discovery(tmp_path)
    removed = forget_instances(root, frozenset({40905, 9345}))
    assert sorted(removed) == [f"{k}/{_key(NS, 'backend', 'generate', 'dbbb0317737ddb85')}"
                               for k in ("instances", "mdc")]  # fmt: skip
    assert (
        _left(root, "instances") == _left(root, "mdc") == {"f94cb6c573e354f3", "4bf3006e729d28b9"}
    )
    assert len(list((root / "v1" / "event_channels").iterdir())) == 1


def test_no_ports_or_no_folder_or_a_half_written_record_removes_nothing(tmp_path: Path) -> None:
    assert forget_instances(tmp_path / "absent", frozenset({40905})) == []
    root = _discovery(tmp_path)
    assert forget_instances(root, frozenset()) == []
    (root / "v1" / "instances" / "partial").write_text('{"type": "Endp')
    assert forget_instances(root, frozenset({43147})) == [
        f"{k}/{_key(NS, 'prefill', 'generate', '4bf3006e729d28b9')}" for k in ("instances", "mdc")
    ]


def test_listening_ports_are_read_from_the_live_process() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert server.getsockname()[1] in listening_ports(os.getpid())
    assert listening_ports(2**22 + 12345) == frozenset()  # no such process
