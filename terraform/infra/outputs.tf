# Stack 1 outputs: only what stack 2 needs; no credentials (kubeconfig is fetched with doctl).

output "cluster_name" {
  description = "DOKS cluster name (stack 2 looks the cluster up by it)."
  value       = digitalocean_kubernetes_cluster.this.name
}

output "cluster_id" {
  description = "DOKS cluster id."
  value       = digitalocean_kubernetes_cluster.this.id
}

output "region" {
  description = "Region of the cluster and the NFS share."
  value       = var.region
}

output "vpc_id" {
  description = "VPC of the cluster and the NFS share."
  value       = digitalocean_vpc.this.id
}

output "nfs_host" {
  description = "NFS server address inside the VPC."
  value       = digitalocean_nfs.models.host
}

output "nfs_mount_path" {
  description = "Export path of the NFS share."
  value       = digitalocean_nfs.models.mount_path
}

output "gpu_pool_labels" {
  description = "Node labels of the GPU pool."
  value       = local.gpu_pool_label
}
