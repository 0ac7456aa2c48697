# Stack 2 finds the cluster through stack 1's local state and the cluster's name (data source).

data "terraform_remote_state" "infra" {
  backend = "local"
  config = {
    path = var.infra_state_path
  }
}

data "digitalocean_kubernetes_cluster" "this" {
  name = data.terraform_remote_state.infra.outputs.cluster_name
}

locals {
  kube_host  = data.digitalocean_kubernetes_cluster.this.endpoint
  kube_token = data.digitalocean_kubernetes_cluster.this.kube_config[0].token
  kube_ca    = base64decode(data.digitalocean_kubernetes_cluster.this.kube_config[0].cluster_ca_certificate)
}

# Token from DIGITALOCEAN_TOKEN / DIGITALOCEAN_ACCESS_TOKEN in the environment.
provider "digitalocean" {}

provider "kubernetes" {
  host                   = local.kube_host
  token                  = local.kube_token
  cluster_ca_certificate = local.kube_ca
}

provider "helm" {
  kubernetes = {
    host                   = local.kube_host
    token                  = local.kube_token
    cluster_ca_certificate = local.kube_ca
  }
}
