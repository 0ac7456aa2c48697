"""Reads the configured sources into cleaned, paragraph-deduplicated `SourceText`s."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path

from tqdm import tqdm

from corpus_curator.config import (
    CuratorConfig,
    GutenbergSource,
    LocalSource,
    OfflineSource,
    UrlSource,
)
from corpus_curator.errors import SourceError
from corpus_curator.offline import load_offline
from corpus_curator.ports import Download, Fetcher
from corpus_curator.text import Section, SourceText, dedupe_paragraphs, normalize, strip_gutenberg

LOCAL_SUFFIXES = (".txt", ".md", ".text")
_CHARSET = re.compile(r"charset=([\w-]+)", re.I)


def decode(content: bytes, content_type: str = "") -> str:
    """Bytes to text: the declared charset, else UTF-8, else Latin-1 (old Gutenberg files)."""
    declared = _CHARSET.search(content_type)
    for encoding in ([declared.group(1)] if declared else []) + ["utf-8"]:
        try:
            return content.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return content.decode("latin-1")


class _TextExtractor(HTMLParser):
    """Visible text of an HTML page, with block elements turned into paragraph breaks."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
                         "blockquote", "section", "article", "tr", "dd", "dt"})  # fmt: skip
    _HIDDEN = frozenset({"script", "style", "noscript", "template", "head", "nav", "footer"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        if tag == "title":
            self._in_title = True
        if tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden:
            self._hidden -= 1
        if tag == "title":
            self._in_title = False
        if tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(title, text) of an HTML document."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return " ".join(parser.title.split()), "".join(parser.parts)


def gutenberg_text(book_id: int, download: Download) -> SourceText:
    """A Gutenberg plain-text book without its licence boilerplate."""
    book = strip_gutenberg(decode(download.content, download.content_type))
    title = book.title or f"Project Gutenberg book {book_id}"
    if book.author:
        title = f"{title}, by {book.author}"
    body = normalize(book.body, unwrap=True)
    if len(body) < 1000:
        raise SourceError(f"{download.url}: no book text after removing the Gutenberg header")
    return SourceText(id=f"gutenberg:{book_id}", title=title, sections=(Section(title, body),))


def url_text(download: Download) -> SourceText:
    """A web page or plain-text file as one section."""
    raw = decode(download.content, download.content_type)
    title = ""
    if "html" in download.content_type.lower() or raw.lstrip()[:1] == "<":
        title, raw = html_to_text(raw)
    title = title or download.url.rstrip("/").rsplit("/", 1)[-1] or download.url
    body = normalize(raw, unwrap=True)
    if not body.strip():
        raise SourceError(f"{download.url}: no text in the page")
    return SourceText(id=f"url:{download.url}", title=title, sections=(Section(title, body),))


def _local_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix.lower() in LOCAL_SUFFIXES)
        elif path.is_file():
            yield path
        else:
            raise SourceError(f"{path}: no such file or folder")


def local_texts(source: LocalSource) -> list[SourceText]:
    """Each file is one source; a Gutenberg-style file has its boilerplate removed."""
    texts = []
    for path in _local_files(source.paths):
        try:
            raw = decode(path.read_bytes())
        except OSError as exc:
            raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
        book = strip_gutenberg(raw)
        title = book.title or path.stem.replace("_", " ").replace("-", " ")
        body = normalize(book.body, unwrap=source.unwrap)
        if body.strip():
            texts.append(
                SourceText(id=f"file:{path.name}", title=title, sections=(Section(title, body),))
            )
    return texts


def _read_one(
    source: OfflineSource | GutenbergSource | UrlSource | LocalSource, fetcher: Fetcher | None
) -> list[SourceText]:
    if isinstance(source, OfflineSource):
        return load_offline(source)
    if isinstance(source, LocalSource):
        return local_texts(source)
    if fetcher is None:
        raise SourceError(f"a {source.kind} source needs network access, none configured")
    if isinstance(source, GutenbergSource):
        return [
            gutenberg_text(
                book_id,
                fetcher.fetch(
                    source.url_template.format(mirror=source.mirror.rstrip("/"), id=book_id)
                ),
            )
            for book_id in source.ids
        ]
    return [url_text(fetcher.fetch(url)) for url in source.urls]


def dedupe(texts: Iterable[SourceText]) -> list[SourceText]:
    """Drop repeated paragraphs across all texts, in order; drop texts left empty."""
    seen: set[str] = set()
    kept: list[SourceText] = []
    for text in texts:
        sections = []
        for section in text.sections:
            body = dedupe_paragraphs(section.text, seen)
            if body.strip():
                sections.append(Section(section.heading, body))
        if sections:
            kept.append(SourceText(text.id, text.title, tuple(sections)))
    return kept


def load_sources(
    config: CuratorConfig, fetcher: Fetcher | None, *, progress: bool = False
) -> list[SourceText]:
    """Every configured source, cleaned and deduplicated, in configuration order."""
    texts: list[SourceText] = []
    for source in tqdm(config.sources, desc="sources", unit="src", disable=not progress):
        texts.extend(_read_one(source, fetcher))
    ids = [t.id for t in texts]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SourceError(f"sources listed twice: {', '.join(duplicates)}")
    return dedupe(texts)
