"""Cross-references between files: names, labels, ports, block sizes, queries, budgets."""

from __future__ import annotations

import re

import pytest
import yaml
from deploy_helpers import (
    ADAPTERS,
    BLOCK_SIZE,
    DGD_NAME,
    GPUS,
    K8S,
    LOADGEN_METRICS,
    NAMESPACE,
    SCALED_OBJECTS,
    SERVED_MODEL,
    components_of,
    dgd,
    main_container,
    one,
    rendered,
    resolve,
    tf_locals,
    tf_named,
    tf_resources,
    unquote,
)
from deploykit.checks import flag_value, metric_names

ENVS = ("dev", "prod")
# Dynamo 1.6 frontend metric families (docs/contracts.md); they carry no dynamo_namespace.
DYNAMO_METRICS = re.compile(r"^dynamo_(frontend|component)_[a-z_]+$")


def walk_key(node, key):
    """Every value stored under `key` anywhere in a nested structure."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from walk_key(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from walk_key(item, key)


def services(env):
    return components_of(dgd(env))


def main_args(component):
    return [str(a) for a in main_container(component)["args"]]


def scaled_objects(env):
    return [o for o in rendered(f"keda/overlays/{env}") if o["kind"] == "ScaledObject"]


def loadgen(env):
    return one(rendered(f"load-generator/overlays/{env}"), "Deployment", "gtc-demo-loadgen")


def loadgen_env(env):
    (container,) = loadgen(env)["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container["env"]}


@pytest.mark.parametrize("env", ENVS)
def test_adapter_names_are_dgd_name_plus_lowercased_component_names(env):
    graph = dgd(env)
    with_adapter = {
        name: c for name, c in services(env).items() if c.get("scalingAdapter", {}).get("enabled")
    }
    derived = {f"{graph['metadata']['name']}-{name.lower()}": c for name, c in with_adapter.items()}
    assert set(derived) == set(ADAPTERS.values())
    pools = {c["type"]: name for name, c in derived.items()}
    assert pools == ADAPTERS
    assert "scalingAdapter" not in services(env)["Frontend"]


@pytest.mark.parametrize("env", ENVS)
def test_keda_targets_the_adapters_one_scaledobject_per_pool(env):
    targets = {}
    for so in scaled_objects(env):
        ref = so["spec"]["scaleTargetRef"]
        # KEDA only needs a served version with the scale subresource: Dynamo 1.6.x serves the
        # adapters as v1alpha1 and v1beta1 (the load generator reads them at v1alpha1 too).
        assert ref["apiVersion"] in {"nvidia.com/v1alpha1", "nvidia.com/v1beta1"}
        assert ref["kind"] == "DynamoGraphDeploymentScalingAdapter"
        targets[so["metadata"]["name"]] = ref["name"]
    assert targets == {SCALED_OBJECTS[p]: ADAPTERS[p] for p in ADAPTERS}


@pytest.mark.parametrize("env", ENVS)
def test_loadgen_env_rbac_and_keda_name_the_same_objects(env):
    values = {k: v.get("value") for k, v in loadgen_env(env).items()}
    assert values["LOADGEN_PREFILL_SCALING_ADAPTER"] == ADAPTERS["prefill"]
    assert values["LOADGEN_DECODE_SCALING_ADAPTER"] == ADAPTERS["decode"]
    assert values["LOADGEN_PREFILL_SCALEDOBJECT"] == SCALED_OBJECTS["prefill"]
    assert values["LOADGEN_DECODE_SCALEDOBJECT"] == SCALED_OBJECTS["decode"]
    role = one(rendered(f"load-generator/overlays/{env}"), "Role")
    by_resource = {}
    for rule in role["rules"]:
        assert rule.get("resourceNames"), "every rule must be limited to named objects"
        assert set(rule["verbs"]) <= {"get", "patch"}
        for resource in rule["resources"]:
            by_resource[resource] = (set(rule["resourceNames"]), set(rule["verbs"]))
    adapters = set(ADAPTERS.values())
    assert by_resource["dynamographdeploymentscalingadapters/scale"] == (adapters, {"get", "patch"})
    assert by_resource["scaledobjects"] == (set(SCALED_OBJECTS.values()), {"get", "patch"})
    assert set(by_resource) == {
        "dynamographdeploymentscalingadapters/scale",
        "dynamographdeploymentscalingadapters",
        "scaledobjects",
    }
    binding = one(rendered(f"load-generator/overlays/{env}"), "RoleBinding")
    spec = loadgen(env)["spec"]["template"]["spec"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"][0]["name"] == spec["serviceAccountName"]


@pytest.mark.parametrize("env", ENVS)
def test_block_size_agrees_between_frontend_workers_engines_and_contract(env):
    svcs = services(env)
    assert flag_value(main_args(svcs["Frontend"]), "--kv-cache-block-size") == str(BLOCK_SIZE)
    for name in ("TRTLLMPrefillWorker", "TRTLLMDecodeWorker"):
        assert flag_value(main_args(svcs[name]), "--kv-block-size") == str(BLOCK_SIZE), name
    configs = one(rendered(f"dynamo/overlays/{env}"), "ConfigMap", "gtc-demo-engine-configs")
    for key, text in configs["data"].items():
        engine = yaml.safe_load(text)
        # Written out, not left to TRT-LLM's default (which a new release may change).
        assert engine["kv_cache_config"]["tokens_per_block"] == BLOCK_SIZE, key
        assert "tokens_per_block" not in engine, f"{key}: it belongs in kv_cache_config"
        assert engine["kv_cache_config"]["dtype"] == "fp8"
        assert engine["cache_transceiver_config"]["backend"] in {"UCX", "NIXL"}
        assert engine["enable_chunked_prefill"] is True
        assert 0 < engine["kv_cache_config"]["free_gpu_memory_fraction"] < 1
    assert yaml.safe_load(configs["data"]["prefill.yaml"])["disable_overlap_scheduler"] is True


@pytest.mark.parametrize("env", ENVS)
def test_workers_engine_config_paths_and_disaggregation_modes(env):
    svcs = services(env)
    volume_configmaps = set()
    for name, mode in (("TRTLLMPrefillWorker", "prefill"), ("TRTLLMDecodeWorker", "decode")):
        svc = svcs[name]
        args = main_args(svc)
        assert svc["type"] == mode
        assert flag_value(args, "--disaggregation-mode") == mode
        assert flag_value(args, "--extra-engine-args") == f"/engine-configs/{mode}.yaml"
        assert "--publish-kv-events" in args, "the KV router needs the workers' KV events"
        mounts = main_container(svc)["volumeMounts"]
        mount = next(m for m in mounts if m["mountPath"] == "/engine-configs")
        pod = svc["podTemplate"]["spec"]
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        volume_configmaps.add(volume["configMap"]["name"])
    assert volume_configmaps == {"gtc-demo-engine-configs"}
    assert flag_value(main_args(svcs["Frontend"]), "--router-mode") == "kv"


@pytest.mark.parametrize("env", ENVS)
def test_gpu_workers_request_one_gpu_tolerate_the_taint_and_use_the_nvidia_runtime(env):
    runtime_class = tf_resources("cluster-config", "kubernetes_runtime_class_v1")["nvidia"]
    runtime_name = unquote(runtime_class["metadata"][0]["name"])
    for name in ("TRTLLMPrefillWorker", "TRTLLMDecodeWorker"):
        svc = services(env)[name]
        resources = main_container(svc)["resources"]
        assert (
            resources["limits"]["nvidia.com/gpu"] == "1" == resources["requests"]["nvidia.com/gpu"]
        )
        pod = svc["podTemplate"]["spec"]
        assert pod["runtimeClassName"] == runtime_name == "nvidia"
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
            "tolerations"
        ]


@pytest.mark.parametrize("env", ENVS)
def test_the_kai_queue_the_dgd_names_is_the_queue_stack_two_creates(env):
    """The operator reads the queue from the DGD annotation (default "dynamo"), refuses the graph
    when the queue is missing and overwrites the pods' kai.scheduler/queue label with it."""
    queue = tf_locals("cluster-config")["kai_queue_name"]
    annotations = dgd(env)["metadata"]["annotations"]
    assert annotations["nvidia.com/kai-scheduler-queue"] == queue
    assert queue != "dynamo", "the operator's default; name the queue explicitly"
    release = tf_resources("cluster-config", "helm_release")["kai_queues"]
    assert "queueName = local.kai_queue_name" in str(release["values"]).replace('"', "")
    assert "var.kai_scheduler_enabled" in str(release["count"])
    for component in services(env).values():
        labels = component["podTemplate"].get("metadata", {}).get("labels", {})
        assert "kai.scheduler/queue" not in labels, "the operator owns this label"


