"""One contract, two adapters: the local folder and a real S3 server (moto) behave alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from demo_common.corpus import CorpusError, load_corpus
from demo_common.errors import ObjectNotFoundError
from demo_common.objectstore import (
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
    S3Settings,
    sha256_hex,
)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "store")
    else:
        fields: dict[str, Any] = request.getfixturevalue("s3_bucket")
        yield S3ObjectStore(S3Settings(**fields))


def test_write_read_checksum_delete(store: ObjectStore) -> None:
    assert store.sha256("documents.jsonl") is None
    store.write("documents.jsonl", b'{"a": 1}\n')
    assert store.read("documents.jsonl") == b'{"a": 1}\n'
    assert store.sha256("documents.jsonl") == sha256_hex(b'{"a": 1}\n')
    store.write("documents.jsonl", b"")
    assert store.sha256("documents.jsonl") == sha256_hex(b"")
    store.delete("documents.jsonl")
    store.delete("documents.jsonl")
    assert store.sha256("documents.jsonl") is None


def test_missing_object_is_named(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError, match=r"nothing\.json: not found"):
        store.read("nothing.json")


def test_corpus_loads_through_the_store(store: ObjectStore, layout: Callable[..., None]) -> None:
    layout(store)
    corpus = load_corpus(store)
    assert len(corpus.documents) == 2
    store.delete("_COMPLETE")
    with pytest.raises(CorpusError, match="_COMPLETE: missing"):
        load_corpus(store)


@pytest.mark.integration
def test_load_corpus_from_an_s3_url(s3_bucket: dict[str, Any], layout: Callable[..., None]) -> None:
    settings = S3Settings(**s3_bucket)
    layout(S3ObjectStore(settings.with_url(f"s3://{settings.bucket}/v1")))
    corpus = load_corpus(f"s3://{settings.bucket}/v1", s3=settings)
    assert corpus.location == f"s3://{settings.bucket}/v1/"
    assert corpus.prompts[0].category == "math"
    with pytest.raises(CorpusError, match=rf"s3://{settings.bucket}/v2/manifest\.json: missing"):
        load_corpus(f"s3://{settings.bucket}/v2/", s3=settings)
