# KEDA: turns the ScaledObjects in k8s/keda into HPAs on the DGD scaling adapters.

resource "helm_release" "keda" {
  name       = "keda"
  repository = "https://kedacore.github.io/charts"
  chart      = "keda"
  version    = "2.18.0"
  namespace  = kubernetes_namespace_v1.this["keda"].metadata[0].name
  timeout    = 600

  values = [file("${path.module}/values/keda.yaml")]
}
