"""Fixtures for demo_common's tests: corpus layouts on disk and a real S3 server (moto)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from demo_common.corpus import (
    COMPLETE_MARKER,
    MANIFEST_FILE,
    Document,
    FileEntry,
    Manifest,
    Passage,
    Prompt,
    encode_jsonl,
)
from demo_common.objectstore import LocalObjectStore, ObjectStore, sha256_hex

LayoutWriter = Callable[..., None]


def sample_records() -> dict[str, bytes]:
    """A small valid corpus, as file name -> JSON Lines bytes."""
    documents = [
        Document(id=f"doc-{b}-0", title=f"T{b}", text="x " * 10, tokens=10, bucket=b, source="s")
        for b in (10000, 15000)
    ]
    passages = [Passage(id="p-0", topic="ships", text="Call me.", tokens=3, source="s")]
    prompts = [
        Prompt(id="c-0", category="math", text="Prove it.", tokens=3, expected_output_tokens=900)
    ]
    return {
        "documents.jsonl": encode_jsonl(documents),
        "passages.jsonl": encode_jsonl(passages),
        "prompts.jsonl": encode_jsonl(prompts),
    }


def write_layout(
    store: ObjectStore,
    files: dict[str, bytes] | None = None,
    *,
    records: dict[str, int] | None = None,
    complete: bool = True,
) -> None:
    """Write `files` (default: a valid corpus) with a manifest whose checksums match them."""
    files = files if files is not None else sample_records()
    entries = {
        name: FileEntry(
            sha256=sha256_hex(data),
            records=(records or {}).get(name, data.count(b"\n")),
            bytes=len(data),
        )
        for name, data in files.items()
    }
    for name, data in files.items():
        store.write(name, data)
    manifest = Manifest(seed=7, created_at="2026-03-16T09:00:00Z", files=entries)  # type: ignore[arg-type]
    store.write(MANIFEST_FILE, manifest.model_dump_json().encode())
    if complete:
        store.write(COMPLETE_MARKER, b"ok\n")


@pytest.fixture
def sample_files() -> dict[str, bytes]:
    """A small valid corpus: file name -> JSON Lines bytes (a fresh copy per test)."""
    return sample_records()


@pytest.fixture
def layout() -> LayoutWriter:
    """`write_layout`, for tests (conftest modules cannot be imported in importlib mode)."""
    return write_layout


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "corpus")


@pytest.fixture
def s3_bucket(moto_endpoint: str) -> dict[str, Any]:
    """A fresh bucket on the moto server; yields settings fields for S3Settings."""
    import boto3

    name = f"test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=name)
    return {
        "endpoint_url": moto_endpoint,
        "region": "us-east-1",
        "bucket": name,
        "prefix": "corpus/",
        "access_key_id": "test",
        "secret_access_key": "test",
    }
