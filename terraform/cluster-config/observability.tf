# kube-prometheus-stack (Prometheus + Grafana with the dashboard sidecar) and dcgm-exporter.

locals {
  prometheus_release = "kube-prometheus-stack"
  # fullnameOverride = release name, so the Prometheus Service is "<release>-prometheus";
  # k8s/keda/base/*.yaml point at exactly this address (checked by tests/deploy).
  prometheus_url = "http://${local.prometheus_release}-prometheus.${local.namespaces.monitoring}.svc:9090"
}

resource "helm_release" "kube_prometheus_stack" {
  name       = local.prometheus_release
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "kube-prometheus-stack"
  version    = "77.0.0"
  namespace  = kubernetes_namespace_v1.this["monitoring"].metadata[0].name
  timeout    = 900

  values = [
    file("${path.module}/values/kube-prometheus-stack.yaml"),
    yamlencode({
      fullnameOverride = local.prometheus_release
      # The chart renders each entry as a PrometheusRule (selected: ruleSelectorNilUsesHelmValues
      # is false); the same groups the local stack's Prometheus loads (dashboards.tf).
      additionalPrometheusRulesMap = {
        "gtc-demo-slo" = yamldecode(file(local.recording_rules_file))
      }
      grafana = {
        admin = {
          existingSecret = kubernetes_secret_v1.grafana_admin.metadata[0].name
          userKey        = "admin-user"
          passwordKey    = "admin-password"
        }
      }
    }),
  ]
}

resource "helm_release" "dcgm_exporter" {
  name       = "dcgm-exporter"
  repository = "https://nvidia.github.io/dcgm-exporter/helm-charts"
  chart      = "dcgm-exporter"
  version    = "4.8.2" # newest in NVIDIA's index (gh-pages helm-charts/index.yaml, 2026-05-05)
  namespace  = kubernetes_namespace_v1.this["monitoring"].metadata[0].name

  values = [
    file("${path.module}/values/dcgm-exporter.yaml"),
    yamlencode({
      nodeSelector  = data.terraform_remote_state.infra.outputs.gpu_pool_labels
      customMetrics = file("${path.module}/values/dcgm-metrics.csv")
    }),
  ]

  depends_on = [helm_release.kube_prometheus_stack, kubernetes_runtime_class_v1.nvidia]
}
