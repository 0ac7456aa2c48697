"""Where the generated files live in the repository (the package is used from a checkout)."""

from __future__ import annotations

from pathlib import Path

from demo_observability.errors import ObservabilityError

# observability/src/demo_observability/paths.py -> observability/
OBSERVABILITY_DIR = Path(__file__).resolve().parents[2]
REPO_ROOT = OBSERVABILITY_DIR.parent
DASHBOARDS_DIR = OBSERVABILITY_DIR / "dashboards"
RULES_DIR = OBSERVABILITY_DIR / "rules"
RULES_FILE = RULES_DIR / "gtc-demo.rules.yaml"
KEDA_BASE_DIR = REPO_ROOT / "k8s" / "keda" / "base"


def rules_file() -> Path:
    """The recording rules the local Prometheus loads (the cluster gets the same groups)."""
    if not RULES_FILE.is_file():
        raise ObservabilityError(
            f"recording rules not found at {RULES_FILE}: run `make dashboards` from a checkout"
        )
    return RULES_FILE
