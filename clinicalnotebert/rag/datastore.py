"""Datastore chunks (docs/reference.md §5.2): the segmenter's segments of other patients' notes.

Per note: ``clean_deid`` -> ``segment_note`` -> drop separator segments -> ``clean_line``; a
segment is kept when it has more than ``min_words`` words and cut to its first ``max_words``;
exact duplicates are dropped and the chunks are sorted longest first (the reference's order).
Chunks stream into an Arrow file, so a datastore of all MIMIC-III never sits in memory.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clinicalnotebert.corpus.deid import clean_deid, clean_line
from clinicalnotebert.corpus.prepare import text_hash
from clinicalnotebert.corpus.segmenter import is_separator_segment, segment_note
from clinicalnotebert.errors import UserError

FINGERPRINT_BATCH = 10_000


@dataclass(frozen=True)
class WordBand:
    min_words: int  # a chunk has MORE than this many words
    max_words: int  # and is cut to its first max_words


def word_band(cfg) -> WordBand:
    band = WordBand(int(cfg.min_words), int(cfg.max_words))
    if not 0 <= band.min_words < band.max_words:
        raise UserError(
            f"rag.chunk_words: min_words ({band.min_words}) must be >= 0 and below "
            f"max_words ({band.max_words})"
        )
    return band


def note_chunks(text: str, band: WordBand) -> list[str]:
    """The chunks one note gives (whitespace normalised to single spaces)."""
    chunks = []
    for segment in segment_note(clean_deid(text)):
        if is_separator_segment(segment):
            continue
        words = clean_line(segment).split()
        if len(words) > band.min_words:
            chunks.append(" ".join(words[: band.max_words]))
    return chunks


def chunk_notes(texts: list[str], band: WordBand) -> list[str]:
    """Worker side: the chunks of a batch of notes, in note order."""
    return [chunk for text in texts for chunk in note_chunks(text, band)]


class ChunkWriter:
    """Streams unique chunks into an Arrow file; :meth:`save` writes them longest first."""

    def __init__(self, staging: Path):
        from datasets import Features, Value
        from datasets.arrow_writer import ArrowWriter

        self.features = Features({"text": Value("string"), "chars": Value("int64")})
        self.staging = staging
        staging.mkdir(parents=True, exist_ok=True)
        self.writer = ArrowWriter(features=self.features, path=str(staging / "chunks.arrow"))
        self.seen: set[int] = set()

    def add(self, chunks: Iterable[str]) -> None:
        fresh = []
        for chunk in chunks:
            digest = text_hash(chunk)
            if digest not in self.seen:
                self.seen.add(digest)
                fresh.append(chunk)
        if fresh:
            self.writer.write_batch({"text": fresh, "chars": [len(c) for c in fresh]})

    def save(self, target: Path, max_chunks: int | None, seed: int) -> int:
        """Save the chunks (column ``text``) sorted by length, longest first; return the count.
        ``max_chunks`` keeps a seeded random sample of that many (quick runs, demos)."""
        from datasets import Dataset, DatasetInfo

        self.writer.finalize()
        chunks = Dataset.from_file(self.writer._path, info=DatasetInfo(features=self.features))
        chars = chunks.data.column("chars").to_numpy()
        rows = np.arange(len(chunks))
        if max_chunks is not None and max_chunks < len(chunks):
            rows = np.sort(
                np.random.default_rng(seed).choice(len(chunks), max_chunks, replace=False)
            )
        chunks = chunks.select(rows[np.argsort(-chars[rows], kind="stable")])
        chunks.remove_columns("chars").save_to_disk(str(target), num_shards=1)
        count = len(chunks)
        del chunks
        shutil.rmtree(self.staging, ignore_errors=True)
        return count


def load_chunks(path: Path):
    from datasets import load_from_disk

    return load_from_disk(str(path))


def chunks_fingerprint(chunks) -> str:
    """A digest of every chunk text in datastore order: the index is valid for exactly these."""
    digest = hashlib.blake2b(digest_size=16)
    for batch in chunks.iter(batch_size=FINGERPRINT_BATCH):
        for text in batch["text"]:
            digest.update(text.encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()
