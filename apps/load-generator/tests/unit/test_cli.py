"""CLI edge: bad input gives one line on stderr and exit code 2 (nothing is started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_testing.doubles import write_tiny_corpus
from loadgen.cli import main


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["serve", "--port", "70000"], {}, "invalid port"),
        (["serve", "--endpoint", "ftp://x"], {}, "invalid endpoint_url"),
        (["serve"], {"PRESENTER_TOKEN": "changeme"}, "invalid presenter_token"),
        (["serve"], {"FOLLOWUP_BASE_URL": "http://x/v1"}, "FOLLOWUP_MODEL is required"),
        (["serve", "--corpus", "/nonexistent/corpus"], {}, "no such corpus folder"),
        (["serve", "--script", "/nonexistent.yaml"], {}, "cannot read demo script"),
        (["serve", "--preset", "warp"], {}, "unknown preset 'warp'"),
        (["demo", "--speed", "-1"], {}, "invalid speed"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str],
    env: dict[str, str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOADGEN_CORPUS", str(write_tiny_corpus(tmp_path / "corpus")))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("loadgen: ")
    assert expected in err
    assert "\n" not in err
    assert "changeme" not in err  # never echo a secret back


def test_secret_is_not_echoed_in_validation_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESENTER_TOKEN", "short")
    assert main(["serve", "--port", "1"]) == 2
    assert "short" not in capsys.readouterr().err.replace("presenter_token", "")
