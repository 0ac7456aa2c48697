"""Unit tests of the corpus reader: valid layouts load, every malformed one names file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from demo_common.corpus import CorpusError, load_corpus
from demo_common.objectstore import LocalObjectStore

Layout = Callable[..., None]


def test_valid_layout_loads_with_records_and_buckets(
    local_store: LocalObjectStore, layout: Layout
) -> None:
    layout(local_store)
    corpus = load_corpus(local_store.root)
    assert corpus.manifest.seed == 7
    assert corpus.buckets == (10000, 15000)
    assert [d.id for d in corpus.documents_in_bucket(15000)] == ["doc-15000-0"]
    assert corpus.passages[0].topic == "ships"
    assert corpus.prompts[0].expected_output_tokens == 900
    assert load_corpus(str(local_store.root)) == corpus  # str and Path alike


def test_missing_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"nowhere: no such corpus folder.*make corpus"):
        load_corpus(tmp_path / "nowhere")


def test_missing_manifest(local_store: LocalObjectStore) -> None:
    local_store.root.mkdir(parents=True)
    with pytest.raises(CorpusError, match=r"manifest\.json: missing"):
        load_corpus(local_store.root)


def test_missing_completion_marker_means_incomplete(
    local_store: LocalObjectStore, layout: Layout
) -> None:
    layout(local_store, complete=False)
    with pytest.raises(CorpusError, match=r"_COMPLETE: missing \(the corpus is incomplete"):
        load_corpus(local_store.root)


def test_missing_data_file(local_store: LocalObjectStore, layout: Layout) -> None:
    layout(local_store)
    local_store.delete("passages.jsonl")
    with pytest.raises(CorpusError, match=r"passages\.jsonl: missing"):
        load_corpus(local_store.root)


def test_invalid_json_names_file_and_line(
    local_store: LocalObjectStore, layout: Layout, sample_files: dict[str, bytes]
) -> None:
    files = sample_files
    files["documents.jsonl"] += b'{"id": "broken",\n'
    layout(local_store, files)
    with pytest.raises(CorpusError, match=r"documents\.jsonl:3: invalid JSON"):
        load_corpus(local_store.root)


def test_out_of_range_field_names_file_line_and_field(
    local_store: LocalObjectStore, layout: Layout, sample_files: dict[str, bytes]
) -> None:
    files = sample_files
    files["prompts.jsonl"] = files["prompts.jsonl"].replace(b"900", b"4000")
    layout(local_store, files)
    with pytest.raises(
        CorpusError, match=r"prompts\.jsonl:1: field 'expected_output_tokens': .*2000"
    ):
        load_corpus(local_store.root)


def test_unknown_field_rejected(
    local_store: LocalObjectStore, layout: Layout, sample_files: dict[str, bytes]
) -> None:
    files = sample_files
    files["passages.jsonl"] = files["passages.jsonl"].replace(b'"topic"', b'"subject"')
    layout(local_store, files)
    with pytest.raises(CorpusError, match=r"passages\.jsonl:1: field '(topic|subject)'"):
        load_corpus(local_store.root)


def test_checksum_mismatch(local_store: LocalObjectStore, layout: Layout) -> None:
    layout(local_store)
    path = local_store.root / "prompts.jsonl"
    path.write_bytes(path.read_bytes().replace(b"Prove", b"Prune"))
    with pytest.raises(CorpusError, match=r"prompts\.jsonl: checksum differs from manifest"):
        load_corpus(local_store.root)


def test_record_count_mismatch(local_store: LocalObjectStore, layout: Layout) -> None:
    layout(local_store, records={"documents.jsonl": 5})
    with pytest.raises(CorpusError, match=r"documents\.jsonl: 2 records, manifest\.json says 5"):
        load_corpus(local_store.root)


def test_duplicate_ids(
    local_store: LocalObjectStore, layout: Layout, sample_files: dict[str, bytes]
) -> None:
    files = sample_files
    files["passages.jsonl"] += files["passages.jsonl"]
    layout(local_store, files)
    with pytest.raises(CorpusError, match=r"passages\.jsonl:2: duplicate id 'p-0'"):
        load_corpus(local_store.root)


def test_not_utf8(
    local_store: LocalObjectStore, layout: Layout, sample_files: dict[str, bytes]
) -> None:
    files = sample_files
    files["prompts.jsonl"] = b"\xff\xfe" + files["prompts.jsonl"]
    layout(local_store, files)
    with pytest.raises(CorpusError, match=r"prompts\.jsonl: not UTF-8"):
        load_corpus(local_store.root)


def test_manifest_schema_errors_name_the_field(
    local_store: LocalObjectStore, layout: Layout
) -> None:
    layout(local_store)
    path = local_store.root / "manifest.json"
    path.write_bytes(path.read_bytes().replace(b'"version":1', b'"version":2'))
    with pytest.raises(CorpusError, match=r"manifest\.json: field 'version'"):
        load_corpus(local_store.root)
    path.write_bytes(b"{not json")
    with pytest.raises(CorpusError, match=r"manifest\.json: invalid JSON"):
        load_corpus(local_store.root)


def test_manifest_must_list_every_file(
    local_store: LocalObjectStore, layout: Layout, sample_files: dict[str, bytes]
) -> None:
    files = sample_files
    del files["prompts.jsonl"]
    layout(local_store, files)
    with pytest.raises(CorpusError, match=r"manifest\.json: field 'files' lacks prompts\.jsonl"):
        load_corpus(local_store.root)


def test_unsupported_url_scheme() -> None:
    with pytest.raises(CorpusError, match=r"only local folders and s3:// URLs"):
        load_corpus("https://example.invalid/corpus")
