"""One note -> its sentence, segment and note texts (docs/reference.md §1.4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clinicalnotebert.corpus.deid import clean_deid, clean_line
from clinicalnotebert.corpus.segmenter import is_separator_segment, segment_note


@dataclass(frozen=True)
class NoteTexts:
    """The sentences of each segment of one note; the three text variants derive from them."""

    segment_sentences: tuple[tuple[str, ...], ...]  # segments with no sentence left are dropped

    @property
    def sentences(self) -> list[str]:
        """Every non-empty sentence, in order."""
        return [sentence for sentences in self.segment_sentences for sentence in sentences]

    @property
    def segments(self) -> list[str]:
        """Per segment, its sentences joined by ' '."""
        return [" ".join(sentences) for sentences in self.segment_sentences]

    @property
    def note(self) -> str:
        """The segments joined by ' '."""
        return " ".join(self.segments)


def split_note(text: str, splitter: Callable[[str], list[str]]) -> NoteTexts:
    """De-id cleanup, segmentation, separator removal, sentence splitting and line cleaning."""
    segment_sentences = []
    for segment in segment_note(clean_deid(text)):
        if is_separator_segment(segment):
            continue
        sentences = tuple(line for line in map(clean_line, splitter(segment)) if line)
        if sentences:
            segment_sentences.append(sentences)
    return NoteTexts(tuple(segment_sentences))
