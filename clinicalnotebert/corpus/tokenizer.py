"""The tokenizer prepare measures and encodes with: the configured one, or WordPiece trained now on
the very notes prepare keeps (same filters, de-id cleanup and dedup). ``task=tokenizer`` trains
on the same texts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from clinicalnotebert.config import PrepareConfig, TokenizerConfig
from clinicalnotebert.corpus.deid import clean_deid
from clinicalnotebert.corpus.prepare import NoteFilter, PrepareStats, kept_notes
from clinicalnotebert.models.tokenizer import load_tokenizer, save_tokenizer, train_wordpiece


@dataclass(frozen=True)
class TokenizerRef:
    resolved: str  # what workers load
    # what meta.json keeps: "../tokenizer" for one trained in this run, else the path or hub id
    recorded: str


def note_training_texts(sources, prep: PrepareConfig, excluded) -> Iterator[str]:
    """De-identified note texts that prepare would keep (same filters, dedup included)."""
    for note in kept_notes(sources, NoteFilter(prep, excluded), PrepareStats()):
        yield clean_deid(note.text)


def train_and_save(settings: TokenizerConfig, texts, out_dir: Path):
    limited = islice(texts, settings.max_training_lines)
    tokenizer = train_wordpiece(
        limited, settings.vocab_size, settings.min_frequency, settings.lowercase
    )
    save_tokenizer(tokenizer, out_dir / "tokenizer")
    return tokenizer


def tokenizer_for_run(
    settings: TokenizerConfig, prep: PrepareConfig, out_dir: Path, sources, excluded
) -> tuple[object, TokenizerRef]:
    """The configured tokenizer, or one trained now on the notes and saved in the run dir."""
    if settings.path:
        path = str(settings.path)
        local = Path(path).expanduser()
        ref = str(local.resolve()) if local.is_dir() else path
        return load_tokenizer(path), TokenizerRef(ref, ref)
    texts = note_training_texts(sources, prep, excluded)
    tokenizer = train_and_save(settings, texts, out_dir)
    return tokenizer, TokenizerRef(str((out_dir / "tokenizer").resolve()), "../tokenizer")