@pytest.mark.parametrize("env", ENVS)
def test_starting_layout_and_keda_bounds_fit_the_gpus(env):
    replicas = {
        p: services(env)[n]["replicas"]
        for p, n in (("prefill", "TRTLLMPrefillWorker"), ("decode", "TRTLLMDecodeWorker"))
    }
    assert replicas == (
        {"prefill": 1, "decode": 1} if env == "dev" else {"prefill": 2, "decode": 3}
    )
    assert sum(replicas.values()) <= GPUS[env]
    bounds = {so["spec"]["scaleTargetRef"]["name"]: so["spec"] for so in scaled_objects(env)}
    for pool, count in replicas.items():
        spec = bounds[ADAPTERS[pool]]
        assert 1 <= spec["minReplicaCount"] <= count <= spec["maxReplicaCount"], pool
        assert spec["maxReplicaCount"] <= count + GPUS[env] - sum(replicas.values()), pool
    if env == "prod":
        assert sum(s["maxReplicaCount"] for s in bounds.values()) <= GPUS[env]


@pytest.mark.parametrize("env", ENVS)
def test_keda_queries_use_known_metrics_and_no_dynamo_namespace(env):
    for so in scaled_objects(env):
        for trigger in so["spec"]["triggers"]:
            query = trigger["metadata"]["query"]
            assert "dynamo_namespace" not in query
            for metric in metric_names(query):
                family = re.sub(r"_(bucket|sum|count)$", "", metric)
                assert family in LOADGEN_METRICS or DYNAMO_METRICS.match(family), metric
            for match in re.finditer(r"histogram_quantile\([^,]+,(.*?)\)\)", query, re.S):
                assert "_bucket" in match.group(1)
            assert "or vector(0)" in query, "no traffic must read as 0, not as a KEDA error"


