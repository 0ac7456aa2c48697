"""The command line: one-line errors with exit code 2 for bad input; build, upload and check
end to end against a real S3-compatible server (moto)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus_curator.cli import main

KEYS = {"SPACES_ACCESS_KEY_ID": "test", "SPACES_SECRET_ACCESS_KEY": "test"}


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("corpus-curator: error: ")
    return err[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: command"),
        (["bake"], "invalid choice: 'bake'"),
        (["build", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
        (["build", "--config", "/no/such.yaml"], "/no/such.yaml: cannot read"),
        (["check", "/no/such/corpus"], "/no/such/corpus: no such corpus folder"),
        (["upload", "--from", "/tmp"], "set SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY"),
        (["check", "ftp://host/corpus"], "only local folders and s3:// URLs"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv, {}) == 2
    assert message in _error_line(capsys)


def test_malformed_corpus_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.json").write_text(json.dumps({"version": 1, "seed": 1}))
    assert main(["check", str(corpus)], {}) == 2
    assert "manifest.json: field 'created_at': Field required" in _error_line(capsys)


def _small_config(tmp_path: Path, endpoint: str, bucket: str) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(
        f"seed: 3\noutput: {tmp_path / 'corpus'}\n"
        "sources: [{kind: offline, include_docstrings: false}]\n"
        "documents: {buckets: [700], per_bucket: 2, tolerance: 0.05}\n"
        "passages: {count: 2, target_tokens: 400, tolerance: 0.1}\n"
        "prompts: {count: 5}\n"
        f"upload: {{region: us-east-1, bucket: {bucket}, prefix: demo/,\n"
        f"         endpoint_url: {endpoint}}}\n"
    )
    return path


@pytest.mark.integration
def test_build_upload_check_against_s3(
    tmp_path: Path, moto_endpoint: str, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_small_config(tmp_path, moto_endpoint, bucket))
    assert main(["build", "--config", config, "--no-progress"], {}) == 0
    upload = ["upload", "--config", config, "--no-progress"]

    assert main([*upload, "--dry-run"], KEYS) == 0
    out = capsys.readouterr().out
    assert "5 to upload" in out
    assert "upload documents.jsonl" in out.replace("  ", " ")
    assert main(["check", f"s3://{bucket}/demo", "--config", config], KEYS) == 2  # nothing yet
    capsys.readouterr()

    assert main(upload, KEYS) == 0
    assert "5 objects uploaded, 0 unchanged" in capsys.readouterr().out
    assert main(upload, KEYS) == 0
    assert "0 objects uploaded, 5 unchanged" in capsys.readouterr().out
    assert main([*upload, "--force"], KEYS) == 0
    assert "5 objects uploaded" in capsys.readouterr().out

    assert main(["check", f"s3://{bucket}/demo", "--config", config], KEYS) == 0
    summary = capsys.readouterr().out
    assert f"s3://{bucket}/demo/: seed 3" in summary
    assert "documents    700:   2" in summary

    # a new seed changes the data: dry-run shows it and changes nothing, then upload sends it
    assert main(["build", "--config", config, "--seed", "4", "--no-progress"], {}) == 0
    capsys.readouterr()
    assert main([*upload, "--dry-run"], KEYS) == 0
    assert "(changed)" in capsys.readouterr().out
    assert main(["check", f"s3://{bucket}/demo", "--config", config], KEYS) == 0
    assert "seed 3" in capsys.readouterr().out
    assert main(upload, KEYS) == 0
    assert main(["check", f"s3://{bucket}/demo", "--config", config], KEYS) == 0
    assert "seed 4" in capsys.readouterr().out


@pytest.mark.integration
def test_wrong_endpoint_is_a_clear_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], moto_endpoint: str, bucket: str
) -> None:
    config = str(_small_config(tmp_path, moto_endpoint, bucket))
    assert main(["build", "--config", config, "--no-progress"], {}) == 0
    argv = ["upload", "--config", config, "--to", "s3://no-such-bucket-here/x", "--no-progress"]
    assert main(argv, KEYS) == 1
    line = _error_line(capsys)
    assert "s3://no-such-bucket-here/x/" in line
    assert "NoSuchBucket" in line
