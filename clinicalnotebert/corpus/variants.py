"""Token-length rules that turn tokenised lines into the sentence / segment / note variants (docs/reference.md §1.5).

Bands count ``[CLS]`` and ``[SEP]``: a band ``min-max`` keeps at most ``max - 2`` body tokens.
Each rule takes token ids and character end offsets of a cleaned line and returns pieces
(``ids`` body without specials, ``text`` the exact span of the line those ids cover).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Band:
    min_tokens: int
    max_tokens: int

    @property
    def max_body(self) -> int:
        """Room left for body tokens once ``[CLS]`` and ``[SEP]`` are added (MAX_eff)."""
        return self.max_tokens - 2


@dataclass(frozen=True)
class Line:
    """A tokenised cleaned line: ids and the character offsets of each token."""

    ids: list[int]
    starts: list[int]
    ends: list[int]
    text: str

    def head(self, n: int) -> Piece:
        """The first ``n`` tokens and the text they cover."""
        n = min(n, len(self.ids))
        return Piece(self.ids[:n], self.text[: self.ends[n - 1]] if n else "")

    def span(self, start: int, stop: int) -> Piece:
        return Piece(self.ids[start:stop], self.text[self.starts[start] : self.ends[stop - 1]])


@dataclass(frozen=True)
class Piece:
    ids: list[int]
    text: str


def sentence_piece(line: Line, band: Band) -> Piece | None:
    """sentence: keep a line of at least ``min_tokens`` body tokens, truncated to the band."""
    if len(line.ids) < band.min_tokens:
        return None
    return line.head(band.max_body)


def note_chunk_bounds(length: int, band: Band) -> list[tuple[int, int]]:
    """note: ``length // max_body`` consecutive full chunks, plus the *last* ``remainder`` tokens
    when ``remainder > min_tokens``; notes shorter than ``min_tokens`` give nothing."""
    if length < band.min_tokens:
        return []
    size = band.max_body
    bounds = [(i * size, (i + 1) * size) for i in range(length // size)]
    remainder = length % size
    if remainder > band.min_tokens:
        bounds.append((length - remainder, length))
    return bounds


def note_pieces(line: Line, band: Band) -> list[Piece]:
    return [line.span(a, b) for a, b in note_chunk_bounds(len(line.ids), band)]


@dataclass
class SegmentGrouper:
    """segment: long lines pass alone; short ones (>= ``min_piece``) accumulate until they exceed
    ``band.min_tokens``. A long line resets the buffer, discarding pending pieces (the reference's
    behaviour). ``reset_every`` lines, the pending buffer is dropped as the reference did at the end
    of each map batch (1,000 lines) (a [QUIRK]; ``None`` groups across the whole stream)."""

    band: Band
    min_piece: int  # prepare.min_sentence_tokens
    reset_every: int | None  # prepare.quirks.map_batch_size, or None
    _ids: list[int] = field(default_factory=list)
    _texts: list[str] = field(default_factory=list)
    _seen: int = 0

    def add(self, line: Line) -> Piece | None:
        emitted = None
        if len(line.ids) >= self.band.min_tokens:
            self._clear()
            emitted = line.head(self.band.max_body)
        elif len(line.ids) >= self.min_piece:
            emitted = self._buffer(line)
        self._seen += 1
        if self.reset_every and self._seen % self.reset_every == 0:
            self._clear()
        return emitted

    def _buffer(self, line: Line) -> Piece | None:
        room = self.band.max_body - len(self._ids)
        # Text follows the ids exactly: a piece cut by truncation keeps only its covered span.
        if room > 0:
            self._texts.append(line.head(room).text)
        self._ids.extend(line.ids)
        if len(self._ids) <= self.band.min_tokens:
            return None
        piece = Piece(self._ids[: self.band.max_body], " ".join(self._texts))
        self._clear()
        return piece

    def _clear(self) -> None:
        self._ids, self._texts = [], []


def join_lines(lines: list[Line]) -> Line:
    """The tokenised ``' '.join`` of ``lines``, built from the parts' tokens without re-tokenising.

    Valid for tokenizers that split words on whitespace before the subword model (BERT's
    WordPiece): a joining space never merges or splits tokens, so only offsets shift.
    """
    ids: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    shift = 0
    for line in lines:
        ids.extend(line.ids)
        starts.extend(start + shift for start in line.starts)
        ends.extend(end + shift for end in line.ends)
        shift += len(line.text) + 1
    return Line(ids, starts, ends, " ".join(line.text for line in lines))
