"""Deploy glue for DigitalOcean: kustomize composition, preflight, re-deploys, profile conversion."""
