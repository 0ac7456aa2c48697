# Stack 1 (infra): VPC, DOKS cluster with registry integration, GPU node pool, NFS share for weights.

locals {
  tags = ["gtc-demo", "env-${var.env}"]
  # The label the GPU-only DaemonSets (dcgm-exporter) select on; stack 2 reads it from the outputs.
  gpu_pool_label = { "gtc-demo/pool" = "gpu" }
}

resource "digitalocean_vpc" "this" {
  name     = "${var.cluster_name}-${var.env}"
  region   = var.region
  ip_range = var.vpc_ip_range
}

resource "digitalocean_kubernetes_cluster" "this" {
  name                 = var.cluster_name
  region               = var.region
  version              = var.kubernetes_version
  vpc_uuid             = digitalocean_vpc.this.id
  registry_integration = true
  auto_upgrade         = false # a booth demo must not change under the presenter
  surge_upgrade        = true
  tags                 = local.tags

  maintenance_policy {
    day        = "sunday"
    start_time = "04:00"
  }

  node_pool {
    name       = "system"
    size       = var.system_node_size
    node_count = var.system_node_count
    labels     = { "gtc-demo/pool" = "system" }
    tags       = local.tags
  }
}

resource "digitalocean_kubernetes_node_pool" "gpu" {
  cluster_id = digitalocean_kubernetes_cluster.this.id
  name       = "gpu"
  size       = var.gpu_node_size
  node_count = var.gpu_node_count
  labels     = local.gpu_pool_label
  tags       = local.tags

  # DOKS taints GPU nodes this way; declaring it keeps plans stable and documents what
  # every GPU pod must tolerate (the DGD workers and dcgm-exporter do).
  taint {
    key    = "nvidia.com/gpu"
    value  = "true"
    effect = "NoSchedule"
  }
}

resource "digitalocean_nfs" "models" {
  name             = "${var.cluster_name}-models-${var.env}"
  region           = var.region
  size             = var.nfs_size_gib
  vpc_id           = digitalocean_vpc.this.id
  performance_tier = "high" # weights are read by every worker start (~70 GB for 70B FP8)
}
