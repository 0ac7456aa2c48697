# Namespaces and the RuntimeClass, applied before anything that lives in them.

locals {
  namespaces = {
    app        = var.app_namespace
    dynamo     = "dynamo-system"
    monitoring = "monitoring"
    keda       = "keda"
  }
}

resource "kubernetes_namespace_v1" "this" {
  for_each = local.namespaces

  metadata {
    name   = each.value
    labels = { "app.kubernetes.io/part-of" = "gtc-demo" }
  }
}

# GPU pods select the NVIDIA container runtime through this RuntimeClass (runtimeClassName: nvidia).
resource "kubernetes_runtime_class_v1" "nvidia" {
  metadata {
    name = "nvidia"
  }
  handler = "nvidia"
}
