"""Cuts sources into pieces of an exact Llama-3 token size, always at sentence boundaries.

Every sentence piece gets a token estimate (batch-encoded once); a cut takes consecutive
pieces from a source's cursor until the estimate reaches the target, then the real count of
the joined text decides, adding or dropping a piece until it lies within the tolerance.
Sources are consumed front to back, so no two outputs share text.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from tqdm import tqdm

from corpus_curator.errors import BuildError
from corpus_curator.text import SourceText, sentence_pieces
from demo_common.tokenizer import count_tokens, llama3_tokenizer

_BATCH = 2048
_MAX_SKIPPED_PIECES = 50


@dataclass(frozen=True)
class Piece:
    """One sentence (or paragraph tail) with its estimated token count."""

    text: str
    section: int
    start_char: int
    tokens: int


@dataclass(frozen=True)
class Cut:
    """A stretch of a source measured exactly."""

    source: SourceText
    text: str
    tokens: int
    start_char: int
    end_char: int
    topic: str

    @property
    def provenance(self) -> str:
        """e.g. 'gutenberg:1342@10234-71200' (character offsets in the cleaned text)."""
        return f"{self.source.id}@{self.start_char}-{self.end_char}"


@dataclass
class SourcePool:
    """The pieces of one source and how far they have been used."""

    source: SourceText
    pieces: list[Piece]
    cursor: int = 0
    _suffix_tokens: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        total = 0
        self._suffix_tokens = [0] * (len(self.pieces) + 1)
        for i in range(len(self.pieces) - 1, -1, -1):
            total += self.pieces[i].tokens
            self._suffix_tokens[i] = total

    @property
    def remaining_tokens(self) -> int:
        """Estimated tokens not yet used."""
        return self._suffix_tokens[self.cursor]

    def _text(self, start: int, end: int) -> str:
        return "".join(p.text for p in self.pieces[start:end]).strip()

    def _topic(self, start: int, end: int) -> str:
        weights: Counter[int] = Counter()
        for piece in self.pieces[start:end]:
            weights[piece.section] += piece.tokens
        section = min(weights, key=lambda s: (-weights[s], s))
        return self.source.sections[section].heading

    def _starts_paragraph(self, index: int) -> bool:
        return index == 0 or self.pieces[index - 1].text.endswith("\n\n")

    def _fit(self, start: int, low: float, high: float, target: int) -> tuple[int, int] | None:
        """(end, tokens) of a cut starting at piece `start` that lies in [low, high], if any."""
        end, estimate = start, 0
        while end < len(self.pieces) and estimate + self.pieces[end].tokens <= target:
            estimate += self.pieces[end].tokens
            end += 1
        if end < len(self.pieces) and target - estimate > self.pieces[end].tokens / 2:
            end += 1  # the next piece brings the estimate closer to the target
        tried: set[int] = set()
        while start < end <= len(self.pieces) and end not in tried:
            tried.add(end)
            tokens = count_tokens(self._text(start, end))
            if tokens > high:
                end -= 1
            elif tokens < low:
                end += 1
            else:
                return end, tokens
        return None  # ran out of text, or one piece jumps across the whole tolerance band

    def take(self, target: int, tolerance: float) -> Cut | None:
        """The next cut of `target` ± `tolerance` tokens, or None if this source cannot give it.

        If no cut fits from the cursor (a long piece straddles the band), the start moves on
        by a piece at a time, sacrificing a little text.
        """
        low, high = target * (1 - tolerance), target * (1 + tolerance)
        last_start = min(len(self.pieces), self.cursor + _MAX_SKIPPED_PIECES)
        candidates = range(self.cursor, last_start)
        # prefer starting at a paragraph (skipping the rest of the current one)
        starts = sorted(candidates, key=lambda i: (not self._starts_paragraph(i), i))
        for start in starts:
            if self._suffix_tokens[start] < low:
                continue
            fit = self._fit(start, low, high, target)
            if fit is None:
                continue
            end, tokens = fit
            self.cursor = end
            first, last = self.pieces[start], self.pieces[end - 1]
            return Cut(
                source=self.source,
                text=self._text(start, end),
                tokens=tokens,
                start_char=first.start_char,
                end_char=last.start_char + len(last.text.rstrip()),
                topic=self._topic(start, end),
            )
        return None


def make_pools(texts: list[SourceText], *, progress: bool = False) -> list[SourcePool]:
    """Split every source into sentence pieces and estimate their tokens in batches."""
    tokenizer = llama3_tokenizer()
    pools = []
    for source in texts:
        raw: list[tuple[str, int, int]] = []
        offset = 0
        for index, section in enumerate(source.sections):
            for piece in sentence_pieces(section.text + "\n"):
                raw.append((piece, index, offset))
                offset += len(piece)
        counts: list[int] = []
        for i in tqdm(
            range(0, len(raw), _BATCH),
            desc=f"measure {source.id}",
            unit="batch",
            disable=not progress,
            leave=False,
        ):
            batch = [p[0] for p in raw[i : i + _BATCH]]
            counts.extend(
                len(e.ids) for e in tokenizer.encode_batch(batch, add_special_tokens=False)
            )
        pieces = [Piece(t, s, o, n) for (t, s, o), n in zip(raw, counts, strict=True)]
        pools.append(SourcePool(source, pieces))
    return pools


def take_from_any(
    pools: list[SourcePool], target: int, tolerance: float, rng: random.Random, what: str
) -> Cut:
    """A cut from a source chosen at random, weighted by what each has left."""
    candidates = [p for p in pools if p.remaining_tokens >= target * (1 - tolerance)]
    while candidates:
        weights = [p.remaining_tokens for p in candidates]
        pool = rng.choices(candidates, weights=weights)[0]
        cut = pool.take(target, tolerance)
        if cut is not None:
            return cut
        candidates.remove(pool)
    left = sum(p.remaining_tokens for p in pools)
    raise BuildError(
        f"the sources cannot supply {what} of {target} ± {tolerance:.0%} tokens "
        f"({left} tokens left over all sources, at most "
        f"{max((p.remaining_tokens for p in pools), default=0)} in one): add sources or ask "
        "for fewer or smaller outputs"
    )
