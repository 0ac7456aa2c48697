"""Deploy glue for DigitalOcean: a kustomize-subset renderer and the live-cluster preflight."""
