# The NFS share of stack 1 as a ReadWriteMany volume: the model-cache Job fills it once,
# every worker mounts it read-only at /models (DGD spec.pvcs: model-cache).

resource "kubernetes_persistent_volume_v1" "model_cache" {
  metadata {
    name = "gtc-demo-model-cache-${var.env}"
  }
  spec {
    capacity                         = { storage = "${var.nfs_size_gib}Gi" }
    access_modes                     = ["ReadWriteMany"]
    persistent_volume_reclaim_policy = "Retain" # weights survive a teardown of stack 2
    storage_class_name               = ""
    mount_options                    = ["nfsvers=4.1", "nconnect=8"]
    persistent_volume_source {
      nfs {
        server = data.terraform_remote_state.infra.outputs.nfs_host
        path   = data.terraform_remote_state.infra.outputs.nfs_mount_path
      }
    }
  }
}

resource "kubernetes_persistent_volume_claim_v1" "model_cache" {
  metadata {
    name      = "model-cache"
    namespace = kubernetes_namespace_v1.this["app"].metadata[0].name
  }
  spec {
    access_modes       = ["ReadWriteMany"]
    storage_class_name = ""
    volume_name        = kubernetes_persistent_volume_v1.model_cache.metadata[0].name
    resources {
      requests = { storage = "${var.nfs_size_gib}Gi" }
    }
  }
}
