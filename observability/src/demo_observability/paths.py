"""Where the observability files live. The recording rules are package data (the local stack's
Prometheus loads them wherever the package is installed); the dashboards and the KEDA manifests
the generator reads are in the repository (generating them is checkout work).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from demo_observability.errors import ObservabilityError

# observability/src/demo_observability/paths.py -> observability/ (the generator's checkout)
OBSERVABILITY_DIR = Path(__file__).resolve().parents[2]
REPO_ROOT = OBSERVABILITY_DIR.parent
DASHBOARDS_DIR = OBSERVABILITY_DIR / "dashboards"
KEDA_BASE_DIR = REPO_ROOT / "k8s" / "keda" / "base"
RULES_NAME = "gtc-demo.rules.yaml"
# Inside the package; observability/rules/ holds a symlink to it for Terraform.
RULES_FILE = Path(__file__).resolve().parent / RULES_NAME


def rules_file() -> Path:
    """The recording rules the local Prometheus loads (the cluster gets the same groups)."""
    packaged = resources.files("demo_observability") / RULES_NAME
    if not packaged.is_file():
        raise ObservabilityError(f"recording rules missing from the installed package: {packaged}")
    return Path(str(packaged))
