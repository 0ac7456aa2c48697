"""Command line: `corpus-curator build | upload | check`; one-line errors (bad input: exit 2)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import NoReturn

from tqdm import tqdm

from corpus_curator.build import build_corpus, write_corpus
from corpus_curator.config import CuratorConfig, UploadConfig, load_config
from corpus_curator.errors import ConfigError, CuratorError, FetchError, UploadError
from corpus_curator.fetch import HttpFetcher
from corpus_curator.sources import load_sources
from corpus_curator.upload import execute_upload, plan_upload
from demo_common.corpus import load_corpus
from demo_common.errors import DemoCommonError, ObjectStoreError
from demo_common.objectstore import (
    ACCESS_KEY_ENV,
    SECRET_KEY_ENV,
    LocalObjectStore,
    S3ObjectStore,
    S3Settings,
)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
PRESETS = ("offline", "gutenberg")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (and exit 2) like every other error."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="corpus-curator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    config_help = f"YAML file, or a preset: {', '.join(PRESETS)} (default offline)"

    build = sub.add_parser("build", help="build the corpus into a local folder")
    build.add_argument("--config", default="offline", help=config_help)
    build.add_argument("--output", type=Path, help="output folder (default: from the config)")
    build.add_argument("--seed", type=int, help="override the config's seed")
    build.add_argument("--no-progress", action="store_true", help="no progress bars")
    build.add_argument("--timings", type=Path, help="write stage durations (JSON) to this file")

    upload = sub.add_parser("upload", help="upload a built corpus to Spaces, skipping unchanged")
    upload.add_argument("--config", default="offline", help=config_help)
    upload.add_argument("--from", dest="source", type=Path, help="corpus folder (default: output)")
    upload.add_argument("--to", dest="url", help="s3://bucket/prefix (default: from the config)")
    upload.add_argument("--endpoint-url", help="S3 endpoint (default: the region's Spaces)")
    upload.add_argument("--force", action="store_true", help="upload even unchanged objects")
    upload.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    upload.add_argument("--no-progress", action="store_true", help="no progress bar")

    check = sub.add_parser("check", help="load a corpus (folder or s3:// URL) and summarize it")
    check.add_argument("corpus", help="folder or s3://bucket/prefix")
    check.add_argument("--config", default="offline", help=config_help)
    check.add_argument("--endpoint-url", help="S3 endpoint (default: the region's Spaces)")
    return parser


def resolve_config(value: str) -> CuratorConfig:
    """A preset name or a path to a YAML file."""
    if value in PRESETS:
        preset = resources.files("corpus_curator") / "configs" / f"{value}.yaml"
        return load_config(Path(str(preset)))
    return load_config(Path(value))


def s3_settings(
    upload: UploadConfig, url: str | None, endpoint_url: str | None, env: Mapping[str, str]
) -> S3Settings:
    """Settings for the bucket: config, then command line, keys from the environment."""
    settings = S3Settings(
        region=upload.region,
        bucket=upload.bucket,
        prefix=upload.prefix,
        endpoint_url=endpoint_url or upload.endpoint_url,
    ).with_env_keys(env)
    return settings.with_url(url) if url else settings


def _cmd_build(args: argparse.Namespace, config: CuratorConfig) -> int:
    if args.seed is not None:
        config = config.model_copy(update={"seed": args.seed})
    output: Path = args.output or config.output
    progress = not args.no_progress
    http = config.http
    timings_ns: dict[str, int] = {}
    started_ns = time.perf_counter_ns()
    with HttpFetcher(
        timeout_s=http.timeout_s,
        attempts=http.attempts,
        backoff_s=http.backoff_s,
        cache_dir=http.cache_dir,
    ) as fetcher:
        texts = load_sources(config, fetcher, progress=progress)
    timings_ns["sources"] = time.perf_counter_ns() - started_ns
    built = build_corpus(config, texts, progress=progress, timings_ns=timings_ns)
    write_started_ns = time.perf_counter_ns()
    store = LocalObjectStore(output)
    manifest = write_corpus(built, store, seed=config.seed, now=datetime.now(UTC))
    timings_ns["write"] = time.perf_counter_ns() - write_started_ns
    timings_ns["total"] = time.perf_counter_ns() - started_ns
    counts = ", ".join(f"{name} {entry.records}" for name, entry in manifest.files.items())
    print(f"corpus in {output}: {counts} (seed {manifest.seed})")
    if args.timings:
        tokens = sum(d.tokens for d in built.documents) + sum(p.tokens for p in built.passages)
        report: dict[str, object] = {f"{k}_s": round(ns / 1e9, 3) for k, ns in timings_ns.items()}
        report |= {"document_passage_tokens": tokens, "config": args.config, "cpus": os.cpu_count()}
        args.timings.parent.mkdir(parents=True, exist_ok=True)
        args.timings.write_text(json.dumps(report, indent=2) + "\n")
    return EXIT_OK


def _cmd_upload(args: argparse.Namespace, config: CuratorConfig, env: Mapping[str, str]) -> int:
    settings = s3_settings(config.upload, args.url, args.endpoint_url, env)
    if settings.access_key_id is None or settings.secret_access_key is None:
        raise ConfigError(f"set {ACCESS_KEY_ENV} and {SECRET_KEY_ENV} to upload")
    local = LocalObjectStore(args.source or config.output)
    remote = S3ObjectStore(settings)
    plan = plan_upload(local, remote, force=args.force)
    if args.dry_run:
        print("\n".join(["dry run, nothing changed:", *plan.describe()]))
        return EXIT_OK
    with tqdm(
        total=plan.upload_bytes, unit="B", unit_scale=True, desc="upload", disable=args.no_progress
    ) as bar:
        written = execute_upload(plan, local, remote, bar.update)
    print(f"{written} objects uploaded, {len(plan.objects) - len(plan.to_upload)} unchanged "
          f"-> {plan.destination}")  # fmt: skip
    return EXIT_OK


def _cmd_check(args: argparse.Namespace, config: CuratorConfig, env: Mapping[str, str]) -> int:
    settings = s3_settings(config.upload, None, args.endpoint_url, env)
    corpus = load_corpus(args.corpus, s3=settings)
    print(f"{corpus.location}: seed {corpus.manifest.seed}, created {corpus.manifest.created_at}")
    for bucket in corpus.buckets:
        docs = corpus.documents_in_bucket(bucket)
        sizes = [d.tokens for d in docs]
        print(f"  documents {bucket:>6}: {len(docs):>3}  tokens {min(sizes)}..{max(sizes)}")
    if corpus.passages:
        sizes = [p.tokens for p in corpus.passages]
        print(f"  passages: {len(sizes):>3}  tokens {min(sizes)}..{max(sizes)}")
    if corpus.prompts:
        expected = [p.expected_output_tokens for p in corpus.prompts]
        categories = sorted({p.category for p in corpus.prompts})
        print(f"  prompts: {len(expected):>3}  expected output {min(expected)}..{max(expected)}"
              f"  categories {', '.join(categories)}")  # fmt: skip
    return EXIT_OK


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Entry point; `env` defaults to the process environment (read here and nowhere else)."""
    environment = os.environ if env is None else env
    try:
        args = _parser().parse_args(argv)
        config = resolve_config(args.config)
        if args.command == "build":
            return _cmd_build(args, config)
        if args.command == "upload":
            return _cmd_upload(args, config, environment)
        return _cmd_check(args, config, environment)
    except (FetchError, UploadError, ObjectStoreError) as exc:
        print(f"corpus-curator: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (CuratorError, DemoCommonError) as exc:  # bad config, sources or corpus
        print(f"corpus-curator: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("corpus-curator: interrupted (rerun to resume)", file=sys.stderr)
        return 130
