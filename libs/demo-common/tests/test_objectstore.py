"""Unit tests of the object-store settings and the local adapter."""

from __future__ import annotations

import pytest

from demo_common.errors import ObjectNotFoundError, ObjectStoreError
from demo_common.objectstore import LocalObjectStore, S3Settings, open_store, sha256_hex


def test_endpoint_defaults_to_the_region() -> None:
    settings = S3Settings()
    assert settings.bucket == "do-gtc2026-doks-demo"
    assert settings.endpoint == "https://atl1.digitaloceanspaces.com"
    assert S3Settings(region="nyc3").endpoint == "https://nyc3.digitaloceanspaces.com"
    assert S3Settings(endpoint_url="http://127.0.0.1:9").endpoint == "http://127.0.0.1:9"


def test_keys_come_from_the_given_environment_and_stay_secret() -> None:
    env = {"SPACES_ACCESS_KEY_ID": "AKID", "SPACES_SECRET_ACCESS_KEY": "s3cr3t"}
    settings = S3Settings().with_env_keys(env)
    assert settings.access_key_id is not None
    assert settings.access_key_id.get_secret_value() == "AKID"
    assert "s3cr3t" not in repr(settings)
    assert S3Settings().with_env_keys({}).secret_access_key is None


def test_url_sets_bucket_and_prefix() -> None:
    settings = S3Settings().with_url("s3://other-bucket/some/prefix")
    assert (settings.bucket, settings.prefix) == ("other-bucket", "some/prefix/")
    assert S3Settings().with_url("s3://b").prefix == ""
    with pytest.raises(ObjectStoreError, match="not an s3://bucket/prefix URL"):
        S3Settings().with_url("s3:///nobucket")


def test_settings_reject_unknown_fields() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        S3Settings(endpoint="x")  # type: ignore[call-arg]


def test_local_store_round_trip(tmp_path: object) -> None:
    store = open_store(str(tmp_path))
    assert isinstance(store, LocalObjectStore)
    assert store.sha256("a/b.json") is None
    store.write("a/b.json", b"{}")
    assert store.read("a/b.json") == b"{}"
    assert store.sha256("a/b.json") == sha256_hex(b"{}")
    assert list(store.keys()) == ["a/b.json"]
    store.delete("a/b.json")
    store.delete("a/b.json")  # absent is fine
    with pytest.raises(ObjectNotFoundError, match=r"a/b\.json: not found"):
        store.read("a/b.json")


def test_local_store_refuses_keys_outside_its_root(tmp_path: object) -> None:
    store = open_store(str(tmp_path))
    with pytest.raises(ObjectStoreError, match="escapes"):
        store.write("../outside", b"x")
