"""Building: sizes measured in Llama-3 tokens, no shared text, deterministic, idempotent."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from corpus_curator.build import BuiltCorpus, build_corpus, write_corpus
from corpus_curator.config import CuratorConfig
from corpus_curator.errors import BuildError
from corpus_curator.prompts import CATEGORIES
from corpus_curator.sources import load_sources
from demo_common.corpus import load_corpus
from demo_common.objectstore import LocalObjectStore
from demo_common.tokenizer import count_tokens

ConfigFactory = Callable[..., CuratorConfig]
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def _build(config: CuratorConfig) -> BuiltCorpus:
    return build_corpus(config, load_sources(config, None))


@pytest.fixture(scope="module")
def config(small_config: ConfigFactory) -> CuratorConfig:
    return small_config()


@pytest.fixture(scope="module")
def built(config: CuratorConfig) -> BuiltCorpus:
    return _build(config)


def test_documents_fall_in_their_buckets(config: CuratorConfig, built: BuiltCorpus) -> None:
    tolerance = config.documents.tolerance
    assert sorted(d.bucket for d in built.documents) == [1000] * 3 + [2000] * 3
    for document in built.documents:
        measured = count_tokens(document.text)
        assert measured == document.tokens
        assert abs(measured - document.bucket) <= tolerance * document.bucket, document.id


def test_passages_have_size_and_topic(config: CuratorConfig, built: BuiltCorpus) -> None:
    target, tolerance = config.passages.target_tokens, config.passages.tolerance
    assert len(built.passages) == config.passages.count
    for passage in built.passages:
        assert count_tokens(passage.text) == passage.tokens
        assert abs(passage.tokens - target) <= tolerance * target
        assert passage.topic.startswith("Python language reference: ")


def test_prompts_cover_categories_and_lengths(config: CuratorConfig, built: BuiltCorpus) -> None:
    assert {p.category for p in built.prompts} == set(CATEGORIES)
    assert len({p.text for p in built.prompts}) == len(built.prompts)
    for prompt in built.prompts:
        assert 500 <= prompt.expected_output_tokens <= 2000
        assert prompt.tokens == count_tokens(prompt.text)
        words = int(re.findall(r"about (\d+) words", prompt.text)[-1])
        assert words == pytest.approx(prompt.expected_output_tokens * 0.75, abs=10)


def test_outputs_share_no_text(built: BuiltCorpus) -> None:
    spans = []
    for record in (*built.documents, *built.passages):
        source, start, end = re.fullmatch(r"(.+)@(\d+)-(\d+)", record.source).groups()  # type: ignore[union-attr]
        spans.append((source, int(start), int(end)))
    spans.sort()
    for (src_a, _, end_a), (src_b, start_b, _) in itertools.pairwise(spans):
        assert src_a != src_b or end_a <= start_b
    texts = [r.text for r in (*built.documents, *built.passages)]
    assert len(set(texts)) == len(texts)


def test_same_seed_same_bytes_other_seed_other_corpus(
    config: CuratorConfig, built: BuiltCorpus
) -> None:
    again = _build(config)
    assert again.files() == built.files()
    other = _build(config.model_copy(update={"seed": 12}))
    assert other.files()["documents.jsonl"] != built.files()["documents.jsonl"]


def test_written_layout_loads_and_rewriting_changes_nothing(
    config: CuratorConfig, built: BuiltCorpus, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path / "corpus")
    manifest = write_corpus(built, store, seed=config.seed, now=NOW)
    corpus = load_corpus(store.root)
    assert corpus.documents == built.documents
    assert corpus.manifest == manifest
    stamps = {p.name: p.stat().st_mtime_ns for p in store.root.iterdir()}
    later = datetime(2026, 3, 17, tzinfo=UTC)
    assert write_corpus(built, store, seed=config.seed, now=later).created_at == NOW
    assert {p.name: p.stat().st_mtime_ns for p in store.root.iterdir()} == stamps


def test_changed_content_is_rewritten_with_a_new_manifest(
    config: CuratorConfig, built: BuiltCorpus, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path / "corpus")
    write_corpus(built, store, seed=config.seed, now=NOW)
    fewer = BuiltCorpus(built.documents[:2], built.passages, built.prompts)
    later = datetime(2026, 3, 17, tzinfo=UTC)
    manifest = write_corpus(fewer, store, seed=config.seed, now=later)
    assert manifest.created_at == later
    assert len(load_corpus(store.root).documents) == 2


def test_too_little_text_is_a_clear_error(small_config: ConfigFactory) -> None:
    config = small_config(documents={"buckets": [200000], "per_bucket": 1})
    with pytest.raises(BuildError, match=r"cannot supply a document of 200000 ± 2% tokens"):
        _build(config)
