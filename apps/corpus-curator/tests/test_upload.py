"""Upload planning and execution between two local stores (no network): skip, force, resume."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from corpus_curator.build import BuiltCorpus, build_corpus, write_corpus
from corpus_curator.config import CuratorConfig
from corpus_curator.errors import UploadError
from corpus_curator.sources import load_sources
from corpus_curator.upload import UPLOAD_ORDER, Action, execute_upload, plan_upload
from demo_common.corpus import CorpusError, load_corpus
from demo_common.errors import ObjectStoreError
from demo_common.objectstore import LocalObjectStore, ObjectStore, S3ObjectStore, S3Settings


class FailingStore:
    """Wraps a store; writes fail after `allowed` successes (an interrupted upload)."""

    def __init__(self, inner: ObjectStore, allowed: int) -> None:
        self.inner, self.allowed = inner, allowed

    def location(self, key: str) -> str:
        return self.inner.location(key)

    def read(self, key: str) -> bytes:
        return self.inner.read(key)

    def sha256(self, key: str) -> str | None:
        return self.inner.sha256(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def write(self, key: str, data: bytes) -> None:
        if self.allowed <= 0:
            raise ObjectStoreError(f"{self.location(key)}: connection reset")
        self.allowed -= 1
        self.inner.write(key, data)


@pytest.fixture(scope="module")
def built(small_config: Callable[..., CuratorConfig]) -> tuple[CuratorConfig, BuiltCorpus]:
    config = small_config(documents={"buckets": [500], "per_bucket": 2}, passages={"count": 2})
    return config, build_corpus(config, load_sources(config, None))


@pytest.fixture
def local(built: tuple[CuratorConfig, BuiltCorpus], tmp_path: Path) -> LocalObjectStore:
    config, corpus = built
    store = LocalObjectStore(tmp_path / "local")
    write_corpus(corpus, store, seed=config.seed, now=datetime(2026, 3, 16, tzinfo=UTC))
    return store


def test_first_upload_sends_all_then_nothing(local: LocalObjectStore, tmp_path: Path) -> None:
    remote = LocalObjectStore(tmp_path / "remote")
    plan = plan_upload(local, remote)
    assert [o.key for o in plan.to_upload] == list(UPLOAD_ORDER)
    assert {o.reason for o in plan.objects} == {"missing"}
    assert execute_upload(plan, local, remote) == len(UPLOAD_ORDER)
    assert load_corpus(remote) == load_corpus(local).model_copy(
        update={"location": remote.location("")}
    )
    again = plan_upload(local, remote)
    assert again.to_upload == ()
    assert execute_upload(again, local, remote) == 0
    assert "0 to upload" in again.describe()[-1]


def test_force_uploads_everything(local: LocalObjectStore, tmp_path: Path) -> None:
    remote = LocalObjectStore(tmp_path / "remote")
    execute_upload(plan_upload(local, remote), local, remote)
    plan = plan_upload(local, remote, force=True)
    assert all(o.action is Action.UPLOAD and o.reason == "forced" for o in plan.objects)
    assert execute_upload(plan, local, remote) == len(UPLOAD_ORDER)


def test_changed_file_is_uploaded_with_manifest_and_marker(
    local: LocalObjectStore, tmp_path: Path, built: tuple[CuratorConfig, BuiltCorpus]
) -> None:
    remote = LocalObjectStore(tmp_path / "remote")
    execute_upload(plan_upload(local, remote), local, remote)
    config, corpus = built
    fewer = BuiltCorpus(corpus.documents, corpus.passages, corpus.prompts[:3])
    write_corpus(fewer, local, seed=config.seed, now=datetime(2026, 3, 17, tzinfo=UTC))
    plan = plan_upload(local, remote)
    assert [o.key for o in plan.to_upload] == ["prompts.jsonl", "manifest.json", "_COMPLETE"]
    execute_upload(plan, local, remote)
    assert len(load_corpus(remote).prompts) == 3


def test_interrupted_upload_is_incomplete_then_resumes(
    local: LocalObjectStore, tmp_path: Path
) -> None:
    remote = LocalObjectStore(tmp_path / "remote")
    flaky = FailingStore(remote, allowed=2)
    with pytest.raises(UploadError, match=r"2 objects written; rerun to resume.*connection reset"):
        execute_upload(plan_upload(local, flaky), local, flaky)
    with pytest.raises(CorpusError, match=r"manifest\.json: missing"):
        load_corpus(remote)
    plan = plan_upload(local, remote)
    assert [o.action for o in plan.objects[:2]] == [Action.SKIP, Action.SKIP]
    assert execute_upload(plan, local, remote) == len(UPLOAD_ORDER) - 2
    assert load_corpus(remote).manifest == load_corpus(local).manifest


def test_broken_local_corpus_is_never_uploaded(local: LocalObjectStore, tmp_path: Path) -> None:
    (local.root / "passages.jsonl").write_text('{"id": 1}\n')
    remote = LocalObjectStore(tmp_path / "remote")
    with pytest.raises(CorpusError, match=r"passages\.jsonl: checksum differs"):
        plan_upload(local, remote)
    assert not (tmp_path / "remote").exists()


@pytest.mark.integration
def test_interrupted_upload_to_s3_resumes(
    local: LocalObjectStore, moto_endpoint: str, bucket: str
) -> None:
    settings = S3Settings(
        region="us-east-1",
        bucket=bucket,
        prefix="resume/",
        endpoint_url=moto_endpoint,
        access_key_id=SecretStr("test"),
        secret_access_key=SecretStr("test"),
    )
    remote = S3ObjectStore(settings)
    flaky = FailingStore(remote, allowed=3)
    with pytest.raises(UploadError, match="3 objects written"):
        execute_upload(plan_upload(local, flaky), local, flaky)
    with pytest.raises(CorpusError, match=rf"s3://{bucket}/resume/manifest\.json: missing"):
        load_corpus(remote)
    plan = plan_upload(local, remote)
    assert [o.reason for o in plan.objects] == [
        "unchanged", "unchanged", "unchanged", "missing", "missing"
    ]  # fmt: skip
    assert execute_upload(plan, local, remote) == 2
    assert load_corpus(remote).prompts == load_corpus(local).prompts
    assert plan_upload(local, remote).to_upload == ()
