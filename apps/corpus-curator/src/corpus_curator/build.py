"""Builds the corpus from cleaned sources and writes the layout (data files, manifest, marker)."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from tqdm import tqdm

from corpus_curator.config import CuratorConfig
from corpus_curator.prompts import make_prompts
from corpus_curator.segment import Cut, make_pools, take_from_any
from corpus_curator.text import SourceText
from demo_common.corpus import (
    COMPLETE_MARKER,
    DOCUMENTS_FILE,
    MANIFEST_FILE,
    PASSAGES_FILE,
    PROMPTS_FILE,
    CorpusError,
    Document,
    FileEntry,
    Manifest,
    Passage,
    Prompt,
    encode_jsonl,
    parse_manifest,
)
from demo_common.errors import ObjectNotFoundError
from demo_common.objectstore import ObjectStore, sha256_hex


@dataclass(frozen=True)
class BuiltCorpus:
    """The records of a corpus, before they are written."""

    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]
    prompts: tuple[Prompt, ...]

    def files(self) -> dict[str, tuple[bytes, int]]:
        """File name -> (JSON Lines bytes, record count)."""
        return {
            DOCUMENTS_FILE: (encode_jsonl(self.documents), len(self.documents)),
            PASSAGES_FILE: (encode_jsonl(self.passages), len(self.passages)),
            PROMPTS_FILE: (encode_jsonl(self.prompts), len(self.prompts)),
        }


def _part_numbers(cuts: list[Cut]) -> list[int]:
    """Per source, 1, 2, ... in text order (documents are cut in seeded order)."""
    order = sorted(range(len(cuts)), key=lambda i: (cuts[i].source.id, cuts[i].start_char))
    numbers = [0] * len(cuts)
    seen: Counter[str] = Counter()
    for i in order:
        seen[cuts[i].source.id] += 1
        numbers[i] = seen[cuts[i].source.id]
    return numbers


def build_corpus(
    config: CuratorConfig,
    texts: list[SourceText],
    *,
    progress: bool = False,
    timings_ns: dict[str, int] | None = None,
) -> BuiltCorpus:
    """Documents per bucket, passages and prompts; the same seed and sources give the same bytes.

    `timings_ns`, if given, receives the duration of each stage ("measure", "cut").
    """
    timings = timings_ns if timings_ns is not None else {}
    rng = random.Random(config.seed)
    started_ns = time.perf_counter_ns()
    pools = make_pools(texts, progress=progress)
    timings["measure"] = time.perf_counter_ns() - started_ns
    started_ns = time.perf_counter_ns()
    docs_cfg, passages_cfg = config.documents, config.passages
    # the seed decides the order of the cuts, hence which stretch of text each one gets
    requests = [(b, n) for b in sorted(docs_cfg.buckets) for n in range(docs_cfg.per_bucket)]
    rng.shuffle(requests)
    total = len(requests) + passages_cfg.count + config.prompts.count
    with tqdm(total=total, desc="cut", unit="rec", disable=not progress) as bar:
        cuts: list[Cut] = []
        for bucket, _ in requests:
            cuts.append(take_from_any(pools, bucket, docs_cfg.tolerance, rng, "a document"))
            bar.update(1)
        passage_cuts: list[Cut] = []
        for _ in range(passages_cfg.count):
            target, tolerance = passages_cfg.target_tokens, passages_cfg.tolerance
            passage_cuts.append(take_from_any(pools, target, tolerance, rng, "a passage"))
            bar.update(1)
        prompts = make_prompts(config.prompts, pools, rng, bar.update)
    documents = [
        Document(
            id=f"doc-{bucket}-{n:03d}",
            title=f"{cut.source.title} (part {part})",
            text=cut.text,
            tokens=cut.tokens,
            bucket=bucket,
            source=cut.provenance,
        )
        for (bucket, n), cut, part in zip(requests, cuts, _part_numbers(cuts), strict=True)
    ]
    documents.sort(key=lambda d: (d.bucket, d.id))
    passages = [
        Passage(
            id=f"passage-{n:03d}",
            topic=cut.topic,
            text=cut.text,
            tokens=cut.tokens,
            source=cut.provenance,
        )
        for n, cut in enumerate(passage_cuts)
    ]
    timings["cut"] = time.perf_counter_ns() - started_ns
    return BuiltCorpus(tuple(documents), tuple(passages), tuple(prompts))


def encode_manifest(manifest: Manifest) -> bytes:
    """The manifest's file bytes."""
    return (manifest.model_dump_json(indent=2) + "\n").encode()


def complete_marker(manifest_bytes: bytes) -> bytes:
    """The `_COMPLETE` content: the checksum of the manifest it completes."""
    return f"{sha256_hex(manifest_bytes)}\n".encode()


def _existing_manifest(store: ObjectStore) -> Manifest | None:
    try:
        data = store.read(MANIFEST_FILE)
        marker = store.read(COMPLETE_MARKER)
        manifest = parse_manifest(data, store.location(MANIFEST_FILE))
    except (ObjectNotFoundError, CorpusError):
        return None
    return manifest if marker == complete_marker(data) else None


def write_corpus(built: BuiltCorpus, store: ObjectStore, *, seed: int, now: datetime) -> Manifest:
    """Write the layout, marker last; a rebuild with identical content writes nothing."""
    files = built.files()
    entries = {
        name: FileEntry(sha256=sha256_hex(data), records=records, bytes=len(data))
        for name, (data, records) in files.items()
    }
    existing = _existing_manifest(store)
    if (
        existing is not None
        and existing.seed == seed
        and existing.files == entries
        and all(store.sha256(name) == entry.sha256 for name, entry in entries.items())
    ):
        return existing  # unchanged: keep created_at so uploads stay no-ops
    store.delete(COMPLETE_MARKER)
    for name, (data, _) in files.items():
        if store.sha256(name) != entries[name].sha256:
            store.write(name, data)
    manifest = Manifest(seed=seed, created_at=now, files=entries)
    manifest_bytes = encode_manifest(manifest)
    store.write(MANIFEST_FILE, manifest_bytes)
    store.write(COMPLETE_MARKER, complete_marker(manifest_bytes))
    return manifest
