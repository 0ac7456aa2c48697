"""Configuration: presets are valid; bad files fail with one message naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus_curator.cli import resolve_config
from corpus_curator.config import GutenbergSource, OfflineSource, load_config
from corpus_curator.errors import ConfigError


def test_presets_load() -> None:
    offline = resolve_config("offline")
    assert isinstance(offline.sources[0], OfflineSource)
    assert offline.documents.buckets == [10000, 15000, 20000]
    assert offline.upload.bucket == "do-gtc2026-doks-demo"
    production = resolve_config("gutenberg")
    assert isinstance(production.sources[0], GutenbergSource)
    assert production.upload.prefix == "corpus/"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("sources: [{kind: offline}]\nsead: 3\n", r"cfg\.yaml: sead: Extra inputs"),
        ("sources: [{kind: ftp}]\n", r"cfg\.yaml: sources\.0: .*'ftp'"),
        ("sources: [{kind: gutenberg, ids: [0]}]\n", r"sources\.0\.gutenberg\.ids\.0: .*greater"),
        ("sources: []\n", r"cfg\.yaml: sources: .*at least 1"),
        (
            "sources: [{kind: offline}]\nprompts: {max_expected_output_tokens: 2500}\n",
            r"prompts\.max_expected_output_tokens: .*2000",
        ),
        (
            "sources: [{kind: offline}]\n"
            "prompts: {min_expected_output_tokens: 1500, max_expected_output_tokens: 900}\n",
            r"min_expected_output_tokens exceeds",
        ),
        ("sources: [{kind: url, urls: [ftp://x]}]\n", r"sources\.0\.url\.urls\.0"),
        ("- just a list\n", r"cfg\.yaml: expected a mapping"),
        ("sources: [\n  {kind: offline\n", r"cfg\.yaml:\d+: invalid YAML"),
    ],
)
def test_bad_configuration_is_named(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read"):
        load_config(tmp_path / "nope.yaml")