@pytest.mark.parametrize("env", ENVS)
def test_prefill_scales_on_ttft_and_decode_on_itl_relative_to_each_workloads_slo(env):
    queries = {
        so["metadata"]["name"]: so["spec"]["triggers"][0]["metadata"]["query"]
        for so in scaled_objects(env)
    }
    prefill, decode = queries[SCALED_OBJECTS["prefill"]], queries[SCALED_OBJECTS["decode"]]
    assert "loadgen_ttft_seconds_bucket" in prefill
    assert "loadgen_slo_ttft_seconds" in prefill
    assert "loadgen_itl_seconds_bucket" in decode
    assert "loadgen_slo_itl_seconds" in decode
    for query in (prefill, decode):
        assert "by (workload, le)" in query
        assert "on (workload)" in query


@pytest.mark.parametrize("env", ENVS)
def test_hpa_behaviour_is_set_deliberately(env):
    for so in scaled_objects(env):
        spec = so["spec"]
        behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        up, down = behavior["scaleUp"], behavior["scaleDown"]
        assert up["stabilizationWindowSeconds"] < down["stabilizationWindowSeconds"]
        assert down["stabilizationWindowSeconds"] >= 300, "a 70B worker costs minutes to bring back"
        assert all(p["type"] == "Pods" for p in up["policies"] + down["policies"])
        trigger = spec["triggers"][0]
        assert trigger["metricType"] == "Value", "latency ratios must not be divided by replicas"
        assert float(trigger["metadata"]["threshold"]) < 1.0, "act before the SLO is breached"
        assert spec["minReplicaCount"] >= 1


