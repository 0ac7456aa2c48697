"""Files the app reads from the checkout are found from the package, not the working directory:
`loadgen` started outside the repo root still finds the KEDA manifests, the UI build folder and
the recorded comparisons, or says which setting to give (a one-line error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadgen.adapters.keda_manifests import scaled_objects
from loadgen.api.routes.comparison import newest
from loadgen.errors import ConfigError
from loadgen.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # not the repo root
    for name in ("LOADGEN_KEDA_DIR", "LOADGEN_UI_DIR", "LOADGEN_COMPARISON_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_the_local_keda_reads_the_repos_manifests_from_anywhere() -> None:
    settings = Settings()
    assert settings.keda_dir == REPO / "k8s" / "keda"
    assert set(scaled_objects(settings.keda_dir, "prod")) == {"gtc-demo-prefill", "gtc-demo-decode"}


def test_the_ui_build_folder_is_the_apps_own() -> None:
    assert Settings().ui_dir == REPO / "apps" / "load-generator" / "ui" / "dist"


def test_the_newest_recorded_comparison_is_found_from_anywhere() -> None:
    recorded = sorted(REPO.glob("benchmarks/records/*/compare/comparison.json"))
    assert recorded, "the repo keeps at least one comparison record"
    assert newest(None) == recorded[-1].parent


def test_a_missing_keda_folder_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^keda_dir: no KEDA overlay .*LOADGEN_KEDA_DIR"):
        scaled_objects(tmp_path / "k8s" / "keda", "prod")
