"""The local stack's Prometheus config names the project's rules file (the live test then shows
Prometheus loaded and evaluated it)."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from demo_common.tools import find_tool
from demo_observability.paths import REPO_ROOT, RULES_FILE, rules_file
from localcluster.prometheus import prometheus_config, write_prometheus_config


def config(tmp_path: Path, **extra: object) -> dict[str, object]:
    return prometheus_config(
        frontend="127.0.0.1:1",
        control_api="127.0.0.1:2",
        extra_targets=["127.0.0.1:3"],
        targets_dir=tmp_path,
        scrape_interval_s=2.0,
        **extra,  # type: ignore[arg-type]
    )


def test_rules_file_is_in_the_written_config(tmp_path: Path) -> None:
    path = write_prometheus_config(tmp_path / "p.yml", config(tmp_path, rule_files=[rules_file()]))
    written = yaml.safe_load(path.read_text())
    assert written["rule_files"] == [str(RULES_FILE)]
    # Rules are evaluated as often as targets are scraped.
    assert written["global"]["evaluation_interval"] == written["global"]["scrape_interval"]


def test_without_rules_there_is_no_rule_files_key(tmp_path: Path) -> None:
    assert "rule_files" not in config(tmp_path)


@pytest.mark.integration  # builds a wheel (uv + hatchling, as `pip install` would)
def test_the_rules_ship_inside_the_package_wheel(tmp_path: Path) -> None:
    """The local stack loads the rules from the installed package, not from a checkout."""
    uv = find_tool("uv", "UV")
    subprocess.run(
        [uv, "build", "--wheel", "-q", "-o", str(tmp_path), str(REPO_ROOT / "observability")],
        check=True, timeout=240, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("demo_observability-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read(f"demo_observability/{RULES_FILE.name}").decode()
    assert shipped == RULES_FILE.read_text()
    assert rules_file() == RULES_FILE