def test_keda_base_holds_one_plain_scaledobject_per_file():
    files = sorted((K8S / "keda/base").glob("scaledobject-*.yaml"))
    names = []
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
        assert len(docs) == 1, path
        assert docs[0]["kind"] == "ScaledObject", path
        names.append(docs[0]["metadata"]["name"])
    assert sorted(names) == sorted(SCALED_OBJECTS.values())


def test_prometheus_address_in_keda_and_loadgen_is_the_terraform_release():
    url = resolve(tf_locals("cluster-config")["prometheus_url"], "cluster-config")
    url = url.replace("${local.namespaces.monitoring}", "monitoring")
    release = tf_resources("cluster-config", "helm_release")["kube_prometheus_stack"]
    assert resolve(unquote(release["name"]), "cluster-config") == "kube-prometheus-stack"
    assert url == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    for env in ENVS:
        for so in scaled_objects(env):
            assert so["spec"]["triggers"][0]["metadata"]["serverAddress"] == url
        assert loadgen_env(env)["LOADGEN_PROMETHEUS_URL"]["value"] == url


@pytest.mark.parametrize("env", ENVS)
def test_monitors_select_the_labels_and_ports_that_exist(env):
    objects = rendered(f"load-generator/overlays/{env}")
    service = one(objects, "Service", "gtc-demo-loadgen")
    monitor = one(objects, "ServiceMonitor")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    public = one(objects, "Service", "gtc-demo-loadgen-public")
    assert (
        not monitor["spec"]["selector"]["matchLabels"].items()
        <= public["metadata"]["labels"].items()
    )
    port_names = {p["name"] for p in service["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= port_names
    (container,) = loadgen(env)["spec"]["template"]["spec"]["containers"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 3000}
    assert (
        service["spec"]["selector"].items()
        <= loadgen(env)["spec"]["template"]["metadata"]["labels"].items()
    )
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    # Dynamo operator conventions: frontend port "http", workers' port "system", pod labels.
    pods = {o["metadata"]["name"]: o for o in objects if o["kind"] == "PodMonitor"}
    frontend, workers = pods["gtc-demo-dynamo-frontend"], pods["gtc-demo-dynamo-workers"]
    assert (
        frontend["spec"]["selector"]["matchLabels"]["nvidia.com/dynamo-graph-deployment-name"]
        == DGD_NAME
    )
    assert (
        workers["spec"]["selector"]["matchLabels"]["nvidia.com/dynamo-graph-deployment-name"]
        == DGD_NAME
    )
    assert [e["port"] for e in frontend["spec"]["podMetricsEndpoints"]] == ["http"]
    assert [e["port"] for e in workers["spec"]["podMetricsEndpoints"]] == ["system"]


@pytest.mark.parametrize("env", ENVS)
def test_loadgen_reaches_the_frontend_the_dgd_creates(env):
    frontend = loadgen_env(env)["LOADGEN_ENDPOINT_URL"]["value"]
    port = flag_value(main_args(services(env)["Frontend"]), "--http-port")
    assert port == "8000"
    assert frontend == f"http://{DGD_NAME}-frontend:{port}"


@pytest.mark.parametrize("env", ENVS)
def test_model_config_is_shared_by_the_copy_job_the_workers_and_the_loadgen(env):
    config = one(rendered(f"model-cache/overlays/{env}"), "ConfigMap", "gtc-demo-model")["data"]
    assert config["SERVED_MODEL_NAME"] == SERVED_MODEL[env]
    assert config["MODEL_PATH"] == f"/models/{config['MODEL_DIR']}"
    assert config["SPACES_BUCKET"] == "do-gtc2026-doks-demo"
    assert config["SPACES_REGION"] == "atl1"
    graph = dgd(env)
    refs = {
        e["name"]: e["valueFrom"]["configMapKeyRef"]
        for e in graph["spec"]["env"]
        if "valueFrom" in e
    }
    assert refs["DYN_TRTLLM_MODEL"] == {"name": "gtc-demo-model", "key": "MODEL_PATH"}
    assert refs["DYN_TRTLLM_SERVED_MODEL_NAME"]["key"] == "SERVED_MODEL_NAME"
    assert (
        loadgen_env(env)["LOADGEN_MODEL"]["valueFrom"]["configMapKeyRef"]["name"]
        == "gtc-demo-model"
    )
    pvc = tf_resources("cluster-config", "kubernetes_persistent_volume_claim_v1")["model_cache"]
    claim = unquote(pvc["metadata"][0]["name"])
    for name, component in components_of(graph).items():
        pod = component["podTemplate"]["spec"]
        volume = next(v for v in pod["volumes"] if "persistentVolumeClaim" in v)
        assert volume["persistentVolumeClaim"]["claimName"] == claim, name
        mount = next(
            m for m in main_container(component)["volumeMounts"] if m["name"] == volume["name"]
        )
        assert mount == {"name": volume["name"], "mountPath": "/models", "readOnly": True}, name
    job = one(rendered(f"model-cache/overlays/{env}"), "Job")
    volumes = job["spec"]["template"]["spec"]["volumes"]
    assert {"name": "models", "persistentVolumeClaim": {"claimName": claim}} in volumes


@pytest.mark.parametrize("env", ENVS)
def test_every_secret_reference_is_a_secret_terraform_creates(env):
    created = {}
    for resource in tf_resources("cluster-config", "kubernetes_secret_v1").values():
        name = unquote(resource["metadata"][0]["name"])
        data = resource["data"]
        # A literal map, or a conditional expression whose keys appear as `KEY =`.
        keys = (
            set(data) if isinstance(data, dict) else set(re.findall(r"\b([A-Z][A-Z0-9_]+) =", data))
        )
        created[name] = keys
    refs = set()
    for overlay in (f"load-generator/overlays/{env}", f"model-cache/overlays/{env}"):
        for obj in rendered(overlay):
            refs |= {(r["key"], r["name"]) for r in walk_key(obj, "secretKeyRef")}
    for component in services(env).values():
        for source in main_container(component).get("envFrom", []):
            if "secretRef" in source:
                assert source["secretRef"]["name"] in created
    assert refs, "no secret references found (scanner broken?)"
    for key, name in refs:
        assert key in created.get(name, set()), f"{name}/{key} is not created by Terraform"


def test_namespace_and_dynamo_version_agree_with_terraform():
    variables = tf_named("cluster-config", "variable")
    assert unquote(variables["app_namespace"]["default"]) == NAMESPACE
    version = tf_locals("cluster-config")["dynamo_version"]
    for component in services("prod").values():
        image = main_container(component)["image"]
        assert image == f"nvcr.io/nvidia/ai-dynamo/tensorrtllm-runtime:{version}"


def test_aggregated_overlay_is_the_same_graph_without_disaggregation():
    """The aggregated baseline: 8 TRT-LLM workers, same image and block size, KV routing on."""
    objects = rendered("dynamo/overlays/prod-aggregated")
    graph = one(objects, "DynamoGraphDeployment", DGD_NAME)
    components = components_of(graph)
    assert set(components) == {"Frontend", "TRTLLMWorker"}
    worker = components["TRTLLMWorker"]
    assert worker["type"] == "worker"
    assert worker["replicas"] == GPUS["prod"] == 8
    assert worker["scalingAdapter"] == {"enabled": True}
    args = main_args(worker)
    assert "--disaggregation-mode" not in args
    assert flag_value(args, "--kv-block-size") == str(BLOCK_SIZE)
    assert "--publish-kv-events" in args, "the KV router needs the workers' KV events"
    disagg = services("prod")
    assert main_container(worker)["image"] == main_container(disagg["TRTLLMDecodeWorker"])["image"]
    assert components["Frontend"] == disagg["Frontend"], "same frontend: kv router, block 32"
    assert graph["metadata"]["annotations"] == dgd("prod")["metadata"]["annotations"]
    configs = one(objects, "ConfigMap", "gtc-demo-engine-configs")["data"]
    engine = yaml.safe_load(configs["agg.yaml"])
    assert engine["kv_cache_config"]["tokens_per_block"] == BLOCK_SIZE
    assert engine["kv_cache_config"]["dtype"] == "fp8"
    assert engine["kv_cache_config"]["enable_block_reuse"] is True
    assert engine["enable_chunked_prefill"] is True
    assert flag_value(args, "--extra-engine-args") == "/engine-configs/agg.yaml"
