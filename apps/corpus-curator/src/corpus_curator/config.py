"""The curator's configuration file (YAML), parsed once into pydantic models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from corpus_curator.errors import ConfigError
from demo_common.validation import first_error


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfflineSource(_Model):
    """Documentation installed with Python: the language reference topics and stdlib docstrings."""

    kind: Literal["offline"]
    include_topics: bool = Field(default=True, description="pydoc_data language-reference topics")
    include_docstrings: bool = Field(default=True, description="stdlib module docstrings")


class GutenbergSource(_Model):
    """Public-domain books from Project Gutenberg, by id, fetched over HTTP and cached."""

    kind: Literal["gutenberg"]
    ids: list[Annotated[int, Field(gt=0)]] = Field(min_length=1)
    mirror: str = Field(default="https://www.gutenberg.org", description="base URL")
    url_template: str = Field(
        default="{mirror}/cache/epub/{id}/pg{id}.txt", description="plain-text book URL"
    )


class UrlSource(_Model):
    """Plain-text or HTML pages fetched over HTTP."""

    kind: Literal["url"]
    urls: list[Annotated[str, Field(pattern=r"^https?://")]] = Field(min_length=1)


class LocalSource(_Model):
    """Text files (.txt, .md) or folders of them."""

    kind: Literal["local"]
    paths: list[Path] = Field(min_length=1)
    unwrap: bool = Field(default=True, description="join hard-wrapped lines into paragraphs")


Source = Annotated[
    OfflineSource | GutenbergSource | UrlSource | LocalSource, Field(discriminator="kind")
]


class DocumentsConfig(_Model):
    """Summarization documents (workload B)."""

    buckets: list[Annotated[int, Field(ge=100)]] = Field(default=[10000, 15000, 20000])
    per_bucket: int = Field(default=4, ge=0)
    tolerance: float = Field(default=0.02, gt=0, lt=0.5, description="relative, e.g. 0.02 = ±2%")

    @model_validator(mode="after")
    def _distinct(self) -> DocumentsConfig:
        if len(set(self.buckets)) != len(self.buckets):
            raise ValueError("buckets must be distinct")
        return self


class PassagesConfig(_Model):
    """Chat passages with a topic (workload A)."""

    count: int = Field(default=20, ge=0)
    target_tokens: int = Field(default=4000, ge=100)
    tolerance: float = Field(default=0.05, gt=0, lt=0.5)


class PromptsConfig(_Model):
    """Reasoning prompts with an expected answer length (workload C)."""

    count: int = Field(default=50, ge=0)
    min_expected_output_tokens: int = Field(default=500, ge=500, le=2000)
    max_expected_output_tokens: int = Field(default=2000, ge=500, le=2000)

    @model_validator(mode="after")
    def _ordered(self) -> PromptsConfig:
        if self.min_expected_output_tokens > self.max_expected_output_tokens:
            raise ValueError("min_expected_output_tokens exceeds max_expected_output_tokens")
        return self


class HttpConfig(_Model):
    """Downloads: timeouts, retries and the on-disk cache (so rebuilds need no network)."""

    timeout_s: float = Field(default=30.0, gt=0)
    attempts: int = Field(default=4, ge=1, le=10)
    backoff_s: float = Field(default=1.0, ge=0, description="first retry delay, doubled each time")
    cache_dir: Path | None = Field(default=Path("build/cache/corpus"))


class UploadConfig(_Model):
    """Where `upload` puts the corpus (keys come from the environment, never from here)."""

    region: str = Field(default="atl1", min_length=1)
    bucket: str = Field(default="do-gtc2026-doks-demo", min_length=3)
    prefix: str = Field(default="corpus/")
    endpoint_url: str | None = Field(
        default=None, description="default https://<region>.digitaloceanspaces.com"
    )


class CuratorConfig(_Model):
    """The whole configuration file."""

    seed: int = 2026
    output: Path = Path("build/corpus")
    sources: list[Source] = Field(min_length=1)
    documents: DocumentsConfig = DocumentsConfig()
    passages: PassagesConfig = PassagesConfig()
    prompts: PromptsConfig = PromptsConfig()
    http: HttpConfig = HttpConfig()
    upload: UploadConfig = UploadConfig()


def _first_error(exc: ValidationError) -> str:
    field, message = first_error(exc, default="(top level)")
    return f"{field}: {message}"


def parse_config(data: object, where: str) -> CuratorConfig:
    """Validate an already-loaded mapping; errors name `where` and the field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    try:
        return CuratorConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_error(exc)}") from None


def load_config(path: Path) -> CuratorConfig:
    """Read and validate the YAML configuration file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: invalid YAML") from None
    return parse_config(data, str(path))
