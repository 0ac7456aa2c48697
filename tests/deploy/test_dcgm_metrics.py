"""dcgm-exporter ships the metrics the kit reads: the NVLink check needs DCP byte counters that
the chart's default list (upstream etc/default-counters.csv) does not have."""

from __future__ import annotations

import re
from pathlib import Path

from deploy_helpers import REPO, TERRAFORM, tf_resources, unquote
from deploykit.checks import NVLINK_TX, PCIE_TX

CSV = TERRAFORM / "cluster-config/values/dcgm-metrics.csv"
UPSTREAM_DEFAULTS = Path(__file__).parent / "fixtures/dcgm-exporter-default-counters.txt"
DCGM_NAME = re.compile(r"\bDCGM_FI_[A-Z0-9_]+\b")
# Where checks, dashboards, rules and manifests live; tests and docs only talk about names.
SCANNED = ("scripts", "k8s", "observability", "apps", "terraform")
SKIP_PARTS = {".venv", "node_modules", "__pycache__", ".terraform", "dist"}


def shipped() -> dict[str, str]:
    """Enabled fields of the shipped CSV -> Prometheus type."""
    fields = {}
    for line in CSV.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, kind, _help = (part.strip() for part in line.split(",", 2))
            fields[name] = kind
    return fields


def used_names() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for top in SCANNED:
        for path in (REPO / top).rglob("*"):
            if not path.is_file() or SKIP_PARTS & set(path.parts) or path == CSV:
                continue
            if path.suffix not in {".py", ".yaml", ".yml", ".json", ".tf", ".ts", ".tsx"}:
                continue
            for name in DCGM_NAME.findall(path.read_text(encoding="utf-8", errors="ignore")):
                found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return found


def test_the_chart_default_list_cannot_feed_the_nvlink_check():
    defaults = {
        line.strip()
        for line in UPSTREAM_DEFAULTS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert NVLINK_TX not in defaults, "if upstream added it, the custom list may be dropped"


def test_every_dcgm_metric_used_anywhere_is_in_the_shipped_csv():
    used = used_names()
    assert NVLINK_TX in used, "scanner broken: the preflight reads it"
    assert PCIE_TX in used, "scanner broken: the preflight reads it"
    missing = {name: sorted(paths) for name, paths in used.items() if name not in shipped()}
    assert not missing, missing


def test_csv_rows_are_well_formed_with_the_nvlink_byte_rates():
    fields = shipped()
    assert {k for k in fields.values()} <= {"gauge", "counter", "label"}
    assert fields[NVLINK_TX] == "gauge" == fields["DCGM_FI_PROF_NVLINK_RX_BYTES"]
    assert len(fields) == len(set(fields)), "a field listed twice"


def test_the_chart_gets_the_csv_as_custom_metrics_and_reads_the_mounted_file():
    release = tf_resources("cluster-config", "helm_release")["dcgm_exporter"]
    values = " ".join(str(unquote(v)) for v in release["values"])
    assert "customMetrics" in values
    assert "values/dcgm-metrics.csv" in values
    static = (TERRAFORM / "cluster-config/values/dcgm-exporter.yaml").read_text(encoding="utf-8")
    # The chart mounts its metrics ConfigMap (customMetrics) at this path.
    assert "/etc/dcgm-exporter/default-counters.csv" in static
    assert "dcp-metrics-included.csv" not in static.split("arguments:")[1]
