"""Object-store port (a few key/value calls) with a local-folder and an S3/Spaces adapter.

The corpus reader and the curator's uploader depend on `ObjectStore` only; `S3ObjectStore` is
the single place that imports boto3. Objects carry their SHA-256 so uploads can skip unchanged
files without downloading them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from demo_common.errors import ObjectNotFoundError, ObjectStoreError

if TYPE_CHECKING:
    from collections.abc import Iterator

SHA256_METADATA_KEY = "sha256"  # stored as x-amz-meta-sha256 on S3
DEFAULT_REGION = "atl1"
DEFAULT_BUCKET = "do-gtc2026-doks-demo"
ACCESS_KEY_ENV = "SPACES_ACCESS_KEY_ID"
SECRET_KEY_ENV = "SPACES_SECRET_ACCESS_KEY"


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


@runtime_checkable
class ObjectStore(Protocol):
    """A flat key space of small objects (keys use '/' like S3)."""

    def location(self, key: str) -> str:
        """Human-readable address of `key`, used in error messages."""
        ...

    def read(self, key: str) -> bytes:
        """The object's bytes; raises ObjectNotFoundError if absent."""
        ...

    def write(self, key: str, data: bytes) -> None:
        """Create or replace the object, recording its SHA-256."""
        ...

    def sha256(self, key: str) -> str | None:
        """Recorded SHA-256 of the object, "" if it exists without one, None if absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; absent objects are not an error."""
        ...


class LocalObjectStore:
    """Objects are files under `root`; the checksum is computed from the file itself."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ObjectStoreError(f"key {key!r} escapes {self.root}")
        return path

    def location(self, key: str) -> str:
        return str(self.root / key)

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFoundError(self.location(key)) from None
        except OSError as exc:
            raise ObjectStoreError(f"{self.location(key)}: {exc.strerror or exc}") from exc

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        # write-then-rename: a reader never sees half a file
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def sha256(self, key: str) -> str | None:
        path = self._path(key)
        if not path.is_file():
            return None
        return sha256_hex(path.read_bytes())

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        """Every key under the root (for tests and listings)."""
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                yield path.relative_to(self.root).as_posix()


class S3Settings(BaseModel):
    """Where the corpus lives in Spaces (or any S3-compatible server) and how to sign requests."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str = Field(default=DEFAULT_REGION, min_length=1, description="Spaces region")
    bucket: str = Field(default=DEFAULT_BUCKET, min_length=3, description="bucket name")
    prefix: str = Field(default="corpus/", description="key prefix of the corpus inside the bucket")
    endpoint_url: str | None = Field(
        default=None, description="S3 endpoint; default https://<region>.digitaloceanspaces.com"
    )
    access_key_id: SecretStr | None = Field(default=None, description=f"from ${ACCESS_KEY_ENV}")
    secret_access_key: SecretStr | None = Field(default=None, description=f"from ${SECRET_KEY_ENV}")

    @property
    def endpoint(self) -> str:
        """The endpoint actually used."""
        return self.endpoint_url or f"https://{self.region}.digitaloceanspaces.com"

    def with_env_keys(self, env: Mapping[str, str]) -> S3Settings:
        """A copy whose missing keys are taken from SPACES_ACCESS_KEY_ID / SECRET_ACCESS_KEY."""
        updates: dict[str, Any] = {}
        if self.access_key_id is None and env.get(ACCESS_KEY_ENV):
            updates["access_key_id"] = SecretStr(env[ACCESS_KEY_ENV])
        if self.secret_access_key is None and env.get(SECRET_KEY_ENV):
            updates["secret_access_key"] = SecretStr(env[SECRET_KEY_ENV])
        return self.model_copy(update=updates)

    def with_url(self, url: str) -> S3Settings:
        """A copy pointing at `s3://bucket/prefix` (the other fields kept)."""
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ObjectStoreError(f"{url!r} is not an s3://bucket/prefix URL")
        prefix = parsed.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return self.model_copy(update={"bucket": parsed.netloc, "prefix": prefix})


class S3ObjectStore:
    """Objects under `settings.prefix` in an S3-compatible bucket (DigitalOcean Spaces)."""

    def __init__(self, settings: S3Settings, client: Any = None) -> None:
        self.settings = settings
        self._client = client if client is not None else _make_client(settings)

    def _key(self, key: str) -> str:
        return f"{self.settings.prefix}{key}"

    def location(self, key: str) -> str:
        return f"s3://{self.settings.bucket}/{self._key(key)}"

    def read(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.settings.bucket, Key=self._key(key))
            return bytes(response["Body"].read())
        except _boto_errors() as exc:
            raise _translate(exc, self.location(key)) from exc

    def write(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(
                Bucket=self.settings.bucket,
                Key=self._key(key),
                Body=data,
                Metadata={SHA256_METADATA_KEY: sha256_hex(data)},
                ContentType=_content_type(key),
            )
        except _boto_errors() as exc:
            raise _translate(exc, self.location(key)) from exc

    def sha256(self, key: str) -> str | None:
        try:
            head = self._client.head_object(Bucket=self.settings.bucket, Key=self._key(key))
        except _boto_errors() as exc:
            translated = _translate(exc, self.location(key))
            if isinstance(translated, ObjectNotFoundError):
                return None
            raise translated from exc
        return str(head.get("Metadata", {}).get(SHA256_METADATA_KEY, ""))

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.settings.bucket, Key=self._key(key))
        except _boto_errors() as exc:
            translated = _translate(exc, self.location(key))
            if not isinstance(translated, ObjectNotFoundError):
                raise translated from exc


def _content_type(key: str) -> str:
    if key.endswith(".json"):
        return "application/json"
    if key.endswith(".jsonl"):
        return "application/jsonl"
    return "text/plain"


def _make_client(settings: S3Settings) -> Any:
    import boto3  # the one boto3 import in the project's read path
    from botocore.config import Config

    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None

    return boto3.session.Session().client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.endpoint,
        aws_access_key_id=secret(settings.access_key_id),
        aws_secret_access_key=secret(settings.secret_access_key),
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10),
    )


def _boto_errors() -> tuple[type[Exception], ...]:
    """The exceptions botocore raises (imported late: local-only users never load boto3)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _translate(exc: Exception, location: str) -> ObjectStoreError:
    """Turn a botocore failure into our exceptions, without leaking request details."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in {"NoSuchKey", "404", "NotFound"}:
            return ObjectNotFoundError(location)
        message = str(error.get("Message", ""))
        return ObjectStoreError(f"{location}: {code or 'error'} {message}".rstrip())
    return ObjectStoreError(f"{location}: {exc}")


def open_store(source: str | Path, s3: S3Settings | None = None) -> ObjectStore:
    """A store for a local folder, or for `s3://bucket/prefix` (using `s3` for endpoint/keys)."""
    text = str(source)
    if text.startswith("s3://"):
        return S3ObjectStore((s3 or S3Settings()).with_url(text))
    if "://" in text:
        raise ObjectStoreError(f"{text!r}: only local folders and s3:// URLs are supported")
    return LocalObjectStore(Path(text))
