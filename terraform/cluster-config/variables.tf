# Stack 2 (cluster-config) inputs. Secrets come only from TF_VAR_* environment variables that
# the Makefile maps from the documented env vars; they are sensitive and never output.

variable "env" {
  type        = string
  description = "Environment name: dev or prod."
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env must be dev or prod."
  }
}

variable "gpu_node_size" {
  type        = string
  description = "GPU droplet size (sets the GPU quota of the KAI queue)."
}

variable "gpu_node_count" {
  type        = number
  description = "Number of GPU droplets (sets the GPU quota of the KAI queue)."
}

variable "nfs_size_gib" {
  type        = number
  description = "Size of the NFS share (capacity of the model-cache PersistentVolume)."
}

variable "kai_scheduler_enabled" {
  type        = bool
  description = "Install KAI (gang scheduling with Grove) and create the DGD's queue; false = default scheduler (the team saw pods stay SchedulingGated on DOKS)."
  default     = true
}

variable "infra_state_path" {
  type        = string
  description = "Local state file of stack 1, read for the cluster name and the NFS export."
  default     = "../infra/terraform.tfstate"
}

variable "app_namespace" {
  type        = string
  description = "Namespace of the DGD, the ScaledObjects and the load generator."
  default     = "gtc-demo"
}

variable "hf_token" {
  type        = string
  description = "Hugging Face token (env HF_TOKEN), for gated Llama weights."
  sensitive   = true
}

variable "spaces_access_key_id" {
  type        = string
  description = "Spaces access key id (env SPACES_ACCESS_KEY_ID), read by the model-cache Job and the load generator."
  sensitive   = true
}

variable "spaces_secret_access_key" {
  type        = string
  description = "Spaces secret key (env SPACES_SECRET_ACCESS_KEY)."
  sensitive   = true
}

variable "gradient_api_key" {
  type        = string
  description = "DigitalOcean Serverless Inference key (env GRADIENT_API_KEY) for follow-up questions."
  sensitive   = true
}

variable "presenter_token" {
  type        = string
  description = "Bearer token for the load generator's mutating routes (env PRESENTER_TOKEN); empty = generated."
  sensitive   = true
  default     = ""
}
