"""Deploy glue for DigitalOcean: kustomize composition, preflight, re-deploys, profiling."""
