"""Cleaning: Gutenberg boilerplate, whitespace, paragraph dedupe, sentence-boundary pieces."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from corpus_curator.text import (
    MAX_PIECE_CHARS,
    dedupe_paragraphs,
    normalize,
    sentence_pieces,
    strip_gutenberg,
)


def test_gutenberg_header_and_footer_removed(make_book: Callable[..., bytes]) -> None:
    raw = make_book(1342, "Pride and Prejudice", "Jane Austen", "It is a truth.\r\n").decode()
    book = strip_gutenberg(raw)
    assert (book.title, book.author) == ("Pride and Prejudice", "Jane Austen")
    assert book.body.strip() == "It is a truth."
    assert "PROJECT GUTENBERG" not in book.body
    assert "LICENSE" not in book.body


def test_older_this_ebook_markers_are_recognised() -> None:
    raw = (
        "Title: Old\n*** START OF THIS PROJECT GUTENBERG EBOOK OLD ***\nBody text.\n"
        "*** END OF THIS PROJECT GUTENBERG EBOOK OLD ***\nlicence"
    )
    book = strip_gutenberg(raw)
    assert book.title == "Old"
    assert book.body.strip() == "Body text."


def test_text_without_markers_is_kept_whole() -> None:
    assert strip_gutenberg("Just a text.").body == "Just a text."


def test_normalize_unwraps_prose_and_collapses_whitespace() -> None:
    raw = "\ufeffFirst  line\r\nof a para.\x07\r\n\r\n\r\n\r\n\tSecond   para.  \r\n"
    assert normalize(raw, unwrap=True) == "First line of a para.\n\nSecond para.\n"


def test_normalize_keeps_line_structure_of_documentation() -> None:
    raw = "Grammar:\n\n   stmt ::= a\n   expr ::= b  \n\n\n\nEnd."
    assert normalize(raw, unwrap=False) == "Grammar:\n\n   stmt ::= a\n   expr ::= b\n\nEnd.\n"


def test_dedupe_drops_repeated_long_paragraphs_only() -> None:
    long_a = "A paragraph long enough to be worth deduplicating across the whole corpus, surely."
    text = f"{long_a}\n\nNote:\n\n{long_a.upper()}\n\nNote:\n"
    seen: set[str] = set()
    assert dedupe_paragraphs(text, seen) == f"{long_a}\n\nNote:\n\nNote:\n"
    assert dedupe_paragraphs(f"{long_a}\n", seen) == ""  # seen carries across sources


@pytest.mark.parametrize(
    "text",
    [
        "One. Two? Three!\n\nFour “quoted.” Five (aside.) six continues.\n",
        "Mr. Darcy met Dr. Watson, e.g. at noon. Then they left.\n",
        "No final punctuation\n\nHeading\n\nA sentence.",
        "",
    ],
)
def test_pieces_join_back_to_the_text(text: str) -> None:
    assert "".join(sentence_pieces(text)) == text


def test_pieces_end_at_sentence_or_paragraph_boundaries() -> None:
    pieces = sentence_pieces("Mr. Darcy smiled. She did not! Why?\n\nHeading\n\nEnd.")
    assert pieces == ["Mr. Darcy smiled. ", "She did not! ", "Why?\n\n", "Heading\n\n", "End."]


def test_over_long_sentences_are_split_at_lines_then_spaces() -> None:
    code = "\n".join(f"    value_{i} = compute({i})" for i in range(200))
    words = " ".join(f"word{i}" for i in range(600))
    for text in (code, words, "x" * 5000):
        pieces = sentence_pieces(text)
        assert "".join(pieces) == text
        assert max(len(p) for p in pieces) <= MAX_PIECE_CHARS
