# Stack 1 (infra): providers and Terraform version. State is local (terraform.tfstate here).
terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.77" # digitalocean_nfs host/mount_path: 2.72; performance_tier: 2.77
    }
  }
}

# The token comes from DIGITALOCEAN_TOKEN / DIGITALOCEAN_ACCESS_TOKEN in the environment
# (make check-env verifies it); nothing secret is passed as a variable.
provider "digitalocean" {}
