"""Text cleaning: Gutenberg header/footer removal, whitespace, paragraph dedupe, sentence pieces.

Sentence pieces are exact substrings (trailing whitespace included), so joining consecutive
pieces gives back the cleaned text: every cut the curator makes is at a sentence boundary.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

# "*** START OF THE PROJECT GUTENBERG EBOOK PRIDE AND PREJUDICE ***" (older files say THIS)
_GUTENBERG_START = re.compile(
    r"^\s*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*?\*{3}\s*$", re.I | re.M
)
_GUTENBERG_END = re.compile(
    r"^\s*\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*$", re.I | re.M
)
_GUTENBERG_FIELD = re.compile(r"^(Title|Author):[ \t]*(.+?)\s*$", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[^\sa-z])")
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "Mt.", "e.g.", "i.e.", "etc.", "vs.", "No.")
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
_SPACES = re.compile(r" {2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DEDUPE_MIN_CHARS = 80  # shorter paragraphs (headings, "Note:") may repeat legitimately
MAX_PIECE_CHARS = 600  # <= ~200 tokens even for code: cuts can land within a tolerance


@dataclass(frozen=True)
class Section:
    """A titled stretch of a source (a module's docs, a reference chapter, a whole book)."""

    heading: str
    text: str


@dataclass(frozen=True)
class SourceText:
    """One cleaned source; `id` is the provenance prefix, e.g. 'gutenberg:1342'."""

    id: str
    title: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class GutenbergBook:
    """A Gutenberg plain-text file with its boilerplate removed."""

    title: str
    author: str
    body: str


def strip_gutenberg(raw: str) -> GutenbergBook:
    """Drop the licence header and footer around the book; read Title/Author from the header.

    Files without the markers are kept whole (some mirrors strip them already).
    """
    text = raw.lstrip("\ufeff")
    start = _GUTENBERG_START.search(text)
    header = text[: start.start()] if start else ""
    body = text[start.end() :] if start else text
    end = _GUTENBERG_END.search(body)
    if end:
        body = body[: end.start()]
    fields = {m.group(1).lower(): m.group(2) for m in _GUTENBERG_FIELD.finditer(header)}
    return GutenbergBook(fields.get("title", ""), fields.get("author", ""), body)


def normalize(text: str, *, unwrap: bool) -> str:
    """Unicode NFC, LF newlines, no control characters or trailing spaces, single blank lines.

    With `unwrap`, lines inside a paragraph are joined (hard-wrapped prose); without it the
    line structure (code, grammar rules in documentation) is kept.
    """
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = _CONTROL.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    paragraphs = [p.strip("\n") for p in _BLANK_LINES.split(text)]
    if unwrap:
        joined = (" ".join(line.strip() for line in p.split("\n")) for p in paragraphs)
        paragraphs = [_SPACES.sub(" ", p) for p in joined]
    return "\n\n".join(p for p in paragraphs if p.strip()).strip("\n") + "\n"


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs of normalized text (without the separators)."""
    return [p.strip("\n") for p in text.split("\n\n") if p.strip()]


def _fingerprint(paragraph: str) -> str:
    folded = " ".join(paragraph.lower().split())
    return hashlib.sha256(folded.encode()).hexdigest()


def dedupe_paragraphs(text: str, seen: set[str]) -> str:
    """Drop paragraphs already in `seen` (case and spacing ignored); updates `seen`."""
    kept: list[str] = []
    for paragraph in paragraphs(text):
        if len(paragraph) >= DEDUPE_MIN_CHARS:
            key = _fingerprint(paragraph)
            if key in seen:
                continue
            seen.add(key)
        kept.append(paragraph)
    return "\n\n".join(kept) + "\n" if kept else ""


def _split_long(piece: str, separators: tuple[str, ...] = ("\n", " ")) -> list[str]:
    """Split an over-long piece at line breaks, then spaces, then anywhere (code, tables)."""
    if len(piece) <= MAX_PIECE_CHARS:
        return [piece]
    if not separators:
        return [piece[i : i + MAX_PIECE_CHARS] for i in range(0, len(piece), MAX_PIECE_CHARS)]
    separator, rest = separators[0], separators[1:]
    parts = piece.split(separator)
    chunks: list[str] = []
    current = ""
    for i, part in enumerate(parts):
        token = part + (separator if i < len(parts) - 1 else "")
        if current and len(current) + len(token) > MAX_PIECE_CHARS:
            chunks.append(current)
            current = ""
        current += token
    if current:
        chunks.append(current)
    return [p for chunk in chunks for p in _split_long(chunk, rest)]


def sentence_pieces(text: str) -> list[str]:
    """Cut `text` after each sentence end and paragraph break; ''.join(result) == text."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.end()]
        if candidate.rstrip().endswith(_ABBREVIATIONS):
            continue
        pieces.append(candidate)
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    # paragraph breaks are boundaries too, even without final punctuation (headings, lists)
    split: list[str] = []
    for piece in pieces:
        parts = piece.split("\n\n")
        for i, part in enumerate(parts):
            chunk = part + ("\n\n" if i < len(parts) - 1 else "")
            if chunk:
                split.extend(_split_long(chunk))
    return split
