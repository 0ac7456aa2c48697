# Stack 2 outputs: names and addresses only (never a secret; tests/deploy checks this).

output "app_namespace" {
  description = "Namespace of the DGD, the ScaledObjects and the load generator."
  value       = kubernetes_namespace_v1.this["app"].metadata[0].name
}

output "prometheus_url" {
  description = "In-cluster Prometheus address (the KEDA triggers use it)."
  value       = local.prometheus_url
}

output "kai_queue" {
  description = "KAI queue the DGD names (null when KAI is switched off)."
  value       = var.kai_scheduler_enabled ? local.kai_queue_name : null
}

output "total_gpus" {
  description = "GPUs in the GPU pool (the KAI queue quota)."
  value       = local.total_gpus
}

output "model_cache_pvc" {
  description = "PVC with the model weights (NFS), mounted by the DGD workers."
  value       = kubernetes_persistent_volume_claim_v1.model_cache.metadata[0].name
}
