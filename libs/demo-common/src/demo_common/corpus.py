"""The corpus layout (records, manifest) and its one reader, for a folder or a Spaces prefix.

Layout (docs/contracts.md): `manifest.json`, `documents.jsonl`, `passages.jsonl`,
`prompts.jsonl`, and `_COMPLETE` written last. Every problem raises `CorpusError` naming the
file and, for JSON Lines, the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from demo_common.errors import CorpusError, ObjectNotFoundError, ObjectStoreError
from demo_common.objectstore import ObjectStore, S3Settings, open_store, sha256_hex
from demo_common.validation import one_line

__all__ = [
    "COMPLETE_MARKER",
    "DOCUMENTS_FILE",
    "MANIFEST_FILE",
    "PASSAGES_FILE",
    "PROMPTS_FILE",
    "Corpus",
    "CorpusError",
    "Document",
    "FileEntry",
    "Manifest",
    "Passage",
    "Prompt",
    "encode_jsonl",
    "load_corpus",
]

MANIFEST_FILE = "manifest.json"
DOCUMENTS_FILE = "documents.jsonl"
PASSAGES_FILE = "passages.jsonl"
PROMPTS_FILE = "prompts.jsonl"
COMPLETE_MARKER = "_COMPLETE"
LAYOUT_VERSION = 1
MIN_EXPECTED_OUTPUT_TOKENS = 500
MAX_EXPECTED_OUTPUT_TOKENS = 2000

NonEmpty = Annotated[str, Field(min_length=1)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Document(_Record):
    """Workload B (summarization): a document of about `bucket` Llama-3 tokens."""

    id: NonEmpty
    title: NonEmpty
    text: NonEmpty
    tokens: int = Field(gt=0, description="Llama-3 tokens in `text` (no BOS)")
    bucket: int = Field(gt=0, description="target size in tokens, e.g. 10000, 15000, 20000")
    source: NonEmpty


class Passage(_Record):
    """Workload A (chat): a passage (~4k tokens) the conversation is about."""

    id: NonEmpty
    topic: NonEmpty
    text: NonEmpty
    tokens: int = Field(gt=0)
    source: NonEmpty


class Prompt(_Record):
    """Workload C (reasoning): a prompt calling for a long answer."""

    id: NonEmpty
    category: NonEmpty
    text: NonEmpty
    tokens: int = Field(gt=0)
    expected_output_tokens: int = Field(
        ge=MIN_EXPECTED_OUTPUT_TOKENS, le=MAX_EXPECTED_OUTPUT_TOKENS
    )


class FileEntry(BaseModel):
    """What the manifest records about one data file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: Sha256Hex
    records: int = Field(ge=0)
    bytes: int = Field(ge=0)


class Manifest(BaseModel):
    """`manifest.json`: provenance and checksums of the data files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    seed: int
    created_at: datetime
    tokenizer: Literal["llama-3"] = "llama-3"
    files: dict[str, FileEntry]


class Corpus(BaseModel):
    """A loaded, checked corpus."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manifest: Manifest
    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]
    prompts: tuple[Prompt, ...]
    location: str = Field(description="where it was read from, for logs")

    def documents_in_bucket(self, bucket: int) -> tuple[Document, ...]:
        """The summarization documents of one size bucket."""
        return tuple(d for d in self.documents if d.bucket == bucket)

    @property
    def buckets(self) -> tuple[int, ...]:
        """The document size buckets present, ascending."""
        return tuple(sorted({d.bucket for d in self.documents}))


R = TypeVar("R", bound=BaseModel)

RECORD_TYPES: dict[str, type[BaseModel]] = {
    DOCUMENTS_FILE: Document,
    PASSAGES_FILE: Passage,
    PROMPTS_FILE: Prompt,
}


def encode_jsonl(records: Iterable[BaseModel]) -> bytes:
    """JSON Lines bytes for `records` (UTF-8, one object a line, stable key order)."""
    lines = [r.model_dump_json() for r in records]
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _describe_error(exc: ValidationError) -> str:
    return one_line(exc, default="record", template="field '{field}': {message}")


def parse_jsonl(data: bytes, model: type[R], where: str) -> list[R]:
    """Parse JSON Lines into `model` records; errors name `where` and the 1-based line."""
    records: list[R] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = model.model_validate_json(line)
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                raise CorpusError(f"{where}:{number}: invalid JSON") from None
            raise CorpusError(f"{where}:{number}: {_describe_error(exc)}") from None
        record_id = str(getattr(record, "id", number))
        if record_id in seen:
            raise CorpusError(f"{where}:{number}: duplicate id {record_id!r}")
        seen.add(record_id)
        records.append(record)
    return records


def parse_manifest(data: bytes, where: str) -> Manifest:
    """Parse and check `manifest.json`."""
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise CorpusError(f"{where}: invalid JSON") from None
        raise CorpusError(f"{where}: {_describe_error(exc)}") from None
    missing = [name for name in RECORD_TYPES if name not in manifest.files]
    if missing:
        raise CorpusError(f"{where}: field 'files' lacks {', '.join(missing)}")
    return manifest


def _read(store: ObjectStore, key: str, hint: str = "") -> bytes:
    try:
        return store.read(key)
    except ObjectNotFoundError:
        raise CorpusError(f"{store.location(key)}: missing{hint}") from None
    except ObjectStoreError as exc:
        raise CorpusError(str(exc)) from exc


def load_from_store(store: ObjectStore) -> Corpus:
    """Read and check the corpus held by `store` (checksums, record counts, schemas)."""
    manifest_where = store.location(MANIFEST_FILE)
    hint = " (no corpus here: build one with `make corpus`)"
    manifest = parse_manifest(_read(store, MANIFEST_FILE, hint), manifest_where)
    _read(store, COMPLETE_MARKER, " (the corpus is incomplete: rebuild or re-upload it)")
    loaded: dict[str, Sequence[BaseModel]] = {}
    for name, model in RECORD_TYPES.items():
        where = store.location(name)
        data = _read(store, name)
        entry = manifest.files[name]
        if sha256_hex(data) != entry.sha256:
            raise CorpusError(f"{where}: checksum differs from {MANIFEST_FILE}")
        records = parse_jsonl(data, model, where)
        if len(records) != entry.records:
            raise CorpusError(
                f"{where}: {len(records)} records, {MANIFEST_FILE} says {entry.records}"
            )
        loaded[name] = records
    return Corpus.model_validate(
        {
            "manifest": manifest,
            "documents": loaded[DOCUMENTS_FILE],
            "passages": loaded[PASSAGES_FILE],
            "prompts": loaded[PROMPTS_FILE],
            "location": store.location(""),
        }
    )


def load_corpus(source: str | Path | ObjectStore, s3: S3Settings | None = None) -> Corpus:
    """Load the corpus from a folder, an `s3://bucket/prefix` URL (using `s3`), or a store."""
    if isinstance(source, ObjectStore):
        return load_from_store(source)
    try:
        store = open_store(source, s3)
    except ObjectStoreError as exc:
        raise CorpusError(str(exc)) from exc
    if isinstance(source, Path | str) and "://" not in str(source):
        folder = Path(source)
        if not folder.is_dir():
            raise CorpusError(f"{folder}: no such corpus folder (build one with `make corpus`)")
    return load_from_store(store)
