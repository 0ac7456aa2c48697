# Secrets from env vars only (TF_VAR_*), one Secret per consumer so each pod sees only its own.
# Values live in the local state file (gitignored) and nowhere else; no output exposes them.

resource "kubernetes_secret_v1" "hf_token" {
  metadata {
    name      = "gtc-demo-hf-token"
    namespace = kubernetes_namespace_v1.this["app"].metadata[0].name
  }
  data = {
    HF_TOKEN = var.hf_token
  }
}

resource "kubernetes_secret_v1" "spaces" {
  metadata {
    name      = "gtc-demo-spaces"
    namespace = kubernetes_namespace_v1.this["app"].metadata[0].name
  }
  data = {
    AWS_ACCESS_KEY_ID     = var.spaces_access_key_id
    AWS_SECRET_ACCESS_KEY = var.spaces_secret_access_key
  }
}

resource "kubernetes_secret_v1" "gradient" {
  metadata {
    name      = "gtc-demo-gradient"
    namespace = kubernetes_namespace_v1.this["app"].metadata[0].name
  }
  data = {
    GRADIENT_API_KEY = var.gradient_api_key
  }
}

resource "kubernetes_secret_v1" "presenter" {
  metadata {
    name      = "gtc-demo-presenter"
    namespace = kubernetes_namespace_v1.this["app"].metadata[0].name
  }
  # An empty key is left out so the load generator generates and prints its own token.
  data = var.presenter_token == "" ? {} : { PRESENTER_TOKEN = var.presenter_token }
}

resource "random_password" "grafana_admin" {
  length  = 24
  special = false
}

resource "kubernetes_secret_v1" "grafana_admin" {
  metadata {
    name      = "grafana-admin"
    namespace = kubernetes_namespace_v1.this["monitoring"].metadata[0].name
  }
  data = {
    admin-user     = "admin"
    admin-password = random_password.grafana_admin.result
  }
}
