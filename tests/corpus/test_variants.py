"""The token rules of docs/reference.md §1.5 at their exact boundaries, with hand-checked expectations."""

from clinicalnotebert.corpus.variants import (
    Band,
    Line,
    SegmentGrouper,
    note_chunk_bounds,
    note_pieces,
    sentence_piece,
)

SENTENCE = Band(16, 128)
SEGMENT = Band(128, 256)
NOTE = Band(256, 512)


def line_of(n: int, start: int = 0) -> Line:
    """A line of n one-character words 'a b c ...': token i covers characters [2i, 2i+1)."""
    words = [chr(ord("a") + (i % 26)) for i in range(n)]
    return Line(
        ids=list(range(start, start + n)),
        starts=[2 * i for i in range(n)],
        ends=[2 * i + 1 for i in range(n)],
        text=" ".join(words),
    )


def test_band_keeps_room_for_cls_and_sep():
    assert SENTENCE.max_body == 126 and SEGMENT.max_body == 254 and NOTE.max_body == 510


def test_sentence_min_boundary_is_inclusive():
    assert sentence_piece(line_of(15), SENTENCE) is None
    piece = sentence_piece(line_of(16), SENTENCE)
    assert piece.ids == list(range(16))
    assert piece.text == line_of(16).text


def test_sentence_truncates_to_126_body_tokens_and_cuts_text_there():
    piece = sentence_piece(line_of(200), SENTENCE)
    assert len(piece.ids) == 126
    # 126 one-letter words joined by spaces: 126 letters + 125 spaces.
    assert len(piece.text) == 251 and piece.text.endswith(line_of(200).text[250])


def test_note_chunks_hand_checked():
    assert note_chunk_bounds(255, NOTE) == []  # below MIN
    assert note_chunk_bounds(256, NOTE) == []  # remainder 256 is not > 256
    assert note_chunk_bounds(257, NOTE) == [(0, 257)]
    assert note_chunk_bounds(510, NOTE) == [(0, 510)]  # exactly one full chunk, remainder 0
    assert note_chunk_bounds(600, NOTE) == [(0, 510)]  # remainder 90 dropped
    assert note_chunk_bounds(766, NOTE) == [(0, 510)]  # remainder 256 not > 256
    assert note_chunk_bounds(767, NOTE) == [(0, 510), (510, 767)]
    assert note_chunk_bounds(1300, NOTE) == [(0, 510), (510, 1020), (1020, 1300)]


def test_note_pieces_carry_exact_text_spans():
    line = line_of(767)
    first, last = note_pieces(line, NOTE)
    assert first.ids == list(range(510)) and last.ids == list(range(510, 767))
    assert first.text == line.text[: 2 * 509 + 1]
    assert last.text == line.text[2 * 510 : 2 * 766 + 1]


def test_segment_long_line_passes_alone_and_truncates():
    grouper = SegmentGrouper(SEGMENT, min_piece=16, reset_every=None)
    assert grouper.add(line_of(127)) is None  # buffered (16 <= 127 < 128)
    piece = grouper.add(line_of(300, start=1000))  # >= 128: emitted alone, buffer discarded
    assert piece.ids == list(range(1000, 1254))
    # The discarded 127 tokens are gone: a short line now starts a fresh buffer.
    assert grouper.add(line_of(100)) is None


def test_segment_short_lines_group_until_more_than_min():
    grouper = SegmentGrouper(SEGMENT, min_piece=16, reset_every=None)
    assert grouper.add(line_of(15)) is None  # < 16: ignored, not buffered
    assert grouper.add(line_of(64, start=0)) is None  # buffer 64
    assert grouper.add(line_of(64, start=100)) is None  # buffer 128: not > 128
    piece = grouper.add(line_of(20, start=200))  # buffer 148 > 128: emitted
    assert piece.ids == [*range(64), *range(100, 164), *range(200, 220)]
    assert piece.text == " ".join([line_of(64).text, line_of(64).text, line_of(20).text])


def test_segment_group_of_two_127_token_lines_is_254_tokens():
    grouper = SegmentGrouper(SEGMENT, min_piece=16, reset_every=None)
    assert grouper.add(line_of(127)) is None
    assert grouper.add(line_of(1)) is None  # < 16: ignored
    piece = grouper.add(line_of(127, start=500))  # 254 > 128: emitted, exactly max_body
    assert piece.ids == [*range(127), *range(500, 627)]


def test_segment_truncation_cuts_the_last_text_piece():
    grouper = SegmentGrouper(Band(128, 132), min_piece=16, reset_every=None)  # max_body 130
    grouper.add(line_of(100))
    piece = grouper.add(line_of(50, start=900))  # 150 > 128, truncated to 130: 30 of the 50
    assert piece.ids == [*range(100), *range(900, 930)]
    assert piece.text == line_of(100).text + " " + line_of(50).text[: 2 * 29 + 1]


def test_segment_buffer_dropped_every_map_batch_quirk():
    # reset_every=3: the pending buffer is dropped after every 3rd line, as the reference did
    # at the end of each 1,000-line map batch.
    quirky = SegmentGrouper(SEGMENT, min_piece=16, reset_every=3)
    fixed = SegmentGrouper(SEGMENT, min_piece=16, reset_every=None)
    lines = [line_of(10), line_of(60), line_of(60), line_of(60)]
    assert [quirky.add(x) for x in lines] == [None, None, None, None]
    emitted = [fixed.add(x) for x in lines]
    assert emitted[:3] == [None, None, None] and len(emitted[3].ids) == 180
