# Stack 1 (infra) inputs. Per-environment values live in ../environments/<env>.tfvars.

variable "env" {
  type        = string
  description = "Environment name: dev (3x H100, 8B) or prod (1x 8xH200, 70B)."
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env must be dev or prod."
  }
}

variable "region" {
  type        = string
  description = "DigitalOcean region of the cluster, the NFS share and the Spaces bucket."
  default     = "atl1"
}

variable "cluster_name" {
  type        = string
  description = "DOKS cluster name; kubeconfig context becomes do-<region>-<cluster_name>."
  default     = "gtc-demo"
}

variable "kubernetes_version" {
  type        = string
  description = "Exact DOKS version slug: the one the team ran the demo on (a prefix would drift to whatever patch DigitalOcean offers on the day)."
  default     = "1.34.1-do.3"
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+-do\\.[0-9]+$", var.kubernetes_version))
    error_message = "kubernetes_version must be an exact DOKS slug such as 1.34.1-do.3."
  }
}

variable "vpc_ip_range" {
  type        = string
  description = "Private CIDR of the demo VPC."
  default     = "10.118.0.0/20"
}

variable "system_node_size" {
  type        = string
  description = "Droplet size of the CPU pool (operators, Prometheus, Grafana, KEDA, load generator)."
  default     = "s-8vcpu-16gb"
}

variable "system_node_count" {
  type        = number
  description = "Number of CPU nodes."
  default     = 2
}

variable "gpu_node_size" {
  type        = string
  description = "Droplet size of the GPU pool."
}

variable "gpu_node_count" {
  type        = number
  description = "Number of GPU nodes."
  validation {
    condition     = var.gpu_node_count >= 1
    error_message = "At least one GPU node is needed."
  }
}

variable "nfs_size_gib" {
  type        = number
  description = "Size of the NFS share holding the model weights (GiB, minimum 50)."
  validation {
    condition     = var.nfs_size_gib >= 50
    error_message = "DigitalOcean NFS shares are at least 50 GiB."
  }
}
