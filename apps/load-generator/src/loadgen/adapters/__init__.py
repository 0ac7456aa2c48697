"""Adapters of the scenario controller's ports: Kubernetes, local stack, Prometheus, local KEDA."""
