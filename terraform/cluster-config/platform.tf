# Dynamo platform: CRDs (applied by the chart's CRD hook, the 1.x way; the separate dynamo-crds
# chart ended with 0.9), the operator with its admission webhook (it is what rejects direct DGD
# replica edits once a service has a scaling adapter), Grove and the KAI scheduler.

locals {
  gpus_per_droplet = {
    "gpu-h100x1-80gb"              = 1
    "gpu-h100x8-640gb"             = 8
    "gpu-h200x1-141gb"             = 1
    "gpu-h200x8-1128gb-contracted" = 8
  }
  total_gpus = var.gpu_node_count * local.gpus_per_droplet[var.gpu_node_size]
  # The queue the DGD names in its nvidia.com/kai-scheduler-queue annotation
  # (k8s/dynamo/base/dgd.yaml); the operator refuses the graph when it does not exist.
  kai_queue_name = "gtc-demo"
  dynamo_version = "1.6.1" # chart = operator = runtime image tag (k8s/dynamo uses the same)
}

resource "helm_release" "dynamo_platform" {
  name             = "dynamo-platform"
  repository       = "https://helm.ngc.nvidia.com/nvidia/ai-dynamo"
  chart            = "dynamo-platform"
  version          = local.dynamo_version
  namespace        = kubernetes_namespace_v1.this["dynamo"].metadata[0].name
  create_namespace = false
  timeout          = 900
  wait             = true

  values = [
    file("${path.module}/values/dynamo-platform.yaml"),
    yamlencode({
      global = {
        # One switch (kai_scheduler_enabled in environments/<env>.tfvars; make deploy-dynamo reads
        # the same line and drops the DGD's queue annotation when it is false).
        "kai-scheduler" = { install = var.kai_scheduler_enabled, enabled = var.kai_scheduler_enabled }
      }
      "dynamo-operator" = { dynamo = { metrics = { prometheusEndpoint = local.prometheus_url } } }
    }),
  ]

  depends_on = [helm_release.kube_prometheus_stack]
}

# The KAI queue the DGD's annotation names (the operator copies it into every pod's
# kai.scheduler/queue label) under a parent of the kit's own, both with a GPU quota of every
# GPU (KAI keeps non-preemptible workers within the quota of the queue and each parent).
resource "helm_release" "kai_queues" {
  count = var.kai_scheduler_enabled ? 1 : 0

  name      = "gtc-demo-kai-queues"
  chart     = "${path.module}/charts/kai-queues"
  version   = "0.2.0"
  namespace = kubernetes_namespace_v1.this["dynamo"].metadata[0].name

  values = [yamlencode({
    queueName = local.kai_queue_name
    gpuQuota  = local.total_gpus
  })]

  depends_on = [helm_release.dynamo_platform]
}
