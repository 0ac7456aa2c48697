"""The Kubernetes adapter against upstream's API contract: paths, bodies, versions, retries."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from demo_testing.kube_api import MERGE_PATCH, KubeContractServer
from loadgen.adapters.kubernetes import PAUSED_ANNOTATION, PAUSED_REPLICAS_ANNOTATION
from loadgen.errors import ScaleRejected, ScalerUnavailable

from .conftest import kube_scaler

pytestmark = pytest.mark.integration  # a real HTTP server on a socket

DECODE_SCALE = (
    "/apis/nvidia.com/v1alpha1/namespaces/gtc-demo/"
    "dynamographdeploymentscalingadapters/gtc-demo-trtllmdecodeworker/scale"
)


async def test_scale_is_one_merge_patch_of_spec_replicas_on_the_scale_subresource(
    kube_server: KubeContractServer,
) -> None:
    await kube_scaler(kube_server).scale("decode", 4)
    (write,) = kube_server.writes()
    assert (write.method, write.path, write.content_type) == ("PATCH", DECODE_SCALE, MERGE_PATCH)
    assert write.body == {"spec": {"replicas": 4}}
    assert kube_server.replicas("gtc-demo-trtllmdecodeworker") == (4, 4)
    # Never the DGD itself (its webhook rejects replica edits while adapters are on).
    assert not any("/dynamographdeployments/" in r.path for r in kube_server.requests)


async def test_pause_and_resume_patch_only_the_keda_annotation(
    kube_server: KubeContractServer,
) -> None:
    scaler = kube_scaler(kube_server)
    await scaler.set_autoscaling_paused(True)
    bodies = {r.path.rsplit("/", 1)[1]: r.body for r in kube_server.writes()}
    expected = {"metadata": {"annotations": {PAUSED_ANNOTATION: "true"}}}
    assert bodies == {"gtc-demo-prefill": expected, "gtc-demo-decode": expected}
    assert all(r.content_type == MERGE_PATCH for r in kube_server.writes())
    assert kube_server.annotations("gtc-demo-decode") == {PAUSED_ANNOTATION: "true"}
    await scaler.set_autoscaling_paused(False)
    assert kube_server.annotations("gtc-demo-prefill") == {PAUSED_ANNOTATION: "false"}


async def test_resume_also_lifts_a_paused_replicas_annotation(
    kube_server: KubeContractServer,
) -> None:
    kube_server.set_annotation("gtc-demo-decode", PAUSED_REPLICAS_ANNOTATION, "2")
    scaler = kube_scaler(kube_server)
    assert await scaler.autoscaling_paused() is True  # KEDA pauses on that annotation too
    await scaler.set_autoscaling_paused(False)
    # paused was never set (absent = not paused): only the paused-replicas one goes.
    assert kube_server.annotations("gtc-demo-decode") == {}
    assert await scaler.autoscaling_paused() is False


@pytest.mark.parametrize("fault", [409, 429, 500, 503])
async def test_retryable_statuses_are_retried(kube_server: KubeContractServer, fault: Any) -> None:
    kube_server.inject(fault, times=2, method="PATCH")
    kube_server.inject(fault, times=1, method="GET")
    await kube_scaler(kube_server).scale("prefill", 3)
    assert kube_server.replicas("gtc-demo-trtllmprefillworker") == (3, 3)
    assert len(kube_server.writes()) == 3  # two failed + one applied


async def test_a_timed_out_patch_is_retried_and_applied_once(
    kube_server: KubeContractServer,
) -> None:
    # The server applies the change but answers after the client's 0.5 s timeout.
    kube_server.inject("timeout", times=1, method="PATCH")
    await kube_scaler(kube_server).scale("decode", 2)
    assert kube_server.replicas("gtc-demo-trtllmdecodeworker") == (2, 2)
    generation = kube_server._objects[("dgdsa", "gtc-demo-trtllmdecodeworker")]["metadata"]
    assert generation["generation"] == 2  # one change, though two PATCHes arrived


async def test_persistent_failure_gives_up_with_scaler_unavailable(
    kube_server: KubeContractServer,
) -> None:
    kube_server.inject(503, times=100)
    with pytest.raises(ScalerUnavailable, match="gave up after 4 attempts"):
        await kube_scaler(kube_server).state()
    assert len(kube_server.requests) == 4


async def test_the_api_version_is_one_setting() -> None:
    server = KubeContractServer(served_dgdsa_versions=("v1beta1",))
    with server.running():
        with pytest.raises(ScaleRejected, match="HTTP 404"):
            await kube_scaler(server).state()
        assert len(server.requests) == 1  # a 4xx is not retried
        scaler = kube_scaler(server, version="v1beta1")
        await scaler.scale("prefill", 1)
        assert server.writes()[0].path.startswith("/apis/nvidia.com/v1beta1/")
    assert server.violations == []


async def test_status_lag_shows_as_starting() -> None:
    server = KubeContractServer(auto_sync=False)
    with server.running():
        scaler = kube_scaler(server)
        await scaler.scale("decode", 4)
        decode = (await scaler.state()).pools["decode"]
        assert (decode.desired, decode.ready, decode.starting) == (4, 3, 1)
        server.operator_sync("gtc-demo-trtllmdecodeworker")
        decode = (await scaler.state()).pools["decode"]
        assert (decode.desired, decode.ready, decode.starting) == (4, 4, 0)


async def test_a_wrong_token_is_rejected_not_retried() -> None:
    server = KubeContractServer()
    with server.running():
        scaler = kube_scaler(server)
        server.token = "another-token"
        with pytest.raises(ScaleRejected, match="HTTP 401"):
            await scaler.state()
    assert server.violations == [f"GET {server.requests[0].path}: missing or wrong bearer token"]


def _patch(server: KubeContractServer, path: str, body: Any, content_type: str) -> int:
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Content-Type": content_type, "Authorization": f"Bearer {server.token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


SO = "/apis/keda.sh/v1alpha1/namespaces/gtc-demo/scaledobjects/gtc-demo-prefill"


@pytest.mark.parametrize(
    ("path", "body", "content_type", "code"),
    [
        (DECODE_SCALE, {"spec": {"replicas": 2}}, "application/strategic-merge-patch+json", 415),
        (DECODE_SCALE, {"spec": {"replicas": -1}}, MERGE_PATCH, 422),
        (DECODE_SCALE, {"spec": {"replicas": "2"}}, MERGE_PATCH, 422),
        (DECODE_SCALE, {"spec": {"replicas": 2}, "status": {"replicas": 2}}, MERGE_PATCH, 422),
        (SO, {"metadata": {"annotations": {PAUSED_ANNOTATION: True}}}, MERGE_PATCH, 400),
        (SO, {"metadata": {"annotations": {"other": "x"}}}, MERGE_PATCH, 422),
        (SO, {"spec": {"minReplicaCount": 0}}, MERGE_PATCH, 422),
        (
            "/apis/nvidia.com/v1alpha1/namespaces/gtc-demo/dynamographdeployments/gtc-demo",
            {"spec": {}},
            MERGE_PATCH,
            403,
        ),
    ],
)
def test_the_contract_server_rejects_what_upstream_or_the_rbac_would(
    path: str, body: Any, content_type: str, code: int
) -> None:
    server = KubeContractServer()
    with server.running():
        assert _patch(server, path, body, content_type) == code
    assert len(server.violations) == 1
    assert server.replicas("gtc-demo-trtllmdecodeworker") == (3, 3)
    assert server.annotations("gtc-demo-prefill") == {}
