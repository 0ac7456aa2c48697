"""The corpus `make corpus` builds: Python's own docs cut into 10k/15k/20k-token documents."""

from __future__ import annotations

from pathlib import Path

from corpus_curator.cli import main
from demo_common.corpus import load_corpus
from demo_common.tokenizer import count_tokens


def test_offline_preset_builds_genuine_sizes(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    assert main(["build", "--config", "offline", "--output", str(out), "--no-progress"], {}) == 0
    corpus = load_corpus(out)
    assert corpus.buckets == (10000, 15000, 20000)
    for bucket in corpus.buckets:
        documents = corpus.documents_in_bucket(bucket)
        assert len(documents) == 4
        for document in documents:
            measured = count_tokens(document.text)
            assert measured == document.tokens
            assert abs(measured - bucket) <= 0.02 * bucket, document.id
    assert len(corpus.passages) == 20
    assert all(abs(count_tokens(p.text) - 4000) <= 200 for p in corpus.passages)
    assert len(corpus.prompts) == 50
    assert all(500 <= p.expected_output_tokens <= 2000 for p in corpus.prompts)
    assert all(d.source.startswith("python-docs:") for d in corpus.documents)
